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
from services.ledger.store.database import UNBALANCED, Session, marks
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
    money_in_micros = True
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
        """Add the batch's new journals (ledger_seq seqs, postings already inserted) to the cumulative
        tables. A mandate whose journals are all dated on or after its latest cumulative row (the
        stream's case) takes one upsert per (key, date), its totals summed in SQL from the postings
        just inserted; any other mandate (a backdated PostJournal) takes the general path."""
        fast, slow = batch.split_by_latest(drafts, self._latest_days(conn, drafts))
        if fast:
            self._upsert_totals(conn, seqs[0], seqs[-1], sorted(fast))
        if slow:
            chosen = [(seq, d) for seq, d in zip(seqs, drafts, strict=True) if d.mandate_id in slow]
            self._general_totals(conn, [d for _, d in chosen], [seq for seq, _ in chosen])

    def _latest_days(self, conn: Session, drafts: Sequence[JournalDraft]) -> dict[str, dt.date]:
        """Each mandate's latest day_totals date (its balances rows are never later)."""
        found = {}
        for mandate_id in sorted({d.mandate_id for d in drafts}):
            day = conn.execute(
                "SELECT MAX(effective_date) FROM day_totals WHERE mandate_id = ?", (mandate_id,)
            ).fetchone()[0]
            if day is not None:
                found[mandate_id] = dt.date.fromisoformat(day)
        return found

    @staticmethod
    def _upsert_totals(conn: Session, first: int, last: int, mandates: Sequence[str]) -> None:
        """One statement per table: the new journals' totals per (key, date) from the postings and
        headers with ledger_seq first..last, running sums over the batch's dates, added to the latest
        stored row on or before each date, inserted or (the latest row's own date) replaced. SQLite
        reads the whole SELECT before it writes (it reads the table it inserts into), so every date
        starts from the stored rows, never from a row this statement wrote."""
        within = f"BETWEEN ? AND ? AND {{}} IN ({marks(len(mandates))})"
        params = (first, last, *mandates)
        conn.execute(
            "INSERT INTO balance_keys (mandate_id, account, currency)"
            f" SELECT DISTINCT mandate_id, account, currency FROM postings WHERE ledger_seq {within.format('mandate_id')}"
            " ON CONFLICT DO NOTHING",
            params,
        )
        conn.execute(
            "INSERT INTO balances (mandate_id, account, currency, effective_date, debit, credit, base_debit,"
            " base_credit, quantity)"
            " SELECT n.m, n.a, n.c, n.d, IFNULL(b.debit, 0) + n.debit, IFNULL(b.credit, 0) + n.credit,"
            " IFNULL(b.base_debit, 0) + n.base_debit, IFNULL(b.base_credit, 0) + n.base_credit,"
            " CASE WHEN n.quantity IS NULL THEN b.quantity ELSE IFNULL(b.quantity, 0) + n.quantity END"
            " FROM (SELECT m, a, c, d, SUM(debit) OVER w AS debit, SUM(credit) OVER w AS credit,"
            "   SUM(base_debit) OVER w AS base_debit, SUM(base_credit) OVER w AS base_credit,"
            "   SUM(quantity) OVER w AS quantity"
            "  FROM (SELECT p.mandate_id AS m, p.account AS a, p.currency AS c, j.effective_date AS d,"
            "    SUM(MAX(p.amount, 0)) AS debit, SUM(MAX(-p.amount, 0)) AS credit,"
            "    SUM(MAX(p.base_amount, 0)) AS base_debit, SUM(MAX(-p.base_amount, 0)) AS base_credit,"
            "    SUM(p.quantity) AS quantity"
            "   FROM postings AS p JOIN journals AS j ON j.ledger_seq = p.ledger_seq"
            f"   WHERE p.ledger_seq {within.format('p.mandate_id')}"
            "   GROUP BY p.mandate_id, p.account, p.currency, j.effective_date)"
            "  WINDOW w AS (PARTITION BY m, a, c ORDER BY d)) AS n"
            " LEFT JOIN balances AS b ON b.mandate_id = n.m AND b.account = n.a AND b.currency = n.c"
            "  AND b.effective_date = (SELECT x.effective_date FROM balances AS x WHERE x.mandate_id = n.m"
            "   AND x.account = n.a AND x.currency = n.c AND x.effective_date <= n.d"
            "   ORDER BY x.effective_date DESC LIMIT 1)"
            " WHERE true"
            " ON CONFLICT (mandate_id, account, currency, effective_date) DO UPDATE SET debit = excluded.debit,"
            " credit = excluded.credit, base_debit = excluded.base_debit, base_credit = excluded.base_credit,"
            " quantity = excluded.quantity",
            params,
        )
        conn.execute(
            "INSERT INTO day_totals (mandate_id, effective_date, journal_count, posting_count, max_seq)"
            " SELECT n.m, n.d, IFNULL(t.journal_count, 0) + n.journals, IFNULL(t.posting_count, 0) + n.postings,"
            " max(IFNULL(t.max_seq, 0), n.max_seq)"
            " FROM (SELECT m, d, SUM(journals) OVER w AS journals, SUM(postings) OVER w AS postings,"
            "   MAX(max_seq) OVER w AS max_seq"
            "  FROM (SELECT mandate_id AS m, effective_date AS d, COUNT(*) AS journals,"
            "    SUM(posting_count) AS postings, MAX(ledger_seq) AS max_seq"
            f"   FROM journals WHERE ledger_seq {within.format('mandate_id')} GROUP BY mandate_id, effective_date)"
            "  WINDOW w AS (PARTITION BY m ORDER BY d)) AS n"
            " LEFT JOIN day_totals AS t ON t.mandate_id = n.m AND t.effective_date = (SELECT x.effective_date"
            "  FROM day_totals AS x WHERE x.mandate_id = n.m AND x.effective_date <= n.d"
            "  ORDER BY x.effective_date DESC LIMIT 1)"
            " WHERE true"
            " ON CONFLICT (mandate_id, effective_date) DO UPDATE SET journal_count = excluded.journal_count,"
            " posting_count = excluded.posting_count, max_seq = excluded.max_seq",
            params,
        )

    def _general_totals(self, conn: Session, drafts: Sequence[JournalDraft], seqs: Sequence[int]) -> None:
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
