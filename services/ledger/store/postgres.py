"""The ledger database on PostgreSQL (psycopg 3; schema: postgres_schema.py): NUMERIC money.

Writers serialise on the one-row ledger_state (SELECT ... FOR UPDATE), which also makes ledger_seq
gap-free across processes. Postings and journals go in with binary COPY (it beat executemany in
pipeline mode: about 9.5k against 7k journals/s); the cumulative balance tables are updated with
one set-based statement each per batch.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

import psycopg
from psycopg import errors as pg_errors
from psycopg.conninfo import conninfo_to_dict

from services.common.outages import BackendUnavailable, reported
from services.ledger.domain.records import JournalDraft
from services.ledger.store import batch
from services.ledger.store.database import UNBALANCED, Session
from services.ledger.store.errors import LedgerStoreError, Unbalanced
from services.ledger.store.ledger_store import SqlLedgerStore
from services.ledger.store.postgres_schema import migrate

# A server that does not answer within this is treated as unreachable (an outage, retried).
CONNECT_TIMEOUT_S = 5
# Administrator or crash shutdown, cannot connect now: the server, not the statement.
_SERVER_GONE = {"57P01", "57P02", "57P03"}

# Binary COPY: PostgreSQL checks each value's type, Python formats nothing as text.
_COPY_TYPES = {
    "journals": (
        "int8", "text", "text", "text", "text", "text", "date", "timestamptz", "timestamptz", "text", "text",
        "text", "text", "text", "text", "text", "int4",
    ),
    "postings": ("int8", "int4", "text", "text", "text", "numeric", "numeric", "numeric", "text", "text", "text"),
}  # fmt: skip


# The cumulative tables for the new journals (ledger_seq first..last) of mandates with no stored row
# after the batch's dates (PostgresDatabase.write_totals), in one statement: the totals per (key, date)
# summed from the postings just copied (each dated by its journal: dates[ledger_seq - first + 1], the
# journals' effective dates in ledger_seq order), running sums over the batch's dates, added to the latest stored
# row on or before each date; inserted, or replacing that row when it is of the same date. Every part
# of one statement reads the snapshot from before it, never a row it wrote.
_UPSERT_TOTALS = """
WITH new_postings AS (
    SELECT p.mandate_id AS m, p.account AS a, p.currency AS c,
        (%(dates)s::date[])[p.ledger_seq - %(first)s + 1] AS d,
        SUM(GREATEST(p.amount, 0)) AS debit, SUM(GREATEST(-p.amount, 0)) AS credit,
        SUM(GREATEST(p.base_amount, 0)) AS base_debit, SUM(GREATEST(-p.base_amount, 0)) AS base_credit,
        SUM(p.quantity) AS quantity
    FROM postings AS p
    WHERE p.ledger_seq BETWEEN %(first)s AND %(last)s AND p.mandate_id = ANY(%(mandates)s::text[])
    GROUP BY 1, 2, 3, 4
), keys AS (
    INSERT INTO balance_keys (mandate_id, account, currency)
    SELECT DISTINCT m, a, c FROM new_postings ON CONFLICT DO NOTHING
), new_days AS (
    SELECT mandate_id AS m, effective_date AS d, COUNT(*) AS journals, SUM(posting_count) AS postings,
        MAX(ledger_seq) AS max_seq
    FROM journals WHERE ledger_seq BETWEEN %(first)s AND %(last)s AND mandate_id = ANY(%(mandates)s::text[])
    GROUP BY mandate_id, effective_date
), days AS (
    INSERT INTO day_totals (mandate_id, effective_date, journal_count, posting_count, max_seq)
    SELECT n.m, n.d, COALESCE(t.journal_count, 0) + n.journals, COALESCE(t.posting_count, 0) + n.postings,
        GREATEST(COALESCE(t.max_seq, 0), n.max_seq)
    FROM (SELECT m, d, SUM(journals) OVER w AS journals, SUM(postings) OVER w AS postings,
            MAX(max_seq) OVER w AS max_seq
          FROM new_days WINDOW w AS (PARTITION BY m ORDER BY d)) AS n
    LEFT JOIN LATERAL (SELECT x.journal_count, x.posting_count, x.max_seq FROM day_totals AS x
        WHERE x.mandate_id = n.m AND x.effective_date <= n.d ORDER BY x.effective_date DESC LIMIT 1) AS t ON true
    ON CONFLICT (mandate_id, effective_date) DO UPDATE SET journal_count = EXCLUDED.journal_count,
        posting_count = EXCLUDED.posting_count, max_seq = EXCLUDED.max_seq
)
INSERT INTO balances (mandate_id, account, currency, effective_date, debit, credit, base_debit, base_credit,
    quantity)
