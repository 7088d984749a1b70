"""Account names, precision, and lot relief on hand-computed examples."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.ledger.domain import chart
from services.ledger.domain.lots import Lots

D = Decimal


def test_account_names_follow_the_chart() -> None:
    assert chart.cash("USD") == "Assets:Cash:USD"
    assert chart.securities("UST-20300215") == "Assets:Securities:UST-20300215"
    assert chart.unrealized("JP-6987") == "Assets:Unrealized:JP-6987"
    assert chart.pending_receivable("EUR") == "Assets:PendingSettlement:EUR"
    assert chart.pending_payable("EUR") == "Liabilities:PendingSettlement:EUR"
    assert chart.accrued_income("GBP") == "Assets:AccruedIncome:GBP"
    assert chart.accrued_interest("EUR") == "Assets:AccruedInterest:EUR"
    assert chart.is_valid_account_name(chart.accrued_interest("EUR"))
    assert chart.account_currency(chart.accrued_interest("EUR")) == "EUR"
    assert chart.suspense("JPY") == "Assets:Suspense:JPY"
    assert chart.capital("USD") == "Equity:Capital:USD"
    assert chart.dividends("USD") == "Income:Dividends:USD"
    assert chart.interest("USD") == "Income:Interest:USD"
    assert chart.realized("USD") == "Income:RealizedGains:USD"
    assert chart.unrealized_gains("USD") == "Income:UnrealizedGains:USD"
    assert chart.fx_revaluation("USD") == "Income:FxRevaluation:USD"
    assert chart.commissions("USD") == "Expenses:Commissions:USD"
    assert chart.fees("USD") == "Expenses:Fees:USD"


@pytest.mark.parametrize(
    ("name", "ccy"),
    [
        ("Assets:Cash:USD", "USD"),
        ("Liabilities:PendingSettlement:JPY", "JPY"),
        ("Assets:Securities:US-NWSF", ""),
        ("Assets:Unrealized:UST-20300215", ""),
        ("Assets:Securities:USD", ""),  # an instrument account even if the id looks like a currency
        ("Equity:Capital", ""),
    ],
)
def test_account_currency_is_the_suffix_of_money_accounts(name: str, ccy: str) -> None:
    assert chart.account_currency(name) == ccy


@pytest.mark.parametrize(
    ("name", "valid"),
    [
        ("Assets:Cash:USD", True),
        ("Assets:Securities:JP-6987", True),
        ("Assets:Securities:6987", True),
        ("Income:FxRevaluation:USD", True),
        ("Assets", False),  # a root alone
        ("Asset:Cash:USD", False),  # unknown root
        ("assets:Cash:USD", False),
        ("Assets:cash:USD", False),  # component starts lower case
        ("Assets::USD", False),
        ("Assets:Cash:US D", False),
        ("Assets:Cash:USD_X", False),
        ("Assets:-Cash", False),
    ],
)
def test_account_names_follow_beancount_rules(name: str, valid: bool) -> None:
    assert chart.is_valid_account_name(name) is valid


def test_quantize_money_is_half_even_to_the_minor_unit() -> None:
    assert chart.quantize_money(D("0.125"), "USD") == D("0.12")  # tie, 2 is even
    assert chart.quantize_money(D("0.135"), "USD") == D("0.14")  # tie, 4 is even
    assert chart.quantize_money(D("0.1251"), "EUR") == D("0.13")
    assert chart.quantize_money(D("2.5"), "JPY") == D(2)
    assert chart.quantize_money(D("3.5"), "JPY") == D(4)
    with pytest.raises(KeyError, match="CHF"):
        chart.quantize_money(D(1), "CHF")


def test_decimal_places_ignore_trailing_zeros() -> None:
    assert chart.decimal_places(D("1.10")) == 1
    assert chart.decimal_places(D("100")) == 0
    assert chart.decimal_places(D("1E+2")) == 0
    assert chart.decimal_places(D("0.001")) == 3
    assert chart.decimal_places(D("0E-8")) == 0


def test_fifo_relieves_oldest_first_with_the_proportional_cost() -> None:
    lots = Lots("FIFO", D("0.01"))
    lots.add("L1", D(3), D("10.00"))
    lots.add("L2", D(5), D("20.00"))
    # 1 of L1: 10.00 x 1/3 = 3.333... -> 3.33; L1 keeps 2 at 10.00 - 3.33 = 6.67.
    assert lots.relieve(D(1)) == [("L1", D(1), D("3.33"))]
    # 4 more: the rest of L1 (2, 6.67), then 2 of L2 at 20.00 x 2/5 = 8.00.
    assert lots.relieve(D(4)) == [("L1", D(2), D("6.67")), ("L2", D(2), D("8.00"))]
    assert lots.lots() == [("L2", D(3), D("12.00"))]
    assert (lots.quantity, lots.cost) == (D(3), D("12.00"))


def test_average_pools_lots_and_relieves_one_slice() -> None:
    lots = Lots("AVERAGE", D("0.01"))
    lots.add("L1", D(3), D("10.00"))
    lots.add("L2", D(4), D("11.00"))
    # Pool 7 at 21.00 (3.00 each); 2 x 3.00 = 6.00.
    assert lots.relieve(D(2)) == [("AVG", D(2), D("6.00"))]
    # 5 left at 15.00; 1 more at 15.00 / 5 = 3.00; then everything: 4 at 12.00.
    assert lots.relieve(D(1)) == [("AVG", D(1), D("3.00"))]
    assert lots.relieve(D(4)) == [("AVG", D(4), D("12.00"))]
    assert lots.quantity == 0 and lots.lots() == []


def test_relieving_more_than_held_is_refused_and_changes_nothing() -> None:
    lots = Lots("FIFO", D("0.01"))
    lots.add("L1", D(3), D("10.00"))
    with pytest.raises(ValueError, match="only 3 held"):
        lots.relieve(D(4))
    assert lots.lots() == [("L1", D(3), D("10.00"))]
    with pytest.raises(ValueError, match="lot method"):
        Lots("LIFO")


@settings(max_examples=60, deadline=None)
@given(
    method=st.sampled_from(["FIFO", "AVERAGE"]),
    buys=st.lists(
        st.tuples(st.integers(1, 500), st.integers(1, 10_000_000)), min_size=1, max_size=6
    ),  # (quantity, cost in cents)
    cuts=st.lists(st.integers(1, 100), min_size=1, max_size=6),  # percent of what is left
)
def test_lot_costs_stay_on_the_cent_grid_and_add_up(method: str, buys: list, cuts: list) -> None:
    lots = Lots(method, D("0.01"))
    total_cost = D(0)
    for n, (quantity, cents) in enumerate(buys):
        cost = D(cents).scaleb(-2)
        lots.add(f"L{n}", D(quantity), cost)
        total_cost += cost
    relieved = D(0)
    for percent in cuts:
        quantity = (lots.quantity * percent / 100).to_integral_value()
        if quantity <= 0:
            continue
        taken = lots.relieve(quantity)
        assert sum(q for _, q, _ in taken) == quantity
        for _, _, cost in taken:
            assert chart.decimal_places(cost) <= 2
            relieved += cost
    # What was relieved plus what is left is exactly what was put in.
    assert relieved + lots.cost == total_cost
    if lots.quantity:
        lots.relieve(lots.quantity)
    assert lots.cost == 0
