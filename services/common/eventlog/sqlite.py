"""The embedded event-log backend: one SQLite file in WAL mode.

One writer connection behind a lock (BEGIN IMMEDIATE also serialises writers
in other processes sharing the file) and one read connection per thread, so
readers never wait for the writer. Per-source head and oldest live in their
own table so they survive trimming every record.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import pathlib
import sqlite3
from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Any

from services.common.eventlog.batch import (
    PreparedBatch,
    block_of,
    check_head,
    check_limit,
    check_source,
    normalise_trace_id,
    prepare,
    prepare_block,
    stored,
)
from services.common.eventlog.framing import (
    FramedRun,
    frame_run,
    join_runs,
    pack_ends,
    pack_labels,
    unpack_ends,
    unpack_labels,
)
from services.common.eventlog.records import (
    DuplicateEvent,
    EventLogError,
    LogRecord,
    NewRecord,
    RetentionExceeded,
    StoredPayload,
    from_micros,
    to_micros,
)
from services.common.sqlite import SqliteFile, migrate_schema

# SQLite's default limit on bound parameters is 32766; stay far below it.
_IN_CHUNK = 500

# Each migration takes the schema from version i to i+1; never edit one that shipped, append a new one.
MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        """CREATE TABLE records (
            source TEXT NOT NULL,
            seq INTEGER NOT NULL,
            event_id TEXT NOT NULL UNIQUE,
            kind TEXT NOT NULL,
            sim_time_us INTEGER NOT NULL,
            payload BLOB NOT NULL,
            trace_id TEXT NOT NULL,
            caused_by TEXT NOT NULL,
            mandate_id TEXT NOT NULL,
            summary TEXT NOT NULL,
            recorded_at_us INTEGER NOT NULL,
            PRIMARY KEY (source, seq)
        ) WITHOUT ROWID""",
        "CREATE INDEX records_by_trace ON records (trace_id)",
        """CREATE TABLE causes (
            cause_id TEXT NOT NULL,
            source TEXT NOT NULL,
            seq INTEGER NOT NULL,
            PRIMARY KEY (cause_id, source, seq)
        ) WITHOUT ROWID""",
        "CREATE INDEX causes_by_record ON causes (source, seq)",
        """CREATE TABLE sources (
            source TEXT PRIMARY KEY,
            head INTEGER NOT NULL,
            oldest INTEGER NOT NULL
        ) WITHOUT ROWID""",
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID",
    ),
    # 2: blocks, the batches of append_block pre-framed (framing.py), found by their last seq. A
    # rowid table: its rows are tens of kilobytes, which a WITHOUT ROWID table stores badly.
    (
        """CREATE TABLE blocks (
            source TEXT NOT NULL,
            last_seq INTEGER NOT NULL,
            first_seq INTEGER NOT NULL,
            frames BLOB NOT NULL,
            ends BLOB NOT NULL,
            kinds TEXT NOT NULL,
            mandate_ids TEXT NOT NULL
        )""",
        "CREATE UNIQUE INDEX blocks_by_last_seq ON blocks (source, last_seq)",
    ),
)
SCHEMA_VERSION = len(MIGRATIONS)

_COLUMN_NAMES = (
    "source",
    "seq",
    "event_id",
    "kind",
    "sim_time_us",
    "payload",
    "trace_id",
    "caused_by",
    "mandate_id",
    "summary",
    "recorded_at_us",
)
_COLUMNS = ", ".join(_COLUMN_NAMES)
_R_COLUMNS = ", ".join(f"r.{name}" for name in _COLUMN_NAMES)
_TRACE_ORDER = "ORDER BY r.sim_time_us, r.recorded_at_us, r.source, r.seq"


def migrate(conn: sqlite3.Connection) -> int:
    """Bring the file's schema to SCHEMA_VERSION; returns the version found before."""
    return migrate_schema(
        conn,
        MIGRATIONS,
        lambda found, known: EventLogError(
            f"event log schema version {found} is newer than this code ({known})"
        ),
    )


def _row_to_record(row: sqlite3.Row | tuple[Any, ...]) -> LogRecord:
    source, seq, event_id, kind, sim_us, payload, trace_id, caused_by, mandate_id, summary, recorded_us = row
    return LogRecord(
        source=source,
        seq=seq,
        event_id=event_id,
        kind=kind,
        sim_time=from_micros(sim_us),
        payload=bytes(payload),
        trace_id=trace_id,
        caused_by=tuple(json.loads(caused_by)),
        mandate_id=mandate_id,
        summary=summary,
        recorded_at=from_micros(recorded_us),
    )