SELECT n.m, n.a, n.c, n.d, COALESCE(b.debit, 0) + n.debit, COALESCE(b.credit, 0) + n.credit,
    COALESCE(b.base_debit, 0) + n.base_debit, COALESCE(b.base_credit, 0) + n.base_credit,
    CASE WHEN n.quantity IS NULL THEN b.quantity ELSE COALESCE(b.quantity, 0) + n.quantity END
FROM (SELECT m, a, c, d, SUM(debit) OVER w AS debit, SUM(credit) OVER w AS credit,
        SUM(base_debit) OVER w AS base_debit, SUM(base_credit) OVER w AS base_credit,
        SUM(quantity) OVER w AS quantity
      FROM new_postings WINDOW w AS (PARTITION BY m, a, c ORDER BY d)) AS n
LEFT JOIN LATERAL (SELECT x.debit, x.credit, x.base_debit, x.base_credit, x.quantity FROM balances AS x
    WHERE x.mandate_id = n.m AND x.account = n.a AND x.currency = n.c AND x.effective_date <= n.d
    ORDER BY x.effective_date DESC LIMIT 1) AS b ON true
ON CONFLICT (mandate_id, account, currency, effective_date) DO UPDATE SET debit = EXCLUDED.debit,
    credit = EXCLUDED.credit, base_debit = EXCLUDED.base_debit, base_credit = EXCLUDED.base_credit,
    quantity = EXCLUDED.quantity
"""


class _Session:
    """A connection that takes the store's "?" placeholders."""

    def __init__(self, conn: psycopg.Connection) -> None:
        self.conn = conn

    def execute(self, sql: str, params: Sequence[Any] = (), /) -> psycopg.Cursor[Any]:
        return self.conn.execute(sql.replace("?", "%s"), params or None)

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]], /) -> None:
        with self.conn.cursor() as cur:
            cur.executemany(sql.replace("?", "%s"), rows)


def _raw(conn: Session) -> psycopg.Connection:
    assert isinstance(conn, _Session)
    return conn.conn


