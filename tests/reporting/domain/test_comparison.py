"""Reporting's NAV beside the ledger's: agreeing, waiting for the ledger, and a difference explained."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from services.reporting.domain.comparison import (
    AGREES,
    DIFFERS,
    LEDGER_BEHIND,
    JournalEffect,
    compare,
    equity_at_market,
    explain,
)

D = Decimal
DAY = dt.date(2020, 3, 2)


def _journal(journal_id: str, source: str, effect: str) -> JournalEffect:
    return JournalEffect(journal_id, "MANUAL", DAY, "", "someone", source, (), D(effect))


def test_equity_at_market_counts_assets_and_liabilities_only() -> None:
    balances = [
        ("Assets:Cash:USD", D(100)),
        ("Liabilities:PendingSettlement:USD", D(-30)),
        ("Income:Dividends:USD", D(-5)),
    ]
    assert equity_at_market(balances) == D(70)


def test_a_ledger_that_has_not_booked_the_day_end_is_waited_for() -> None:
    assert compare(D(70), D(70), 41, 42, "USD").status == LEDGER_BEHIND
    assert compare(D(70), D(70), 42, 42, "USD").status == AGREES


def test_journals_not_from_markets_stream_explain_a_difference_and_what_is_left_is_shown() -> None:
    difference = compare(D("1000.00"), D("749.50"), 42, 42, "USD")
    assert (difference.status, difference.difference) == (DIFFERS, D("250.50"))
    journals = [
        _journal("J1", "mkt-17", "-99.00"),  # booked from market's stream: reporting has it too
        _journal("J2", "", "-250.00"),  # a person's fee payment
        _journal("J3", "rec-BRK-1", "0"),  # a suspense move: no effect on equity
    ]
    explained = explain(difference, journals)
    assert [j.journal_id for j in explained.causes] == ["J2"]
    # 250.50 - 250.00: fifty cents nobody has explained.
    assert explained.unexplained == D("0.50")
    assert "leave +0.50 unexplained" in explained.detail
