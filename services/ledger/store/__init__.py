"""The ledger's storage: journals, postings, accounts, cumulative balances, the market cursor.

open_store() picks SQLite (embedded default) or PostgreSQL. One SqlLedgerStore (ledger_store.py)
implements LedgerStore over either database's small Database interface (database.py: sqlite.py,
postgres.py; schemas in sqlite_schema.py, postgres_schema.py); both databases enforce the
ledger's invariants themselves (see base.py).
"""

from services.ledger.store.base import (
    BooksPosition,
    ClosedPeriod,
    CloseResult,
    LedgerFilter,
    LedgerStore,
    OutboxItem,
    PostResult,
    TrialBalanceResult,
)
from services.ledger.store.errors import (
    AlreadyReversed,
    ClosedAccount,
    IdempotencyConflict,
    InvalidDraft,
    LedgerStoreError,
    OutOfRange,
    PeriodClosed,
    SchemaTooNew,
    TooPrecise,
    Unbalanced,
    UnknownAccount,
    UnknownJournal,
)
from services.ledger.store.factory import open_store

__all__ = [
    "AlreadyReversed",
    "BooksPosition",
    "CloseResult",
    "ClosedAccount",
    "ClosedPeriod",
    "IdempotencyConflict",
    "InvalidDraft",
    "LedgerFilter",
    "LedgerStore",
    "LedgerStoreError",
    "OutOfRange",
    "OutboxItem",
    "PeriodClosed",
    "PostResult",
    "SchemaTooNew",
    "TooPrecise",
    "TrialBalanceResult",
    "Unbalanced",
    "UnknownAccount",
    "UnknownJournal",
    "open_store",
]
