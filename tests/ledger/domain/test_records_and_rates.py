"""Small behaviours of the records (account types, balances) and of the primary FX rates."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from services.common.fx_rates import FxRates
from services.ledger.domain.records import (
    Account,
    AccountType,
    BalanceLine,
    Journal,
    JournalDraft,
    JournalKind,
    Posting,
)

D = Decimal
DAY = dt.date(2024, 3, 5)


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("Assets:Cash:USD", AccountType.ASSETS),
        ("Liabilities:PendingSettlement:EUR", AccountType.LIABILITIES),
        ("Equity:Capital", AccountType.EQUITY),
        ("Income:Interest:USD", AccountType.INCOME),
        ("Expenses", AccountType.EXPENSES),  # a root alone still has a type
    ],
)
def test_an_accounts_type_is_its_root(name: str, kind: AccountType) -> None:
    assert AccountType.of(name) is kind
    assert Account("M1", name, "", DAY).type is kind


def test_an_unknown_root_has_no_type() -> None:
    with pytest.raises(ValueError, match="'OTHER' is not a valid AccountType"):
        AccountType.of("Other:Cash:USD")


def test_a_balance_line_nets_debits_and_credits_in_amount_and_in_base() -> None:
    line = BalanceLine("Assets:Cash:EUR", "EUR", D("150.00"), D("40.25"), D("165.00"), D("44.50"))
    # 150.00 - 40.25 = 109.75 EUR; in base 165.00 - 44.50 = 120.50.
    assert (line.balance, line.base_balance) == (D("109.75"), D("120.50"))
    # Credits larger than debits give a negative (credit) balance: 10.00 - 12.50 = -2.50.
    assert BalanceLine("Equity:Capital:USD", "USD", D("10.00"), D("12.50"), D(0), D(1)).balance == D("-2.50")


def test_a_stored_journal_reads_through_to_its_draft() -> None:
    postings = (Posting("Assets:Cash:USD", D(1), "USD"), Posting("Equity:Capital:USD", D(-1), "USD"))
    draft = JournalDraft(
        "M-7", JournalKind.MANUAL, DAY, dt.datetime(2024, 3, 5, 12, tzinfo=dt.UTC), postings, "key-1"
    )
    journal = Journal("0190-id", 3, dt.datetime(2024, 3, 5, 13, tzinfo=dt.UTC), draft)
    assert journal.mandate_id == "M-7"
    assert journal.postings == postings


# ------------------------------------------------------------------ FX rates


def test_a_rate_must_be_positive() -> None:
    rates = FxRates()
    for rate in (D(0), D("-0.0001")):
        with pytest.raises(ValueError, match=rf"^FX rate EURUSD must be positive, not {rate}$"):
            rates.update("EUR", "USD", rate)
    assert rates.pairs == {}
    # The smallest positive rate quoted to 4 places is kept.
    rates.update("EUR", "USD", D("0.0001"))
    assert rates.pairs == {"EURUSD": D("0.0001")}


def test_a_currency_in_itself_is_one_even_without_quotes() -> None:
    assert FxRates().rate("JPY", "JPY") == 1


def test_rates_given_at_construction_are_used_and_copied() -> None:
    pairs = {"GBPUSD": D("1.25")}
    rates = FxRates(pairs)
    pairs["GBPUSD"] = D(9)  # the caller's dict changing later does not move the rates
    assert rates.rate("GBP", "USD") == D("1.25")
    # The inverse: 1 / 1.25 = 0.8.
    assert rates.rate("USD", "GBP") == D("0.8")


def test_a_cross_goes_through_usd_from_either_side() -> None:
    rates = FxRates({"EURUSD": D("1.25"), "GBPUSD": D("1.6"), "USDJPY": D("110")})
    # EUR -> GBP: 1.25 USD per EUR x (1 / 1.6) GBP per USD = 1.25 x 0.625 = 0.78125.
    assert rates.rate("EUR", "GBP") == D("0.78125")
    # JPY -> EUR: (1 / 110) USD per JPY x (1 / 1.25) EUR per USD = 1 / 137.5 = 0.00727272...
    assert rates.rate("JPY", "EUR") == D(1) / D(110) * (D(1) / D("1.25"))
    # A direct quote wins over the cross: EURGBP 0.8 (the cross would give 0.78125).
    rates.update("EUR", "GBP", D("0.8"))
    assert rates.rate("EUR", "GBP") == D("0.8")


@pytest.mark.parametrize(
    ("ccy", "into"),
    [("GBP", "USD"), ("EUR", "GBP"), ("GBP", "EUR")],  # nothing, only the second leg, only the first
)
def test_a_missing_leg_names_both_currencies(ccy: str, into: str) -> None:
    rates = FxRates({"EURUSD": D("1.1")})
    with pytest.raises(ValueError, match=rf"^no primary FX rate yet to convert {ccy} into {into}$"):
        rates.rate(ccy, into)
