"""What the ledger store needs from one database: the small interface each backend implements.

SqlLedgerStore (ledger_store.py) holds every query and the whole of post(); a Database supplies
transactions, how values are stored, the bulk writes, and what its errors mean.
Shared SQL is written with "?" placeholders and in the dialect both SQLite and PostgreSQL accept.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from decimal import Decimal
from typing import Any, Protocol

from services.ledger.domain.records import JournalDraft
from services.ledger.store.errors import LedgerStoreError

# Raised by the schemas' triggers; the store recognises the refusal by this text.
UNBALANCED = "ledger: journal does not balance"
IMMUTABLE = "ledger: journals and postings are immutable"
CLOSED_PERIOD = "ledger: the period is closed"

IN_CHUNK = 500  # values per "IN (...)" list: far below SQLite's bound-parameter limit (32766)


class Rows(Protocol):
    @property
    def rowcount(self) -> int: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...

    def __iter__(self) -> Iterator[Any]: ...


class Session(Protocol):
    """One connection inside a transaction (a write, or a read snapshot)."""

    def execute(self, sql: str, params: Sequence[Any] = (), /) -> Rows: ...

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]], /) -> object: ...


class Database(Protocol):
    # The journal header's time columns: their names differ because their types do.
    sim_time_column: str
    posted_at_column: str
    # Appended to a SELECT that reads a row the same write transaction then changes.
    for_update: str
    # True: money and quantities are stored as integer micro-units (batch.check_draft's figures).
    money_in_micros: bool
    # Joins balance_keys AS k to its latest balances row b (debit, credit, base_debit, base_credit,
    # quantity) on or before a date, its one "?": each planner wants its own form to read one row.
    latest_balance: str

    def write(self) -> AbstractContextManager[Session]:
        """One write transaction, alone among the database's writers; rolled back on any error."""
        ...

    def snapshot(self) -> AbstractContextManager[Session]:
        """One read transaction: every statement inside sees the same committed state."""
        ...

    def begin_post(self, conn: Session) -> tuple[int, dt.datetime]:
        """(last ledger_seq, posted_at) for a batch, taking whatever lock makes ledger_seq gap-free."""
        ...

    def insert(
        self, conn: Session, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
    ) -> None:
        """Bulk insert of values already in the database's representation."""
        ...

    def write_totals(self, conn: Session, drafts: Sequence[JournalDraft], seqs: Sequence[int]) -> None:
        """Add new journals to the cumulative tables (balance_keys, balances, day_totals)."""
        ...

    def refusal(self, error: Exception, drafts: Sequence[JournalDraft]) -> LedgerStoreError | None:
        """The store's error for a database refusal of this batch of new drafts; None: not a refusal."""
        ...

    # How values are stored and read back.
    def money(self, value: Decimal) -> Any: ...

    def decimal(self, stored: Any) -> Decimal: ...

    def date(self, value: dt.date) -> Any: ...

    def day(self, stored: Any) -> dt.date: ...

    def time(self, value: dt.datetime) -> Any: ...

    def moment(self, stored: Any) -> dt.datetime: ...

    def close(self) -> None: ...


def chunks(items: Sequence[Any], size: int = IN_CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def marks(count: int) -> str:
    return ",".join("?" * count)