class SqliteEventLog:
    """EventLog on one SQLite file; the file and its parent directory are created when missing."""

    def __init__(self, path: pathlib.Path) -> None:
        self.path = pathlib.Path(path)
        self._db = SqliteFile(
            self.path,
            migrate=migrate,
            closed_error=lambda: EventLogError("event log is closed"),
        )

    # ------------------------------------------------------------------ connections

    @property
    def _writer(self) -> sqlite3.Connection:
        return self._db.writer

    def _snapshot(self) -> AbstractContextManager[sqlite3.Connection]:
        return self._db.snapshot()

    def _write(self) -> AbstractContextManager[sqlite3.Connection]:
        return self._db.write()

    @staticmethod
    def _position(conn: sqlite3.Connection, source: str) -> tuple[int, int]:
        row = conn.execute("SELECT head, oldest FROM sources WHERE source = ?", (source,)).fetchone()
        return (0, 1) if row is None else (row[0], row[1])

    def append(self, source: str, records: Sequence[NewRecord]) -> list[LogRecord]:
        batch = prepare(source, records)
        if not batch.records:
            return []
        recorded_at = dt.datetime.now(dt.UTC)
        head = self._write_batch(batch, to_micros(recorded_at), block=None)
        return stored(batch, head, recorded_at)

    def append_block(self, source: str, records: Sequence[NewRecord]) -> FramedRun:
        batch = prepare_block(source, records)
        if not batch.records:
            return FramedRun(self.head(source) + 1, b"", [], [], [])
        recorded_us = to_micros(dt.datetime.now(dt.UTC))
        block = block_of(batch, 0)  # framed before the transaction: its bytes do not depend on the head
        head = self._write_batch(batch, recorded_us, block=block)
        return dataclasses.replace(block, first_seq=head + 1)

    def _write_batch(self, batch: PreparedBatch, recorded_us: int, *, block: FramedRun | None) -> int:
        """Write a prepared batch (and its block) in one transaction; returns the head it followed."""
        source = batch.source
        with self._write() as conn:
            head, oldest = self._position(conn, source)
            check_head(batch, head)
            micros = batch.sim_micros
            try:
                conn.executemany(
                    f"INSERT INTO records ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        (
                            source,
                            head + 1 + index,
                            record.event_id,
                            record.kind,
                            micros[index],
                            record.payload,
                            record.trace_id,
                            json.dumps(record.caused_by) if record.caused_by else "[]",
                            record.mandate_id,
                            record.summary,
                            recorded_us,
                        )
                        for index, record in enumerate(batch.records)
                    ],
                )
            except sqlite3.IntegrityError:
                # Ids are unique in the log: the constraint found one already there. Which one is
                # looked up with the batch undone, still holding the write lock.
                conn.execute("ROLLBACK")
                duplicate = self._first_stored(conn, [record.event_id for record in batch.records])
                if duplicate is None:
                    raise
                raise DuplicateEvent(duplicate) from None
            causes = [
                (cause, source, head + 1 + index)
                for index, record in enumerate(batch.records)
                if record.caused_by
                for cause in record.caused_by
            ]
            if causes:
                conn.executemany(
                    "INSERT OR IGNORE INTO causes (cause_id, source, seq) VALUES (?, ?, ?)", causes
                )
            if block is not None:
                conn.execute(
                    "INSERT INTO blocks (source, last_seq, first_seq, frames, ends, kinds, mandate_ids)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (
                        source,
                        head + len(block),
                        head + 1,
                        block.frames,
                        pack_ends(block.ends),
                        pack_labels(block.kinds),
                        pack_labels(block.mandate_ids),
                    ),
                )
            conn.execute(
                "INSERT INTO sources (source, head, oldest) VALUES (?, ?, ?)"
                " ON CONFLICT (source) DO UPDATE SET head = excluded.head",
                (source, head + len(batch.records), oldest),
            )
        return head

    @staticmethod
    def _first_stored(conn: sqlite3.Connection, event_ids: list[str]) -> str | None:
        """The first of event_ids already in the log, or None."""
        for start in range(0, len(event_ids), _IN_CHUNK):
            chunk = event_ids[start : start + _IN_CHUNK]
            marks = ",".join("?" * len(chunk))
            row = conn.execute(
                f"SELECT event_id FROM records WHERE event_id IN ({marks}) LIMIT 1", chunk
            ).fetchone()
            if row is not None:
                return str(row[0])
        return None

    def read_framed(self, source: str, from_seq: int, limit: int) -> FramedRun:
        check_source(source)
        check_limit(limit)
        with self._snapshot() as conn:
            head, oldest = self._position(conn, source)
            if 0 < from_seq < oldest:
                raise RetentionExceeded(source, from_seq, oldest)
            cursor = max(from_seq, oldest)
            stop = min(head, cursor + limit - 1)  # the last seq wanted
            runs: list[FramedRun] = []
            if cursor <= stop:
                blocks = conn.execute(
                    "SELECT first_seq, frames, ends, kinds, mandate_ids FROM blocks"
                    " WHERE source = ? AND last_seq >= ? ORDER BY last_seq",
                    (source, cursor),
                )
                try:
                    for first_seq, frames, ends, kinds, mandate_ids in blocks:
                        if first_seq > cursor:  # records without a block: framed one by one
                            runs.append(self._framed_rows(conn, source, cursor, min(first_seq - 1, stop)))
                            cursor = runs[-1].last_seq + 1
                            if cursor > stop:
                                break
                        stored_ends = unpack_ends(ends)
                        count = len(stored_ends)
                        block = FramedRun(
                            first_seq,
                            frames,
                            stored_ends,
                            unpack_labels(kinds, count),
                            unpack_labels(mandate_ids, count),
                        )
                        runs.append(block.cut(cursor, stop - cursor + 1))
                        cursor = runs[-1].last_seq + 1
                        if cursor > stop:
                            break
                finally:
                    blocks.close()
                if cursor <= stop:
                    runs.append(self._framed_rows(conn, source, cursor, stop))
        return join_runs(runs) if runs else FramedRun(cursor, b"", [], [], [])

    @staticmethod
    def _framed_rows(conn: sqlite3.Connection, source: str, first: int, last: int) -> FramedRun:
        rows = conn.execute(
            "SELECT seq, kind, mandate_id, payload FROM records WHERE source = ? AND seq BETWEEN ? AND ?"
            " ORDER BY seq",
            (source, first, last),
        ).fetchall()
        if len(rows) != last - first + 1 or (rows and rows[0][0] != first):
            raise EventLogError(f"source {source!r}: records {first} to {last} are not all in the log")
        return frame_run(first, [row[3] for row in rows], [row[1] for row in rows], [row[2] for row in rows])

    def read(self, source: str, from_seq: int, limit: int) -> list[LogRecord]:
        return [_row_to_record(row) for row in self._retained(_COLUMNS, source, from_seq, limit)]

    def read_payloads(self, source: str, from_seq: int, limit: int) -> list[StoredPayload]:
        rows = self._retained("seq, kind, mandate_id, payload", source, from_seq, limit)
        return [
            StoredPayload(seq, kind, mandate_id, bytes(payload)) for seq, kind, mandate_id, payload in rows
        ]

    def _retained(self, columns: str, source: str, from_seq: int, limit: int) -> list[sqlite3.Row]:
        """`columns` of at most limit retained records from from_seq on (the oldest retained for <= 0)."""
        check_source(source)
        check_limit(limit)
        with self._snapshot() as conn:
            _, oldest = self._position(conn, source)
            if 0 < from_seq < oldest:
                raise RetentionExceeded(source, from_seq, oldest)
            rows: list[sqlite3.Row] = conn.execute(
                f"SELECT {columns} FROM records WHERE source = ? AND seq >= ? ORDER BY seq LIMIT ?",
                (source, max(from_seq, oldest), limit),
            ).fetchall()
        return rows

    def head(self, source: str) -> int:
        with self._snapshot() as conn:
            return self._position(conn, source)[0]

    def oldest(self, source: str) -> int:
        with self._snapshot() as conn:
            return self._position(conn, source)[1]

    def trim(self, source: str, before_seq: int) -> int:
        check_source(source)
        with self._write() as conn:
            head, oldest = self._position(conn, source)
            target = min(before_seq, head + 1)
            if target <= oldest:
                return 0
            conn.execute("DELETE FROM causes WHERE source = ? AND seq < ?", (source, target))
            # A block is kept while any of its records is: a read from oldest cuts into it.
            conn.execute("DELETE FROM blocks WHERE source = ? AND last_seq < ?", (source, target))
            removed = conn.execute(
                "DELETE FROM records WHERE source = ? AND seq < ?", (source, target)
            ).rowcount
            conn.execute("UPDATE sources SET oldest = ? WHERE source = ?", (target, source))
        return removed

    def get(self, event_id: str) -> LogRecord | None:
        with self._snapshot() as conn:
            row = conn.execute(f"SELECT {_COLUMNS} FROM records WHERE event_id = ?", (event_id,)).fetchone()
        return None if row is None else _row_to_record(row)

    def by_trace(self, trace_id: str) -> list[LogRecord]:
        trace_id = normalise_trace_id(trace_id)
        if not trace_id:
            return []
        with self._snapshot() as conn:
            rows = conn.execute(
                f"SELECT {_COLUMNS} FROM records AS r WHERE r.trace_id = ? {_TRACE_ORDER}", (trace_id,)
            ).fetchall()
        return [_row_to_record(row) for row in rows]

    def effects_of(self, event_id: str) -> list[LogRecord]:
        with self._snapshot() as conn:
            rows = conn.execute(
                f"SELECT {_R_COLUMNS} FROM causes AS c"
                " JOIN records AS r ON r.source = c.source AND r.seq = c.seq"
                f" WHERE c.cause_id = ? {_TRACE_ORDER}",
                (event_id,),
            ).fetchall()
        return [_row_to_record(row) for row in rows]

    def sources(self) -> list[str]:
        with self._snapshot() as conn:
            return [row[0] for row in conn.execute("SELECT source FROM sources ORDER BY source")]

    def get_meta(self, key: str) -> str | None:
        with self._snapshot() as conn:
            row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else row[0]

    def set_meta(self, key: str, value: str) -> None:
        with self._write() as conn:
            conn.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?)"
                " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (key, value),
            )

    def close(self) -> None:
        self._db.close()

    def __repr__(self) -> str:
        return f"SqliteEventLog({str(self.path)!r})"
