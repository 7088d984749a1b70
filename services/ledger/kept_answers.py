"""GetBalances answers kept while the books they were read from stand.

recon, dq and reporting each ask for every mandate's whole balances at every day end (GetBalances
without accounts): three reads and encodings of the same lines, about 1.4 ms each for a mandate of
fifty lines, about a quarter of the ledger's samples in a suite at full speed (py-spy). An answer is kept, encoded, under the
books it was read from (BooksPosition.books of the mandate: the last ledger_seq of its journals and
the closed horizon, which each of its journals and every period close move), and is served again
only to a request for the same mandate and as-of date while the books are still those. A journal of
another mandate (recon's suspense posting, a person's fee) leaves the answer standing: a mandate's
balance rows move with its own journals only.

Why that is enough, given GetBalances' promise that the balances hold every journal of the events up
to the market_seq it returns: the server reads the position (cursor and books) first, then looks
up or reads the balances. An answer kept under books B was read in a snapshot taken after B was
seen, so it holds at least every journal of B, and a request that saw B after its cursor holds no
more than B's journals for the cursor it reports. Requests naming accounts are not kept: an account
opened without a journal changes their answer (a zero line instead of NOT_FOUND) but not the books.

In live mode the three ask at the same moment: each waits for the ledger to book the day end
(min_market_seq) and all are woken by the same commit, before any answer is kept. So a read in
progress is shared too (`answer`): the askers of the same books and key wait for the one read
instead of each reading, encoding and answering after the others (fifteen reads a day end where
five do; recon, whose check is what the live latency aim times, waited behind dq's and reporting's).
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import OrderedDict
from collections.abc import Awaitable, Callable

Books = tuple[int, dt.date | None]
Key = tuple[str, dt.date | None]

# About 200 days of five mandates, 4 MB at the 4 KB a simulated mandate's answer takes on average:
# while catching up, the askers follow market at different paces (recon ran about 100 days ahead of
# dq over a year at full speed), and an answer is worth keeping until the slowest has read it.
KEPT_ANSWERS = 1024


class KeptAnswers:
    """The latest encoded answer per (mandate, as_of), least recently used dropped first."""

    def __init__(self, size: int = KEPT_ANSWERS) -> None:
        self._size = size
        self._answers: OrderedDict[Key, tuple[Books, bytes]] = OrderedDict()
        self._reading: dict[tuple[Key, Books], asyncio.Task[bytes]] = {}
        self.hits = self.misses = 0
        self.shared = 0  # asks answered by another ask's read in progress (counted in hits too)

    async def answer(self, key: Key, books: Books, read: Callable[[], Awaitable[bytes]]) -> bytes:
        """The kept answer, the answer of a read of the same books in progress, or read()'s (kept).
        The read runs as a task of its own, so an asker that cancels (its call's deadline, a client
        gone) neither cancels it for the others nor leaves them without an answer; an error it raises
        reaches every asker waiting for it."""
        kept = self.get(key, books)
        if kept is not None:
            return kept
        reading = self._reading.get((key, books))
        if reading is None:
            reading = asyncio.ensure_future(read())
            self._reading[(key, books)] = reading
            reading.add_done_callback(lambda done: self._read(key, books, done))
        else:
            self.misses -= 1  # get() counted it: it is answered without a read of its own
            self.hits += 1
            self.shared += 1
        return await asyncio.shield(reading)

    def _read(self, key: Key, books: Books, done: asyncio.Task[bytes]) -> None:
        del self._reading[(key, books)]
        if not done.cancelled() and done.exception() is None:
            self.keep(key, books, done.result())

    def get(self, key: Key, books: Books) -> bytes | None:
        kept = self._answers.get(key)
        if kept is None or kept[0] != books:
            self.misses += 1
            return None
        self._answers.move_to_end(key)
        self.hits += 1
        return kept[1]

    def keep(self, key: Key, books: Books, answer: bytes) -> None:
        self._answers[key] = (books, answer)
        self._answers.move_to_end(key)
        while len(self._answers) > self._size:
            self._answers.popitem(last=False)
