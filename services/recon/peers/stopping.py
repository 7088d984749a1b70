"""Stopping in the middle of a check: what a peer call raises when the service shuts down."""

from __future__ import annotations

import asyncio


class Stopped(Exception):
    """The service is shutting down in the middle of a check: nothing of it was committed."""


async def pause(stopping: asyncio.Event, seconds: float) -> None:
    """Sleep, unless the service stops first: then Stopped (nothing of the check is committed)."""
    try:
        async with asyncio.timeout(seconds):
            await stopping.wait()
    except TimeoutError:
        return
    raise Stopped


def check_running(stopping: asyncio.Event) -> None:
    if stopping.is_set():
        raise Stopped
