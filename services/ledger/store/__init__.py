"""The ledger's storage: journals, postings, accounts, cumulative balances, the market cursor.

open_store() picks SQLite (embedded default) or PostgreSQL; both implement LedgerStore and
enforce the ledger's invariants in the database (see base.py).
"""

from services.ledger.store.base import LedgerFilter, LedgerStore, PostResult, TrialBalanceResult
from services.ledger.store.errors import (
    AlreadyReversed,
    ClosedAccount,
    IdempotencyConflict,
    InvalidDraft,
    LedgerStoreError,
    OutOfRange,
    SchemaTooNew,
    TooPrecise,
    Unbalanced,
    UnknownAccount,
    UnknownJournal,
)
from services.ledger.store.factory import open_store

__all__ = [
    "AlreadyReversed",
    "ClosedAccount",
    "IdempotencyConflict",
    "InvalidDraft",
    "LedgerFilter",
    "LedgerStore",
    "LedgerStoreError",
    "OutOfRange",
    "PostResult",
    "SchemaTooNew",
    "TooPrecise",
    "TrialBalanceResult",
    "Unbalanced",
    "UnknownAccount",
    "UnknownJournal",
    "open_store",
]
