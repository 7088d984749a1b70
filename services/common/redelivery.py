"""What a service owes another (the records in its outbox, a break it owes recon) reaches it even
when the last commit of a run could not deliver it.

A service delivers right after each commit. When that fails (the event log or the peer is down) the
items stay in the service's store, and a later commit would carry them; but a run may have no later
commit. `Redelivery` retries, with exponential backoff, until one attempt delivers everything. ledger,
dq and documents use it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)


class Redelivery:
    """Runs `attempt` (True when nothing is left owed) whenever asked, and again with exponential
    backoff, from `initial_s` to `max_s`, for as long as it leaves something owed."""

    def __init__(
        self,
        what: str,
        attempt: Callable[[], Awaitable[bool]],
        *,
        initial_s: float = 0.25,
        max_s: float = 5.0,
    ) -> None:
        self.what = what
        self._attempt = attempt
        self._initial_s = initial_s
        self._max_s = max_s
        self._asked = asyncio.Event()
        self.retries = 0  # attempts made after a failed one (shown in logs and tests)

    def ask(self) -> None:
        """Attempt a delivery soon (after a commit, or once one that ran inline failed)."""
        self._asked.set()

    async def run(self, stopping: asyncio.Event) -> None:
        """Until stopping: an attempt whenever asked, retried until it leaves nothing owed."""
        delay = self._initial_s
        failing = False
        while not stopping.is_set():
            if not await _first(self._asked, stopping):
                return
            self._asked.clear()
            try:
                done = await self._attempt()
            except Exception:  # a bug in one attempt must not end the retries of the rest
                log.exception("delivering %s failed; it is retried", self.what)
                done = False
            if done:
                if failing:
                    log.info("%s delivered after %d retries", self.what, self.retries)
                delay, failing = self._initial_s, False
                continue
            failing = True
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), timeout=delay)
            delay = min(self._max_s, delay * 2)
            self.retries += 1
            self._asked.set()


async def _first(asked: asyncio.Event, stopping: asyncio.Event) -> bool:
    """Wait for either event: True when asked (and not stopping)."""
    waiters = {asyncio.ensure_future(asked.wait()), asyncio.ensure_future(stopping.wait())}
    try:
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
    return not stopping.is_set()
