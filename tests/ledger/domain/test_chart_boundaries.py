"""The chart's helpers at their edges: the shortest valid account name, instrument accounts,
unknown currencies, and the standard chart every mandate opens with."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from services.ledger.domain import chart
from services.ledger.domain.records import Account

D = Decimal


@pytest.mark.parametrize(
    ("name", "valid"),
    [
        ("Equity", False),  # one part: a root alone
        ("Equity:Capital", True),  # two parts: the shortest valid name
        ("Equity:Capital:USD", True),  # three parts
        ("Liabilities:X", True),
        ("Expenses:9", True),
        ("Income:A-", True),  # a dash may follow the first character
        ("Income:Ab_c", False),
        ("Income:", False),
        ("Other:Cash", False),
    ],
)
def test_account_names_have_a_root_and_at_least_one_valid_part(name: str, valid: bool) -> None:
    assert chart.is_valid_account_name(name) is valid


@pytest.mark.parametrize(
    ("name", "instrument"),
    [
        ("Assets:Securities:US-AAA", "US-AAA"),
        ("Assets:Unrealized:UST-20300215", "UST-20300215"),
        ("Assets:Cash:USD", ""),
        ("Assets:Securities", ""),  # the parent itself names no instrument
        ("Income:Securities:US-AAA", ""),  # only the Assets parents hold instruments
    ],
)
def test_instrument_of_names_the_instrument_of_securities_and_unrealized_accounts(
    name: str, instrument: str
) -> None:
    assert chart.instrument_of(name) == instrument
    assert chart.is_instrument_account(name) is bool(instrument)


@pytest.mark.parametrize(
    ("name", "ccy"),
    [
        ("Assets:Cash:US", ""),  # two letters: not a currency code
        ("Assets:Cash:USDX", ""),  # four letters
        ("Assets:Cash:Usd", ""),
        ("Income:FxRevaluation:JPY", "JPY"),
        ("Assets:Cash:XAU", "XAU"),  # any three capitals, known to the ledger or not
        ("Equity", ""),  # a root alone has no suffix at all
    ],
)
def test_account_currency_is_exactly_three_capitals(name: str, ccy: str) -> None:
    assert chart.account_currency(name) == ccy


def test_an_unknown_currency_names_the_known_ones() -> None:
    with pytest.raises(KeyError, match=r"currency 'CHF' is not one of USD, EUR, GBP, JPY"):
        chart.quantum("CHF")
    assert [chart.quantum(ccy) for ccy in ("USD", "EUR", "GBP", "JPY")] == [D("0.01")] * 3 + [D(1)]


def test_quantize_money_rounds_to_the_grid_even_when_more_precise_than_needed() -> None:
    # 1 decimal in, 2 out: 1.5 -> 1.50 (same value); -0.005 -> -0.00 (tie, 0 is even); 1234.5 JPY -> 1234 (4 even).
    assert str(chart.quantize_money(D("1.5"), "USD")) == "1.50"
    assert chart.quantize_money(D("-0.005"), "GBP") == 0
    assert chart.quantize_money(D("-0.015"), "GBP") == D("-0.02")
    assert chart.quantize_money(D("1234.5"), "JPY") == D(1234)


def test_decimal_places_of_small_and_large_figures() -> None:
    assert chart.decimal_places(D("-0.01")) == 2
    assert chart.decimal_places(D("12345.678900")) == 4
    assert chart.decimal_places(D("5E-7")) == 7
    assert chart.decimal_places(D("0")) == 0


def test_the_standard_chart_opens_every_base_account_on_the_first_day() -> None:
    day = dt.date(2024, 1, 2)
    accounts = chart.standard_chart("M-EU", "EUR", day)
    assert [a.name for a in accounts] == [
        "Assets:Cash:EUR",
        "Assets:PendingSettlement:EUR",
        "Liabilities:PendingSettlement:EUR",
        "Assets:AccruedIncome:EUR",
        "Assets:AccruedInterest:EUR",
        "Assets:Suspense:EUR",
        "Equity:Capital:EUR",
        "Equity:FxConversion:EUR",
        "Income:Dividends:EUR",
        "Income:Interest:EUR",
        "Income:RealizedGains:EUR",
        "Income:UnrealizedGains:EUR",
        "Income:FxRevaluation:EUR",
        "Expenses:Commissions:EUR",
        "Expenses:Fees:EUR",
        "Expenses:ManagementFees:EUR",
        "Liabilities:AccruedFees:EUR",
        "Expenses:WriteOffs:EUR",
        "Income:WriteOffs:EUR",
    ]
    assert accounts[0] == Account(mandate_id="M-EU", name="Assets:Cash:EUR", currency="EUR", opened_on=day)
    assert all(
        (a.mandate_id, a.currency, a.opened_on, a.closed_on) == ("M-EU", "EUR", day, None) for a in accounts
    )
