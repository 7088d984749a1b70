"""The embedded ledger database: one SQLite file in WAL mode (schema: sqlite_schema.py).

Money and quantities are INTEGER micro-units, dates ISO text, times UTC microseconds. One writer
connection behind a lock (BEGIN IMMEDIATE also serialises writers of other processes) and one read
connection per thread, so readers never wait for the writer.
"""

from __future__ import annotations

import datetime as dt
import pathlib
import sqlite3
from collections.abc import Sequence
from contextlib import AbstractContextManager
from decimal import Decimal
from typing import Any

from services.common.sqlite import SqliteFile
from services.ledger.domain.records import JournalDraft
from services.ledger.store import batch
from services.ledger.store.database import UNBALANCED, Session
from services.ledger.store.errors import LedgerStoreError, OutOfRange, Unbalanced
from services.ledger.store.ledger_store import SqlLedgerStore
from services.ledger.store.sqlite_schema import migrate

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def _enforce_foreign_keys(conn: sqlite3.Connection) -> None:
    conn.execute("PRAGMA foreign_keys=ON")


class SqliteDatabase:
    """The ledger's SQLite file; it and its parent directory are created when missing."""

    sim_time_column = "sim_time_us"
    posted_at_column = "posted_at_us"
    for_update = ""  # BEGIN IMMEDIATE already holds the file's write lock
    latest_balance = (
        "JOIN balances AS b ON b.mandate_id = k.mandate_id AND b.account = k.account"
        " AND b.currency = k.currency AND b.effective_date = (SELECT x.effective_date FROM balances AS x"
        "  WHERE x.mandate_id = k.mandate_id AND x.account = k.account AND x.currency = k.currency"
        "  AND x.effective_date <= ? ORDER BY x.effective_date DESC LIMIT 1)"
    )

    def __init__(self, path: pathlib.Path) -> None:
        self.path = pathlib.Path(path)
        self._file = SqliteFile(
            self.path,
            migrate=migrate,
            closed_error=lambda: LedgerStoreError("ledger store is closed"),
            prepare=_enforce_foreign_keys,
        )

    def write(self) -> AbstractContextManager[sqlite3.Connection]:
        return self._file.write()

    def snapshot(self) -> AbstractContextManager[sqlite3.Connection]:
        return self._file.snapshot()

    def begin_post(self, conn: Session) -> tuple[int, dt.datetime]:
        return conn.execute("SELECT last_seq FROM ledger_state WHERE id = 1").fetchone()[0], dt.datetime.now(
            dt.UTC
        )

    def insert(
        self, conn: Session, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
    ) -> None:
        conn.executemany(
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({','.join('?' * len(columns))})", rows
        )

    def write_totals(self, conn: Session, drafts: Sequence[JournalDraft], seqs: Sequence[int]) -> None:
        """Insert each missing (key, date) row as a copy of the latest earlier row, then add the deltas
        to every row on or after the date. All inserts come before all updates, so each inserted row
        holds the pre-batch total at its date."""
        deltas = batch.balance_deltas(drafts)
        keys = sorted({(m, a, c) for m, a, c, _ in deltas})
        conn.executemany(
            "INSERT INTO balance_keys (mandate_id, account, currency) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
            keys,
        )
        rows = [(m, a, c, d.isoformat(), delta) for (m, a, c, d), delta in sorted(deltas.items())]
        conn.executemany(
            "INSERT INTO balances (mandate_id, account, currency, effective_date, debit, credit,"
            " base_debit, base_credit, quantity)"
            " SELECT ?1, ?2, ?3, ?4, IFNULL(p.debit, 0), IFNULL(p.credit, 0), IFNULL(p.base_debit, 0),"
            " IFNULL(p.base_credit, 0), p.quantity"
            " FROM (SELECT 1) LEFT JOIN (SELECT debit, credit, base_debit, base_credit, quantity"
            "  FROM balances WHERE mandate_id = ?1 AND account = ?2 AND currency = ?3 AND effective_date < ?4"
            "  ORDER BY effective_date DESC LIMIT 1) AS p"
            " WHERE true ON CONFLICT DO NOTHING",
            [(m, a, c, d) for m, a, c, d, _ in rows],
        )
        conn.executemany(
            "UPDATE balances SET debit = debit + ?5, credit = credit + ?6, base_debit = base_debit + ?7,"
            " base_credit = base_credit + ?8,"
            " quantity = CASE WHEN ?9 IS NULL THEN quantity ELSE IFNULL(quantity, 0) + ?9 END"
            " WHERE mandate_id = ?1 AND account = ?2 AND currency = ?3 AND effective_date >= ?4",
            [
                (m, a, c, d, batch.to_micros(delta.debit), batch.to_micros(delta.credit),
                 batch.to_micros(delta.base_debit), batch.to_micros(delta.base_credit),
                 None if delta.quantity is None else batch.to_micros(delta.quantity))
                for m, a, c, d, delta in rows
            ],
        )  # fmt: skip
        days = sorted(batch.day_deltas(zip(seqs, drafts, strict=True)).items())
        conn.executemany(
            "INSERT INTO day_totals (mandate_id, effective_date, journal_count, posting_count, max_seq)"
            " SELECT ?1, ?2, IFNULL(p.journal_count, 0), IFNULL(p.posting_count, 0), IFNULL(p.max_seq, 0)"
            " FROM (SELECT 1) LEFT JOIN (SELECT journal_count, posting_count, max_seq FROM day_totals"
            "  WHERE mandate_id = ?1 AND effective_date < ?2 ORDER BY effective_date DESC LIMIT 1) AS p"
            " WHERE true ON CONFLICT DO NOTHING",
            [(m, d.isoformat()) for (m, d), _ in days],
        )
        conn.executemany(
            "UPDATE day_totals SET journal_count = journal_count + ?3, posting_count = posting_count + ?4,"
            " max_seq = max(max_seq, ?5) WHERE mandate_id = ?1 AND effective_date >= ?2",
            [(m, d.isoformat(), day.journals, day.postings, day.max_seq) for (m, d), day in days],
        )

    def refusal(self, error: Exception, drafts: Sequence[JournalDraft]) -> LedgerStoreError | None:
        text = str(error)
        if isinstance(error, sqlite3.IntegrityError):
            if UNBALANCED in text:
                return Unbalanced(batch.imbalance_of(drafts), text)
            if "CHECK constraint failed" in text:  # a running total overflowed into REAL
                return OutOfRange(f"a running total is out of the ledger's range ({text})")
            return LedgerStoreError(f"the database refused the batch: {text}")
        if isinstance(error, sqlite3.OperationalError) and "integer overflow" in text:
            return OutOfRange(f"a running total is out of the ledger's range: {error}")
        return None

    def money(self, value: Decimal) -> int:
        return batch.to_micros(value)

    def decimal(self, stored: int) -> Decimal:
        return batch.from_micros(stored)

    def date(self, value: dt.date) -> str:
        return value.isoformat()

    def day(self, stored: str) -> dt.date:
        return dt.date.fromisoformat(stored)

    def time(self, value: dt.datetime) -> int:
        """UTC microseconds since the epoch; a naive datetime is taken as UTC."""
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        delta = value - _EPOCH
        return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds

    def moment(self, stored: int) -> dt.datetime:
        return _EPOCH + dt.timedelta(microseconds=stored)

    def close(self) -> None:
        self._file.close()

    def __repr__(self) -> str:
        return f"SqliteDatabase({str(self.path)!r})"


def open_sqlite(path: pathlib.Path) -> SqlLedgerStore:
    return SqlLedgerStore(SqliteDatabase(path))
