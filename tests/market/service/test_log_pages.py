"""The event log's pages shared by subscribers catching up (services/market/log_pages.py): one read
per page however many subscribers ask at once, only complete pages kept, and a bounded few."""

from __future__ import annotations

import asyncio

import pytest

from services.common.eventlog import FramedRun, RetentionExceeded
from services.common.eventlog.framing import frame_run
from services.market.log_pages import LogPages


class Log:
    """A log of `head` events (payload: the seq as text), counting the reads it answers."""

    def __init__(self, head: int, oldest: int = 1) -> None:
        self.head, self.oldest = head, oldest
        self.reads: list[tuple[int, int]] = []

    def read(self, first: int, limit: int) -> FramedRun:
        self.reads.append((first, limit))
        if first < self.oldest:
            raise RetentionExceeded("market", first, self.oldest)
        seqs = range(first, min(self.head, first + limit - 1) + 1)
        return frame_run(first, [str(seq).encode() for seq in seqs], ["k"] * len(seqs), [""] * len(seqs))


async def test_subscribers_asking_at_once_share_one_read_of_the_page() -> None:
    log = Log(head=100)
    pages = LogPages(log.read, page=10)
    # Five subscribers at seqs 21 to 25: all in the page 21..30.
    runs = await asyncio.gather(*(pages.page_at(seq) for seq in range(21, 26)))
    assert log.reads == [(21, 10)]
    assert all(run.first_seq == 21 and run.last_seq == 30 for run in runs)
    # Kept: asked again later, it is not read again.
    assert (await pages.page_at(30)).first_seq == 21
    assert log.reads == [(21, 10)]


async def test_a_page_starts_at_a_fixed_seq_whatever_the_cursor() -> None:
    pages = LogPages(Log(head=100).read, page=10)
    assert [pages.first_of(seq) for seq in (1, 10, 11, 20, 21, 99)] == [1, 1, 11, 11, 21, 91]
    run = await pages.page_at(17)
    # The page holds the cursor and the events before it in the page: the server starts at its index.
    assert (run.first_seq, run.last_seq) == (11, 20)


async def test_an_incomplete_page_at_the_head_is_not_kept() -> None:
    log = Log(head=25)
    pages = LogPages(log.read, page=10)
    assert (await pages.page_at(22)).last_seq == 25
    assert len(pages) == 0
    log.head = 35  # the log grew: the same page read again holds the new events
    assert (await pages.page_at(22)).last_seq == 30
    assert log.reads == [(21, 10), (21, 10)]
    assert len(pages) == 1


async def test_only_the_last_few_pages_are_kept() -> None:
    log = Log(head=1_000)
    pages = LogPages(log.read, page=10, kept=3)
    for seq in (1, 11, 21, 31):
        await pages.page_at(seq)
    assert len(pages) == 3
    await pages.page_at(1)  # the oldest was dropped: read again
    assert log.reads[-1] == (1, 10)
    await pages.page_at(31)  # still kept
    assert log.reads[-1] == (1, 10)


async def test_a_read_that_fails_fails_every_waiter_and_keeps_nothing() -> None:
    log = Log(head=100, oldest=15)
    pages = LogPages(log.read, page=10)
    outcomes = await asyncio.gather(pages.page_at(15), pages.page_at(18), return_exceptions=True)
    assert all(isinstance(outcome, RetentionExceeded) for outcome in outcomes)
    assert log.reads == [(11, 10)] and len(pages) == 0


async def test_a_subscriber_that_goes_away_does_not_cancel_the_read_the_others_wait_for() -> None:
    log = Log(head=100)
    pages = LogPages(log.read, page=10)
    leaving = asyncio.ensure_future(pages.page_at(5))
    staying = asyncio.ensure_future(pages.page_at(6))
    await asyncio.sleep(0)  # both are waiting for the one read
    leaving.cancel()
    with pytest.raises(asyncio.CancelledError):
        await leaving
    assert (await staying).first_seq == 1
    assert log.reads == [(1, 10)]
