"""GetBalances answers kept while the books they were read from stand.

recon, dq and reporting each ask for every mandate's whole balances at every day end (GetBalances
without accounts): three reads and encodings of the same lines, about 1.4 ms each for a mandate of
fifty lines, about a quarter of the ledger's samples in a suite at full speed (py-spy). An answer is kept, encoded, under the
books it was read from (BooksPosition.books: the last ledger_seq and the closed horizon, which every
journal posted and every period close move), and is served again only to a request for the same
mandate and as-of date while the books are still those.

Why that is enough, given GetBalances' promise that the balances hold every journal of the events up
to the market_seq it returns: the server reads the position (cursor and books) first, then looks
up or reads the balances. An answer kept under books B was read in a snapshot taken after B was
seen, so it holds at least every journal of B, and a request that saw B after its cursor holds no
more than B's journals for the cursor it reports. Requests naming accounts are not kept: an account
opened without a journal changes their answer (a zero line instead of NOT_FOUND) but not the books.
"""

from __future__ import annotations

import datetime as dt
from collections import OrderedDict

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
        self.hits = self.misses = 0

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
