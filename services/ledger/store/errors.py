"""What the ledger store refuses, as exceptions that carry what a person needs to act on them.

Every refusal leaves the store unchanged: post() writes the whole batch or nothing.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal


class LedgerStoreError(Exception):
    """Base of every refusal of the ledger store."""


class IdempotencyConflict(LedgerStoreError):
    """The idempotency key is already used by a journal with a different content; nothing was written."""

    def __init__(self, key: str, journal_id: str) -> None:
        super().__init__(
            f"idempotency key {key!r} is already used by journal {journal_id} with other content"
        )
        self.key = key
        self.journal_id = journal_id


class UnknownAccount(LedgerStoreError):
    def __init__(self, account: str, mandate_id: str) -> None:
        super().__init__(f"account {account!r} does not exist in mandate {mandate_id!r}")
        self.account = account
        self.mandate_id = mandate_id


class ClosedAccount(LedgerStoreError):
    def __init__(self, account: str, mandate_id: str, closed_on: dt.date) -> None:
        super().__init__(
            f"account {account!r} of mandate {mandate_id!r} was closed on {closed_on.isoformat()}"
        )
        self.account = account
        self.mandate_id = mandate_id
        self.closed_on = closed_on


class Unbalanced(LedgerStoreError):
    """The database refused a journal that does not sum to zero (the domain validates first).

    imbalance: the non-zero sums per currency; the key "base" (lower case, never a currency code)
    holds the base-currency sum when that one is off. Empty when the database did not say.
    """

    def __init__(self, imbalance: dict[str, Decimal], detail: str = "") -> None:
        described = ", ".join(f"{currency} {amount}" for currency, amount in sorted(imbalance.items()))
        super().__init__(f"journal does not balance: {described or detail or 'refused by the database'}")
        self.imbalance = imbalance


class TooPrecise(LedgerStoreError):
    """An amount or quantity finer than the storage holds (10^-6); refused, never rounded."""

    def __init__(self, what: str, value: object) -> None:
        super().__init__(f"{what} {value} is finer than the ledger stores (6 decimal places)")
        self.what = what
        self.value = value


class OutOfRange(LedgerStoreError):
    """An amount, or a running total, too large for the storage (SQLite: 64-bit micro-units)."""


class UnknownJournal(LedgerStoreError):
    """A reversal names a journal that does not exist."""

    def __init__(self, journal_id: str) -> None:
        super().__init__(f"journal {journal_id!r} does not exist")
        self.journal_id = journal_id


class AlreadyReversed(LedgerStoreError):
    def __init__(self, journal_id: str, reversed_by_journal_id: str) -> None:
        by = f" by {reversed_by_journal_id}" if reversed_by_journal_id else " in the same batch"
        super().__init__(f"journal {journal_id} is already reversed{by}")
        self.journal_id = journal_id
        self.reversed_by_journal_id = reversed_by_journal_id


class SchemaTooNew(LedgerStoreError):
    """The database was written by a newer release; this code refuses to touch it."""


class InvalidDraft(LedgerStoreError, ValueError):
    """A draft the store cannot take as it is (no postings, a posting without base_amount, ...)."""


class PeriodClosed(LedgerStoreError, ValueError):
    """The ledger closed the period this asks about or posts into (OPSUITE_LEDGER_KEEP_DAYS): its
    journals are deleted, so nothing may be posted into it and nothing in it can be read back.

    A ValueError too, so a caller that reports "records that do not fit" (the export) names the close.
    """

    def __init__(self, closed_before: dt.date, keep_days: int, detail: str) -> None:
        kept = f"OPSUITE_LEDGER_KEEP_DAYS keeps {keep_days} business days" if keep_days else "closed earlier"
        super().__init__(
            f"the ledger closed the period before {closed_before.isoformat()} ({kept}); {detail}"
        )
        self.closed_before = closed_before
        self.keep_days = keep_days
        self.detail = detail