class PostgresDatabase:
    """One PostgreSQL database; the schema is created or migrated on open."""

    sim_time_column = "sim_time"
    posted_at_column = "posted_at"
    money_in_micros = False
    for_update = " FOR UPDATE"
    latest_balance = (
        "CROSS JOIN LATERAL (SELECT b.debit, b.credit, b.base_debit, b.base_credit, b.quantity"
        " FROM balances AS b WHERE b.mandate_id = k.mandate_id AND b.account = k.account"
        " AND b.currency = k.currency AND b.effective_date <= ? ORDER BY b.effective_date DESC LIMIT 1) AS b"
    )

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self._closed = False
        # Outages seen so far. A connection opened before the latest one may have been cut without
        # knowing it yet (psycopg marks a connection broken only when a statement fails on it), so it
        # is replaced before use rather than failing the first request after the server is back.
        self._outages = 0
        self._write_lock = threading.Lock()
        self._writer_outages = 0
        self._writer = self._connect()
        migrate(self._writer)
        self._local = threading.local()
        self._readers: list[psycopg.Connection] = []
        self._readers_lock = threading.Lock()
        self._closed = False

    def _connect(self, *, reader: bool = False) -> psycopg.Connection:
        try:
            conn = psycopg.connect(
                self.dsn, autocommit=True, options="-c timezone=UTC", connect_timeout=CONNECT_TIMEOUT_S
            )
        except psycopg.OperationalError as error:
            raise self._unreachable(error) from error
        if reader:
            # Several statements of one read see one snapshot.
            conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
            conn.read_only = True
        return conn

    @property
    def where(self) -> str:
        info = conninfo_to_dict(self.dsn)
        return f"PostgreSQL at {info.get('host') or 'localhost'}:{info.get('port') or 5432}"

    def _probe(self) -> None:
        psycopg.connect(self.dsn, connect_timeout=CONNECT_TIMEOUT_S).close()

    def _unreachable(self, error: psycopg.Error) -> BackendUnavailable:
        self._outages += 1
        detail = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        return reported(BackendUnavailable(self.where, detail, self._probe))

    def _lost(self, error: psycopg.Error) -> bool:
        """Whether the error is the connection's (server gone, network cut), not the statement's."""
        if isinstance(error, psycopg.InterfaceError):
            return not self._closed
        state = error.sqlstate or ""
        return isinstance(error, psycopg.OperationalError) and (
            not state or state.startswith("08") or state in _SERVER_GONE
        )

    def _reader(self) -> psycopg.Connection:
        if self._closed:
            raise LedgerStoreError("ledger store is closed")
        conn: psycopg.Connection | None = getattr(self._local, "conn", None)
        if conn is not None and getattr(self._local, "outages", 0) < self._outages:
            conn.close()  # opened before the latest outage
        if conn is None or conn.closed or conn.broken:
            self._local.outages = self._outages
            conn = self._connect(reader=True)
            self._local.conn = conn
            with self._readers_lock:
                self._readers.append(conn)
        return conn

    @contextmanager
    def snapshot(self) -> Iterator[_Session]:
        conn = self._reader()
        try:
            with conn.transaction():
                yield _Session(conn)
        except (psycopg.OperationalError, psycopg.InterfaceError) as error:
            if not self._lost(error):
                raise
            raise self._unreachable(error) from error

    @contextmanager
    def write(self) -> Iterator[_Session]:
        with self._write_lock:
            if self._closed:
                raise LedgerStoreError("ledger store is closed")
            stale = self._writer_outages < self._outages  # opened before the latest outage
            if (
                stale or self._writer.broken or self._writer.closed
            ):  # the server restarted or the network dropped
                self._writer.close()
                self._writer_outages = self._outages
                self._writer = self._connect()
            try:
                with self._writer.transaction():  # deferred triggers and foreign keys run at its commit
                    yield _Session(self._writer)
            except (psycopg.OperationalError, psycopg.InterfaceError) as error:
                if not self._lost(error):
                    raise
                raise self._unreachable(error) from error

    def begin_post(self, conn: Session) -> tuple[int, dt.datetime]:
        # posted_at is the transaction's timestamp: the postings trigger tells new journals by it.
        last_seq, posted_at = conn.execute(
            "SELECT last_seq, transaction_timestamp() FROM ledger_state WHERE id = 1 FOR UPDATE"
        ).fetchone()
        return last_seq, posted_at

    def insert(
        self, conn: Session, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
    ) -> None:
        with (
            _raw(conn).cursor() as cur,
            cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN (FORMAT BINARY)") as copy,
        ):
            copy.set_types(_COPY_TYPES[table])
            for row in rows:
                copy.write_row(row)

    def write_totals(self, conn: Session, drafts: Sequence[JournalDraft], seqs: Sequence[int]) -> None:
        """Add the batch's new journals (ledger_seq seqs, postings already copied) to the cumulative
        tables. A mandate whose journals are all dated on or after its latest cumulative row (the
        stream's case) takes one upsert per (key, date), its totals summed by the server from the
        postings just copied, all in one statement; any other mandate (a backdated PostJournal) takes
        the general path."""
        raw = _raw(conn)
        mandates = sorted({d.mandate_id for d in drafts})
        latest = {
            m: day
            for m, day in raw.execute(
                "SELECT m, (SELECT MAX(t.effective_date) FROM day_totals AS t WHERE t.mandate_id = m)"
                " FROM unnest(%s::text[]) AS m",
                (mandates,),
            )
            if day is not None
        }
        fast, slow = batch.split_by_latest(drafts, latest)
        if fast:
            raw.execute(
                _UPSERT_TOTALS,
                {
                    "first": seqs[0],
                    "last": seqs[-1],
                    "mandates": sorted(fast),
                    "dates": [d.effective_date for d in drafts],
                },
            )
        if slow:
            chosen = [(seq, d) for seq, d in zip(seqs, drafts, strict=True) if d.mandate_id in slow]
            self._general_totals(raw, [d for _, d in chosen], [seq for seq, _ in chosen])

    @staticmethod
    def _general_totals(raw: psycopg.Connection, drafts: Sequence[JournalDraft], seqs: Sequence[int]) -> None:
        """Insert each missing (key, date) row as a copy of the latest earlier row (one statement: it
        sees only the pre-batch rows), then add the deltas to every row on or after the date."""
        deltas = sorted(batch.balance_deltas(drafts).items())
        columns = list(zip(*[(m, a, c, d) for (m, a, c, d), _ in deltas], strict=True))
        amounts = list(
            zip(
                *[(x.debit, x.credit, x.base_debit, x.base_credit, x.quantity) for _, x in deltas],
                strict=True,
            )
        )
        keys = {"m": list(columns[0]), "a": list(columns[1]), "c": list(columns[2]), "d": list(columns[3])}
        raw.execute(
            "INSERT INTO balance_keys (mandate_id, account, currency)"
            " SELECT DISTINCT * FROM unnest(%(m)s::text[], %(a)s::text[], %(c)s::text[]) ON CONFLICT DO NOTHING",
            keys,
        )
        raw.execute(
            "INSERT INTO balances (mandate_id, account, currency, effective_date, debit, credit, base_debit,"
            " base_credit, quantity)"
            " SELECT k.m, k.a, k.c, k.d, COALESCE(p.debit, 0), COALESCE(p.credit, 0), COALESCE(p.base_debit, 0),"
            " COALESCE(p.base_credit, 0), p.quantity"
            " FROM unnest(%(m)s::text[], %(a)s::text[], %(c)s::text[], %(d)s::date[]) AS k (m, a, c, d)"
            " LEFT JOIN LATERAL (SELECT b.debit, b.credit, b.base_debit, b.base_credit, b.quantity"
            "  FROM balances AS b WHERE b.mandate_id = k.m AND b.account = k.a AND b.currency = k.c"
            "  AND b.effective_date < k.d ORDER BY b.effective_date DESC LIMIT 1) AS p ON true"
            " ON CONFLICT DO NOTHING",
            keys,
        )
        raw.execute(
            "UPDATE balances AS b SET debit = b.debit + x.debit, credit = b.credit + x.credit,"
            " base_debit = b.base_debit + x.base_debit, base_credit = b.base_credit + x.base_credit,"
            " quantity = CASE WHEN x.quantity IS NULL THEN b.quantity ELSE COALESCE(b.quantity, 0) + x.quantity END"
            " FROM (SELECT t.mandate_id, t.account, t.currency, t.effective_date, SUM(k.debit) AS debit,"
            "   SUM(k.credit) AS credit, SUM(k.base_debit) AS base_debit, SUM(k.base_credit) AS base_credit,"
            "   SUM(k.quantity) AS quantity"
            "  FROM unnest(%(m)s::text[], %(a)s::text[], %(c)s::text[], %(d)s::date[], %(debit)s::numeric[],"
            "   %(credit)s::numeric[], %(base_debit)s::numeric[], %(base_credit)s::numeric[],"
            "   %(quantity)s::numeric[]) AS k (m, a, c, d, debit, credit, base_debit, base_credit, quantity)"
            "  JOIN balances AS t ON t.mandate_id = k.m AND t.account = k.a AND t.currency = k.c"
            "   AND t.effective_date >= k.d"
            "  GROUP BY t.mandate_id, t.account, t.currency, t.effective_date) AS x"
            " WHERE b.mandate_id = x.mandate_id AND b.account = x.account AND b.currency = x.currency"
            " AND b.effective_date = x.effective_date",
            {
                **keys,
                "debit": list(amounts[0]),
                "credit": list(amounts[1]),
                "base_debit": list(amounts[2]),
                "base_credit": list(amounts[3]),
                "quantity": list(amounts[4]),
            },
        )
        days = sorted(batch.day_deltas(zip(seqs, drafts, strict=True)).items())
        day_keys = {"m": [m for (m, _), _ in days], "d": [d for (_, d), _ in days]}
        raw.execute(
            "INSERT INTO day_totals (mandate_id, effective_date, journal_count, posting_count, max_seq)"
            " SELECT k.m, k.d, COALESCE(p.journal_count, 0), COALESCE(p.posting_count, 0), COALESCE(p.max_seq, 0)"
            " FROM unnest(%(m)s::text[], %(d)s::date[]) AS k (m, d)"
            " LEFT JOIN LATERAL (SELECT t.journal_count, t.posting_count, t.max_seq FROM day_totals AS t"
            "  WHERE t.mandate_id = k.m AND t.effective_date < k.d ORDER BY t.effective_date DESC LIMIT 1) AS p"
            " ON true ON CONFLICT DO NOTHING",
            day_keys,
        )
        raw.execute(
            "UPDATE day_totals AS t SET journal_count = t.journal_count + x.journals,"
            " posting_count = t.posting_count + x.postings, max_seq = GREATEST(t.max_seq, x.max_seq)"
            " FROM (SELECT t2.mandate_id, t2.effective_date, SUM(k.journals) AS journals,"
            "   SUM(k.postings) AS postings, MAX(k.max_seq) AS max_seq"
            "  FROM unnest(%(m)s::text[], %(d)s::date[], %(j)s::bigint[], %(p)s::bigint[], %(s)s::bigint[])"
            "   AS k (m, d, journals, postings, max_seq)"
            "  JOIN day_totals AS t2 ON t2.mandate_id = k.m AND t2.effective_date >= k.d"
            "  GROUP BY t2.mandate_id, t2.effective_date) AS x"
            " WHERE t.mandate_id = x.mandate_id AND t.effective_date = x.effective_date",
            {
                **day_keys,
                "j": [day.journals for _, day in days],
                "p": [day.postings for _, day in days],
                "s": [day.max_seq for _, day in days],
            },
        )

    def refusal(self, error: Exception, drafts: Sequence[JournalDraft]) -> LedgerStoreError | None:
        if isinstance(error, pg_errors.CheckViolation) and UNBALANCED in str(error):
            return Unbalanced(batch.imbalance_of(drafts), str(error))
        if isinstance(error, pg_errors.IntegrityError):
            return LedgerStoreError(f"the database refused the batch: {error}")
        return None

    def money(self, value: Decimal) -> Decimal:
        return value

    def decimal(self, stored: Decimal) -> Decimal:
        return batch.tidy(stored)

    def date(self, value: dt.date) -> dt.date:
        return value

    def day(self, stored: dt.date) -> dt.date:
        return stored

    def time(self, value: dt.datetime) -> dt.datetime:
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)

    def moment(self, stored: dt.datetime) -> dt.datetime:
        return stored

    def close(self) -> None:
        with self._write_lock:
            if self._closed:
                return
            self._closed = True
            self._writer.close()
        with self._readers_lock:
            for conn in self._readers:
                conn.close()
            self._readers.clear()

    def __repr__(self) -> str:
        return f"PostgresDatabase({self.dsn.split('@')[-1]!r})"


def open_postgres(dsn: str) -> SqlLedgerStore:
    return SqlLedgerStore(PostgresDatabase(dsn))
