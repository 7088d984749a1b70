"""Pages of the event log that the subscribers catching up share.

A subscriber below the in-memory tail (hub.py) reads the event log a page at a time. Followers
started together (`opsuite up` starts them at once) catch up side by side, so each read the same
pages from the log, one SQLite query and one copy of the frames per subscriber. Pages here start at
fixed seqs (1, 1 + PAGE, 1 + 2 x PAGE, ...), whatever a subscriber's cursor, so subscribers near one
another ask for the same page: it is read once (concurrent asks wait for the same read) and the last
few complete pages are kept. A page is kept only when it is complete: its events never change once
in the log, so a kept page never goes stale. The bound is a few pages (a few MiB), not the history.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Callable

from services.common.eventlog import FramedRun

PAGE = 4_096  # events a page: ~1.2 MiB of frames at ~290 bytes an event
# Two: three put market's peak over a decade's suite run at 145 MiB (bench/README.md), near the
# 150 MiB its memory aims under.
KEPT_PAGES = 2


class LogPages:
    """read(first_seq, limit): the log's events from first_seq, at most limit, as one run."""

    def __init__(
        self, read: Callable[[int, int], FramedRun], page: int = PAGE, kept: int = KEPT_PAGES
    ) -> None:
        self._read = read
        self.page = page
        self.kept = kept
        self._pages: OrderedDict[int, FramedRun] = OrderedDict()
        self._reading: dict[int, asyncio.Future[FramedRun]] = {}

    def first_of(self, seq: int) -> int:
        """The first seq of the page that holds seq."""
        return seq - (seq - 1) % self.page

    async def page_at(self, seq: int) -> FramedRun:
        """The page that holds seq (it may start before seq); the log's errors as they are."""
        first = self.first_of(seq)
        kept = self._pages.get(first)
        if kept is not None:
            self._pages.move_to_end(first)
            return kept
        reading = self._reading.get(first)
        if reading is None:
            reading = asyncio.ensure_future(asyncio.to_thread(self._read, first, self.page))
            self._reading[first] = reading
            reading.add_done_callback(lambda done: self._finished(first, done))
        # Shielded: a subscriber that goes away does not cancel the read the others wait for.
        return await asyncio.shield(reading)

    def _finished(self, first: int, done: asyncio.Future[FramedRun]) -> None:
        self._reading.pop(first, None)
        if done.cancelled() or done.exception() is not None:
            return  # every waiter gets the error; nothing is kept
        run = done.result()
        if len(run) == self.page:
            self._pages[first] = run
            self._pages.move_to_end(first)
            while len(self._pages) > self.kept:
                self._pages.popitem(last=False)

    def __len__(self) -> int:
        return len(self._pages)
