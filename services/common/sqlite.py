"""One SQLite file shared by threads: the connection handling every embedded store uses.

One writer connection, serialised by a lock, and one read-only connection per
thread. Connections run with isolation_level=None, so BEGIN and COMMIT are
explicit: a read is one snapshot (`snapshot()`), a write one transaction
(`write()`, BEGIN IMMEDIATE, rolled back on any error). WAL lets readers work
while the writer commits; synchronous=NORMAL is safe with WAL (a power cut
may lose the last commits, never corrupt the file).
"""

from __future__ import annotations

import pathlib
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

BUSY_TIMEOUT_S = 30.0


def migrate_schema(
    conn: sqlite3.Connection,
    migrations: Sequence[Sequence[str]],
    too_new: Callable[[int, int], Exception],
) -> int:
    """Bring the file's schema to len(migrations) (PRAGMA user_version); returns the version found before.

    Step N runs migrations[N - 1] in its own IMMEDIATE transaction and re-reads the version inside
    it, so two processes opening a new file at once do not both migrate. A file from a newer release
    is refused with too_new(found, known).
    """
    known = len(migrations)
    found: int = conn.execute("PRAGMA user_version").fetchone()[0]
    if found > known:
        raise too_new(found, known)
    for target in range(found + 1, known + 1):
        conn.execute("BEGIN IMMEDIATE")
        try:
            if conn.execute("PRAGMA user_version").fetchone()[0] < target:
                for statement in migrations[target - 1]:
                    conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {target}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    return found


class SqliteFile:
    def __init__(
        self,
        path: pathlib.Path,
        *,
        migrate: Callable[[sqlite3.Connection], object],
        closed_error: Callable[[], Exception],
        prepare: Callable[[sqlite3.Connection], None] | None = None,
    ) -> None:
        """Open (creating the file and its folder) and migrate the schema.

        prepare runs on every new connection (pragmas such as foreign_keys, SQL functions);
        closed_error makes the exception raised when the file is used after close().
        """
        self.path = pathlib.Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._prepare = prepare
        self._closed_error = closed_error
        self._write_lock = threading.Lock()
        self.writer = self.connect()
        self.writer.execute("PRAGMA journal_mode=WAL")
        migrate(self.writer)
        self._local = threading.local()
        self._readers: list[sqlite3.Connection] = []
        self._readers_lock = threading.Lock()
        self.closed = False

    def connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(
            self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
        )
        conn.execute("PRAGMA synchronous=NORMAL")
        if self._prepare is not None:
            self._prepare(conn)
        return conn

    def reader(self) -> sqlite3.Connection:
        """This thread's read-only connection."""
        if self.closed:
            raise self._closed_error()
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self.connect()
            conn.execute("PRAGMA query_only=ON")
            self._local.conn = conn
            with self._readers_lock:
                self._readers.append(conn)
        return conn

    @contextmanager
    def snapshot(self) -> Iterator[sqlite3.Connection]:
        """One read transaction: every SELECT inside sees the same committed state."""
        conn = self.reader()
        conn.execute("BEGIN")
        try:
            yield conn
        finally:
            conn.execute("COMMIT")

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, alone among this file's writers; rolled back on any error."""
        with self._write_lock:
            if self.closed:
                raise self._closed_error()
            conn = self.writer
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
                conn.execute("COMMIT")  # deferred foreign keys and constraints are checked here
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise

    def close(self) -> None:
        with self._write_lock:
            if self.closed:
                return
            self.closed = True
            self.writer.close()
        with self._readers_lock:
            for conn in self._readers:
                conn.close()
            self._readers.clear()
