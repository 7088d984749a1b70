"""The report's holdings, built from dicts of fields for speed (codec.holdings), are the messages
services/common/convert.py would build, decimal text and all."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from opsuite.reporting.v1 import reporting_pb2
from services.common.convert import date_to_proto, decimal_to_proto, money_to_proto
from services.common.market_events import AssetClass, Instrument
from services.common.nav.valuation import CashValue, DayValuation, Dealt, HoldingValue, NavBreakdown
from services.reporting import codec
from services.reporting.store import NavDay

TRICKY = [
    "0",
    "-0",
    "-0.00",
    "0E-8",
    "1E+2",
    "1.50",
    "-12.3400",
    "1E-12",
    "123456789012345678901234.5678",
    "7E+20",
]


@pytest.mark.parametrize("text", TRICKY)
def test_a_decimal_is_sent_as_convert_sends_it(text: str) -> None:
    assert reporting_pb2.Holding(quantity=codec._decimal(Decimal(text))).quantity == decimal_to_proto(
        Decimal(text)
    )


@given(st.decimals(allow_nan=False, allow_infinity=False))
def test_any_finite_decimal_is_sent_as_convert_sends_it(value: Decimal) -> None:
    assert codec._decimal(value) == {"value": decimal_to_proto(value).value}


@pytest.mark.parametrize("text", ["NaN", "Infinity", "-Infinity"])
def test_a_non_finite_decimal_is_refused_as_convert_refuses_it(text: str) -> None:
    with pytest.raises(ValueError) as ours:
        codec._decimal(Decimal(text))
    with pytest.raises(ValueError) as theirs:
        decimal_to_proto(Decimal(text))
    assert str(ours.value) == str(theirs.value)


def test_holdings_are_the_messages_convert_builds() -> None:
    bond = Instrument(
        "GB1", "UKT", "Gilt", AssetClass.GOVERNMENT_BOND, "GBP", "Government", "UK", Decimal("0.01"), 1
    )
    share = Instrument("EQ1", "ACME", "Acme", AssetClass.EQUITY, "USD", "Tech", "US", Decimal("0.01"), 2)
    holdings = (
        HoldingValue("GB1", "GBP", Decimal("100000"), Decimal("98.765"), dt.date(2024, 2, 29),
                     Decimal("98765.00"), Decimal("-0.00"), Decimal("1.2650"), Decimal("124937.73"), Decimal("0")),
        HoldingValue("EQ1", "USD", Decimal("1E+2"), Decimal("12.30"), dt.date(2024, 3, 1),
                     Decimal("1230.00"), Decimal("0"), Decimal("1"), Decimal("1230.00"), Decimal("0")),
    )  # fmt: skip
    valuation = DayValuation(
        "M", dt.date(2024, 3, 1), 7, "USD", NavBreakdown(Decimal("126167.73"), Decimal(0), Decimal(0), Decimal(0)),
        holdings, (CashValue("USD", Decimal(0), Decimal(1), Decimal(0)),), Decimal(0),
    )  # fmt: skip
    day = NavDay(valuation, Dealt(Decimal(1000), Decimal("126.17"), None))
    expected = [
        reporting_pb2.Holding(
            instrument_id=h.instrument_id,
            symbol=i.symbol,
            name=i.name,
            asset_class=codec.asset_class(i),  # type: ignore[arg-type]
            sector=i.sector,
            currency=h.currency,
            quantity=decimal_to_proto(h.quantity),
            price=decimal_to_proto(h.price),
            price_date=date_to_proto(h.price_date),
            accrued_interest=money_to_proto(h.accrued_interest, h.currency),
            market_value=money_to_proto(h.market_value, h.currency),
            base_market_value=money_to_proto(h.base_market_value, "USD"),
            fx_rate=decimal_to_proto(h.fx_rate),
            weight=float((h.base_market_value + h.base_accrued_interest) / valuation.nav),
        )
        for h, i in zip(holdings, (bond, share), strict=True)
    ]
    assert codec.holdings(day, {"GB1": bond, "EQ1": share}) == expected
