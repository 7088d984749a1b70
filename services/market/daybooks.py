"""Every day end's books inside the retained window, for GetSnapshot: the newest in memory, the
older ones spilled to a SQLite file.

A follower that checks day ends (recon) asks for each one's books as it reaches it. One that
starts late, or catches up after an outage, asks for day ends years back; if market no longer
had them the follower could only skip those days, and the breaks they hold would never be
raised. So market keeps every day end whose events the log still keeps (retention decides), and
memory stays flat: only the last IN_MEMORY day ends stay as objects, the others are stored
encoded (the Snapshot message of every mandate) in a file under market's data directory.

The file is a cache, not a book: a restarted market replays its run (runtime._recover) and
remembers each day end again, so the file is emptied at start and never needs to be durable.
"""

from __future__ import annotations

import bisect
import contextlib
import pathlib
import sqlite3
import threading
from collections import OrderedDict

from opsuite.market.v1 import market_pb2
from services.market import codec
from services.market.sim.records import BookSnapshot

# Six weeks of day ends: a follower that keeps up asks for the last one or two, so only one that
# catches up reads the file.
IN_MEMORY = 30


class DayBooks:
    def __init__(self, path: pathlib.Path | None = None, *, in_memory: int = IN_MEMORY) -> None:
        """path: the spill file (replaced at start); None keeps spilled day ends in an in-memory
        SQLite database (for tests and benchmarks that have no data directory)."""
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            for stale in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
                stale.unlink(missing_ok=True)
        self._db = sqlite3.connect(":memory:" if path is None else path, check_same_thread=False)
        # A cache rebuilt by every start: no journal to fsync, nothing to recover after a crash.
        self._db.execute("PRAGMA journal_mode=OFF")
        self._db.execute("PRAGMA synchronous=OFF")
        self._db.execute("CREATE TABLE day_books (as_of_seq INTEGER PRIMARY KEY, snapshot BLOB NOT NULL)")
        self._lock = threading.Lock()
        self._in_memory = in_memory
        self._recent: OrderedDict[int, BookSnapshot] = OrderedDict()
        self._seqs: list[int] = []  # every kept day end's as_of_seq, ascending

    def remember(self, snapshot: BookSnapshot) -> None:
        """A day end, newer than every one remembered before."""
        with self._lock:
            self._recent[snapshot.as_of_seq] = snapshot
            self._seqs.append(snapshot.as_of_seq)
            while len(self._recent) > self._in_memory:
                seq, spilled = self._recent.popitem(last=False)
                encoded = codec.snapshot_to_proto(spilled).SerializeToString(deterministic=True)
                self._db.execute("INSERT INTO day_books VALUES (?, ?)", (seq, encoded))

    def forget_before(self, seq: int) -> None:
        """Drop the day ends older than seq (the oldest event the log still keeps)."""
        with self._lock:
            cut = bisect.bisect_left(self._seqs, seq)
            if cut == 0:
                return
            del self._seqs[:cut]
            self._db.execute("DELETE FROM day_books WHERE as_of_seq < ?", (seq,))
            while self._recent and next(iter(self._recent)) < seq:
                self._recent.popitem(last=False)

    @property
    def oldest_seq(self) -> int:
        """The as_of_seq of the oldest day end kept (0: none yet)."""
        return self._seqs[0] if self._seqs else 0

    @property
    def count(self) -> int:
        return len(self._seqs)

    def at(self, as_of_seq: int, mandate_id: str = "") -> market_pb2.Snapshot | None:
        """The books at the last day end at or before as_of_seq (0: the latest), of every mandate or
        of mandate_id only; None when no day end that old is kept (or none has ended yet)."""
        with self._lock:
            if not self._seqs:
                return None
            if as_of_seq == 0:
                found = self._seqs[-1]
            else:
                index = bisect.bisect_right(self._seqs, as_of_seq)
                if index == 0:
                    return None
                found = self._seqs[index - 1]
            recent = self._recent.get(found)
            if recent is not None:
                return codec.snapshot_to_proto(recent, mandate_id=mandate_id)
            row = self._db.execute("SELECT snapshot FROM day_books WHERE as_of_seq = ?", (found,)).fetchone()
        snapshot = market_pb2.Snapshot.FromString(row[0])
        if mandate_id:
            _keep_only(snapshot, mandate_id)
        return snapshot

    def close(self) -> None:
        with self._lock, contextlib.suppress(sqlite3.Error):
            self._db.close()


def _keep_only(snapshot: market_pb2.Snapshot, mandate_id: str) -> None:
    """Remove the books of every other mandate (prices and FX are everyone's)."""
    for books in (snapshot.internal_books, snapshot.custodian_books):
        kept = [book for book in books if book.mandate_id == mandate_id]
        del books[:]
        books.extend(kept)
