"""A read in progress is shared (services/ledger/kept_answers.py, KeptAnswers.answer): in live mode
recon, dq and reporting ask for the same mandate's balances at the same moment, all woken by the
commit that books the day end, before any answer is kept. Each ask here is held at the read until
the test lets it go, so every case is the overlap itself, not a race the scheduler may not make."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from services.ledger.kept_answers import KeptAnswers

KEY = ("M1", dt.date(2020, 1, 2))
BOOKS = (41, None)


class GatedRead:
    """A read that counts its calls and finishes only when released."""

    def __init__(self, answer: bytes = b"balances", error: Exception | None = None) -> None:
        self.calls = 0
        self.release = asyncio.Event()
        self.answer, self.error = answer, error

    async def __call__(self) -> bytes:
        self.calls += 1
        await self.release.wait()
        if self.error is not None:
            raise self.error
        return self.answer


async def _started(kept: KeptAnswers, read: GatedRead, askers: int) -> list[asyncio.Task[bytes]]:
    tasks = [asyncio.create_task(kept.answer(KEY, BOOKS, read)) for _ in range(askers)]
    while read.calls == 0 or kept.shared < askers - 1:  # every asker is waiting on the one read
        await asyncio.sleep(0)
    return tasks


async def test_three_askers_of_the_same_books_wait_for_one_read_and_its_answer_is_kept() -> None:
    kept, read = KeptAnswers(), GatedRead()
    tasks = await _started(kept, read, 3)
    read.release.set()
    assert await asyncio.gather(*tasks) == [b"balances"] * 3
    assert read.calls == 1
    assert (kept.misses, kept.hits, kept.shared) == (1, 2, 2)
    # Kept: a fourth ask of the same books reads nothing.
    assert await kept.answer(KEY, BOOKS, GatedRead(b"other")) == b"balances"
    assert (kept.misses, kept.hits) == (1, 3)


async def test_other_books_are_read_afresh_even_while_a_read_of_older_books_is_in_progress() -> None:
    kept, older, newer = KeptAnswers(), GatedRead(b"old"), GatedRead(b"new")
    waiting_old = asyncio.create_task(kept.answer(KEY, BOOKS, older))
    newer.release.set()
    assert await kept.answer(KEY, (42, None), newer) == b"new"
    older.release.set()
    assert await waiting_old == b"old"
    assert (older.calls, newer.calls) == (1, 1)


async def test_an_error_of_the_read_reaches_every_asker_and_nothing_is_kept() -> None:
    kept, read = KeptAnswers(), GatedRead(error=LookupError("period closed"))
    tasks = await _started(kept, read, 2)
    read.release.set()
    outcomes = await asyncio.gather(*tasks, return_exceptions=True)
    assert [str(o) for o in outcomes] == ["period closed"] * 2
    again = GatedRead(b"read again")
    again.release.set()
    assert await kept.answer(KEY, BOOKS, again) == b"read again" and again.calls == 1


async def test_the_first_asker_cancelled_does_not_cancel_the_read_of_the_others() -> None:
    kept, read = KeptAnswers(), GatedRead()
    first, second = await _started(kept, read, 2)
    first.cancel()
    with pytest.raises(asyncio.CancelledError):
        await first
    read.release.set()
    assert await second == b"balances"
    assert kept.get(KEY, BOOKS) == b"balances"
