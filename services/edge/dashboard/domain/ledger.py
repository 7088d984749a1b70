"""The ledger's trial balance of each mandate (WatchTrialBalance) and the journals that move suspense
(WatchJournals), as the ledger panel shows them: each mandate's grand totals in its base currency,
whether they balance, its cash beside its suspense per currency, the balances by root account, and
the latest suspense and write-off journals. Every figure is the ledger's own Decimal; sums are exact.
"""

from __future__ import annotations

import datetime as dt
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

ROOTS = ("Assets", "Liabilities", "Equity", "Income", "Expenses")
CASH_PREFIX = "Assets:Cash:"
SUSPENSE_PREFIX = "Assets:Suspense:"


@dataclass(frozen=True)
class TrialLine:
    account: str
    currency: str
    debit: Decimal
    credit: Decimal
    balance: Decimal
    base_balance: Decimal
    quantity: Decimal | None = None

    @property
    def root(self) -> str:
        return self.account.split(":", 1)[0]


@dataclass(frozen=True)
class TrialBalanceView:
    mandate_id: str
    base_currency: str
    as_of: dt.date | None
    lines: tuple[TrialLine, ...]
    base_debit: Decimal
    base_credit: Decimal
    balanced: bool
    journal_count: int
    posting_count: int
    ledger_seq: int


@dataclass(frozen=True)
class CashAndSuspense:
    """One currency of a mandate: its cash, what sits in suspense, in that currency."""

    currency: str
    cash: Decimal
    suspense: Decimal


@dataclass(frozen=True)
class RootTotal:
    root: str
    base_balance: Decimal
    accounts: int


def cash_and_suspense(view: TrialBalanceView) -> tuple[CashAndSuspense, ...]:
    """Per currency with cash or suspense, the base currency first (always listed)."""
    cash: dict[str, Decimal] = {}
    suspense: dict[str, Decimal] = {}
    for line in view.lines:
        if line.account.startswith(CASH_PREFIX):
            cash[line.currency] = cash.get(line.currency, Decimal(0)) + line.balance
        elif line.account.startswith(SUSPENSE_PREFIX):
            suspense[line.currency] = suspense.get(line.currency, Decimal(0)) + line.balance
    currencies = sorted({view.base_currency, *cash, *suspense}, key=lambda c: (c != view.base_currency, c))
    return tuple(CashAndSuspense(c, cash.get(c, Decimal(0)), suspense.get(c, Decimal(0))) for c in currencies)


def suspense_total(view: TrialBalanceView) -> Decimal:
    """Every suspense account's balance, in the base currency (at the booking rates)."""
    return sum(
        (line.base_balance for line in view.lines if line.account.startswith(SUSPENSE_PREFIX)), Decimal(0)
    )


def root_totals(view: TrialBalanceView) -> tuple[RootTotal, ...]:
    """The base-currency balance of each root account (debit-positive), in chart order."""
    totals: dict[str, Decimal] = {}
    accounts: dict[str, set[str]] = {}
    for line in view.lines:
        totals[line.root] = totals.get(line.root, Decimal(0)) + line.base_balance
        accounts.setdefault(line.root, set()).add(line.account)
    order = [*ROOTS, *sorted(set(totals) - set(ROOTS))]
    return tuple(RootTotal(root, totals[root], len(accounts[root])) for root in order if root in totals)


@dataclass(frozen=True)
class JournalItem:
    """A journal that moved suspense (or wrote a break off), as WatchJournals sends it."""

    journal_id: str
    ledger_seq: int
    mandate_id: str
    kind: str  # "suspense", "manual", "reversal"
    effective_date: dt.date | None
    memo: str
    posted_by: str
    suspense_amount: Decimal  # the journal's Assets:Suspense legs, summed
    currency: str
    caused_by: tuple[str, ...]

    @property
    def break_ids(self) -> tuple[str, ...]:
        return tuple(cause for cause in self.caused_by if cause.startswith("BRK-"))


@dataclass
class RecentJournals:
    """The latest journals seen, newest first, at most `size`; a journal seen again is kept once."""

    size: int = 12
    _items: deque[JournalItem] = field(default_factory=deque)

    @property
    def last_seq(self) -> int:
        return max((item.ledger_seq for item in self._items), default=0)

    def add(self, journals: Iterable[JournalItem]) -> None:
        known = {item.journal_id for item in self._items}
        merged = [*self._items, *(j for j in journals if j.journal_id not in known)]
        merged.sort(key=lambda j: j.ledger_seq, reverse=True)
        self._items = deque(merged[: self.size])

    def clear(self) -> None:
        self._items.clear()

    def items(self) -> Sequence[JournalItem]:
        return tuple(self._items)
