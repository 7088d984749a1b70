"""A mandate's trial balance and the suspense journals, as the ledger panel shows them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from services.edge.dashboard.domain.ledger import (
    JournalItem,
    RecentJournals,
    TrialBalanceView,
    TrialLine,
    cash_and_suspense,
    root_totals,
    suspense_total,
)


def line(account: str, currency: str, balance: str, base: str | None = None) -> TrialLine:
    amount = Decimal(balance)
    return TrialLine(
        account=account,
        currency=currency,
        debit=max(amount, Decimal(0)),
        credit=max(-amount, Decimal(0)),
        balance=amount,
        base_balance=Decimal(base if base is not None else balance),
    )


def view() -> TrialBalanceView:
    # The recon README's bank fee: Dr Expenses:Fees 2,500.00 / Cr Assets:Cash:USD 2,500.00, then suspense
    # v1 Dr Assets:Cash:USD 2,500.00 / Cr Assets:Suspense:USD 2,500.00; a EUR account at 1.10.
    lines = (
        line("Assets:Cash:USD", "USD", "1000000.00"),
        line("Assets:Suspense:USD", "USD", "-2500.00"),
        line("Assets:Cash:EUR", "EUR", "100.00", "110.00"),
        line("Assets:Suspense:EUR", "EUR", "10.00", "11.00"),
        line("Equity:Capital", "USD", "-1000000.00"),
        line("Expenses:Fees", "USD", "2500.00"),
        line("Income:FX", "USD", "-121.00"),
    )
    return TrialBalanceView(
        "BAL-USD", "USD", None, lines, Decimal("1002621.00"), Decimal("1002621.00"), True, 3, 7, 42
    )


def test_cash_beside_suspense_per_currency_base_first() -> None:
    rows = cash_and_suspense(view())
    assert [(r.currency, r.cash, r.suspense) for r in rows] == [
        ("USD", Decimal("1000000.00"), Decimal("-2500.00")),
        ("EUR", Decimal("100.00"), Decimal("10.00")),
    ]


def test_the_base_currency_is_listed_without_cash() -> None:
    empty = TrialBalanceView("EQ-JPY", "JPY", None, (), Decimal(0), Decimal(0), True, 0, 0, 0)
    assert [(r.currency, r.cash, r.suspense) for r in cash_and_suspense(empty)] == [("JPY", 0, 0)]
    assert suspense_total(empty) == 0
    assert root_totals(empty) == ()


def test_suspense_in_base_and_balances_by_root() -> None:
    assert suspense_total(view()) == Decimal("-2489.00")  # -2,500.00 + 11.00
    assert [(r.root, r.base_balance, r.accounts) for r in root_totals(view())] == [
        ("Assets", Decimal("997621.00"), 4),
        ("Equity", Decimal("-1000000.00"), 1),
        ("Income", Decimal("-121.00"), 1),
        ("Expenses", Decimal("2500.00"), 1),
    ]


def journal(seq: int, *caused_by: str) -> JournalItem:
    return JournalItem(
        f"J{seq}",
        seq,
        "BAL-USD",
        "suspense",
        dt.date(2020, 4, 4),
        "",
        "recon",
        Decimal("-2500.00"),
        "USD",
        caused_by,
    )


def test_recent_journals_newest_first_bounded_and_once_each() -> None:
    recent = RecentJournals(size=3)
    assert recent.last_seq == 0
    recent.add([journal(1, "BRK-a"), journal(5, "BRK-b", "mkt-9")])
    recent.add([journal(5), journal(3), journal(9)])
    assert [j.ledger_seq for j in recent.items()] == [9, 5, 3]
    assert recent.last_seq == 9
    assert recent.items()[1].break_ids == ("BRK-b",)
    recent.clear()
    assert recent.items() == ()
