"""Stopping in the middle of work that waits for a peer (recon's day-end check, reporting's valuation):
what a peer call raises when the service shuts down."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


class Stopped(Exception):
    """The service is shutting down in the middle of a day end's work: nothing of it was committed."""


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


async def unless_stopped(stopping: asyncio.Event, call: Callable[[], Awaitable[T]]) -> T:
    """The result of `call()` (a peer's RPC), unless the service stops first: then the call is cancelled
    and Stopped raised, so no call to a slow or stuck peer holds shutdown until its deadline."""
    check_running(stopping)
    answer = asyncio.ensure_future(call())
    stopped = asyncio.ensure_future(stopping.wait())
    try:
        await asyncio.wait((answer, stopped), return_when=asyncio.FIRST_COMPLETED)
    except BaseException:
        answer.cancel()
        raise
    finally:
        stopped.cancel()
    if answer.done():
        return answer.result()
    answer.cancel()  # cancels the RPC
    await asyncio.wait((answer,))
    raise Stopped
