"""The ledger's immutable records. See docs/ledger-design.md for the conventions.

Amounts are Decimal and signed: positive debit, negative credit. A journal
balances when its postings sum to zero in each currency (and, with the
base-currency legs, in the mandate's base currency).
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass
from decimal import Decimal


class AccountType(enum.StrEnum):
    ASSETS = "ASSETS"
    LIABILITIES = "LIABILITIES"
    EQUITY = "EQUITY"
    INCOME = "INCOME"
    EXPENSES = "EXPENSES"

    @classmethod
    def of(cls, account: str) -> AccountType:
        """The type named by an account's root ("Assets:Cash:USD" -> ASSETS)."""
        return cls(account.split(":", 1)[0].upper())


class JournalKind(enum.StrEnum):
    TRADE = "TRADE"
    SETTLEMENT = "SETTLEMENT"
    DIVIDEND = "DIVIDEND"
    COUPON = "COUPON"
    FEE = "FEE"
    SUBSCRIPTION = "SUBSCRIPTION"
    REDEMPTION = "REDEMPTION"
    MARK_TO_MARKET = "MARK_TO_MARKET"
    FX_REVALUATION = "FX_REVALUATION"
    SUSPENSE = "SUSPENSE"
    MANUAL = "MANUAL"
    REVERSAL = "REVERSAL"
    ACCRUAL = "ACCRUAL"


@dataclass(frozen=True, slots=True)
class Account:
    """One account of a mandate's chart. currency "" means it may hold several;
    instrument_id is set for Securities and Unrealized accounts; closed_on None while open."""

    mandate_id: str
    name: str
    currency: str
    opened_on: dt.date
    instrument_id: str = ""
    closed_on: dt.date | None = None
    description: str = ""

    @property
    def type(self) -> AccountType:
        return AccountType.of(self.name)


@dataclass(frozen=True, slots=True)
class Posting:
    """One leg. quantity/instrument_id/lot_id only on Securities legs (quantity signed, + into the account)."""

    account: str
    amount: Decimal
    currency: str
    base_amount: Decimal | None = None  # None: the ledger fills it in (see docs/ledger-design.md)
    quantity: Decimal | None = None
    instrument_id: str = ""
    lot_id: str = ""
    memo: str = ""


@dataclass(frozen=True, slots=True)
class JournalDraft:
    """A journal before the store gives it an id and a ledger_seq.

    idempotency_key: for journals from market events "mkt:<event_id>[:<n>]" (n when one
    event produces several journals); source_event_id: the market event booked.
    """

    mandate_id: str
    kind: JournalKind
    effective_date: dt.date
    sim_time: dt.datetime
    postings: tuple[Posting, ...]
    idempotency_key: str
    memo: str = ""
    source_event_id: str = ""
    trace_id: str = ""
    caused_by: tuple[str, ...] = ()
    posted_by: str = "ledger"
    reverses_journal_id: str = ""
    reversal_reason: str = ""


@dataclass(frozen=True, slots=True)
class Journal:
    """A stored journal: the draft plus what the store assigned."""

    journal_id: str  # time-ordered (UUIDv7)
    ledger_seq: int  # 1, 2, 3, ... in the ledger's total order
    posted_at: dt.datetime  # wall clock, UTC
    draft: JournalDraft
    reversed_by_journal_id: str = ""

    @property
    def mandate_id(self) -> str:
        return self.draft.mandate_id

    @property
    def postings(self) -> tuple[Posting, ...]:
        return self.draft.postings


@dataclass(frozen=True, slots=True)
class BalanceLine:
    """Debit and credit totals of one account in one currency (and in base), as of a date."""

    account: str
    currency: str
    debit_total: Decimal  # >= 0
    credit_total: Decimal  # >= 0, the credits as a positive amount
    base_debit_total: Decimal
    base_credit_total: Decimal
    quantity: Decimal | None = None  # Securities accounts: units held
    instrument_id: str = ""

    @property
    def balance(self) -> Decimal:
        return self.debit_total - self.credit_total

    @property
    def base_balance(self) -> Decimal:
        return self.base_debit_total - self.base_credit_total
