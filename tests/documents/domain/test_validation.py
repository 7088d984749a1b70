"""The confirmation rules (services/documents/domain/validation.py), every figure worked by hand."""

from __future__ import annotations

import datetime as dt

import pytest

from services.common.calendar import BusinessCalendar
from services.documents.domain.fields import Extraction, Field
from services.documents.domain.validation import settlement_days, validate

# Apple's ISIN and CUSIP (the ISIN embeds the CUSIP 037833100; check digit 5), as published by the
# issuer's filings; the CUSIP's own check digit is its last character, 0.
APPLE_ISIN, APPLE_CUSIP = "US0378331005", "037833100"


def _extraction(bond: bool = False, **values: str) -> Extraction:
    return Extraction(
        format="text",
        layout="test",
        fields=tuple(Field(name, value, 0.99, 0, value) for name, value in values.items()),
        bond=bond,
    )


def _equity_buy(**overrides: str) -> Extraction:
    # 2,500 x 171.10 = 427,750.00; + commission 85.55 + fees 3.42 = 427,838.97.
    # Thursday 12 March 2020, T+2 = Monday 16 March.
    values = {
        "trade_date": "2020-03-12",
        "settlement_date": "2020-03-16",
        "side": "BUY",
        "quantity": "2500",
        "isin": APPLE_ISIN,
        "cusip": APPLE_CUSIP,
        "security_name": "APPLE INC",
        "price": "171.10",
        "currency": "USD",
        "gross_amount": "427750.00",
        "commission": "85.55",
        "fees": "3.42",
        "net_amount": "427838.97",
    }
    values.update(overrides)
    return _extraction(**values)


def _rules(extraction: Extraction, **kwargs: object) -> list[str]:
    return [failure.rule for failure in validate(extraction, **kwargs)]  # type: ignore[arg-type]


def test_a_consistent_equity_buy_breaks_no_rule() -> None:
    assert validate(_equity_buy()) == ()


def test_a_wrong_isin_check_digit_names_the_digit_the_body_calls_for() -> None:
    (failure,) = validate(_equity_buy(isin="US0378331004", cusip=APPLE_CUSIP))
    assert failure.rule == "isin"
    assert "calls for 5, not 4" in failure.message
    assert failure.values["isin"] == "US0378331004"


def test_a_wrong_cusip_check_digit_and_an_isin_that_embeds_another_cusip() -> None:
    # 037833101: the body 03783310 calls for 0. The ISIN still embeds 037833100.
    failures = validate(_equity_buy(cusip="037833101"))
    assert [f.rule for f in failures] == ["cusip", "isin_cusip"]
    assert "calls for 0, not 1" in failures[0].message
    assert failures[1].values["embedded_cusip"] == APPLE_CUSIP


def test_an_isin_of_the_wrong_length_says_so() -> None:
    (failure,) = validate(_equity_buy(isin="US03783310", cusip=APPLE_CUSIP))
    assert failure.rule == "isin" and "length" in failure.message


def test_gross_must_be_quantity_times_price_within_one_minor_unit() -> None:
    assert _rules(_equity_buy(gross_amount="427750.01", net_amount="427838.98")) == []
    failures = validate(_equity_buy(gross_amount="427751.00", net_amount="427839.97"))
    assert [f.rule for f in failures] == ["gross_amount"]
    assert failures[0].values["expected"] == "427750.00"
    assert "off by 1.00" in failures[0].message


def test_a_bond_grosses_face_times_price_over_one_hundred() -> None:
    # 1,000,000 face at 98.765 = 987,650.00; accrued 4,321.10; a SELL: 987,650.00 - 0 - 0 + 4,321.10.
    # Wednesday 11 March 2020, a corporate: T+2 = Friday 13 March.
    bond = _extraction(
        bond=True,
        trade_date="2020-03-11",
        settlement_date="2020-03-13",
        side="SELL",
        quantity="1000000",
        security_name="ACME CORP 4.25% 2030",
        price="98.765",
        currency="USD",
        gross_amount="987650.00",
        accrued_interest="4321.10",
        net_amount="991971.10",
    )
    assert validate(bond) == ()


def test_net_subtracts_charges_on_a_sale_and_adds_them_on_a_purchase() -> None:
    # The BUY's charges added (427,838.97) read as a SELL should have been subtracted: 427,661.03.
    failures = validate(_equity_buy(side="SELL"))
    assert [f.rule for f in failures] == ["net_amount"]
    assert failures[0].values["expected"] == "427661.03"
    sale = _equity_buy(side="SELL", net_amount="427661.03")
    assert validate(sale) == ()


def test_an_absent_charge_counts_as_zero_and_an_absent_figure_skips_its_rule() -> None:
    no_fees = _equity_buy(net_amount="427835.55")
    no_fees = Extraction("text", "test", tuple(f for f in no_fees.fields if f.name != "fees"))
    assert validate(no_fees) == ()
    no_price = Extraction("text", "test", tuple(f for f in _equity_buy().fields if f.name != "price"))
    assert validate(no_price) == ()


def test_jpy_amounts_are_whole_yen() -> None:
    # 1,200 x 2,345 = 2,814,000 yen; 0.5 yen off would round away, one yen is within the unit.
    yen = _extraction(
        side="BUY",
        quantity="1200",
        price="2345",
        currency="JPY",
        gross_amount="2814001",
        net_amount="2814001",
    )
    assert validate(yen) == ()
    yen_off = _extraction(
        side="BUY",
        quantity="1200",
        price="2345",
        currency="JPY",
        gross_amount="2814002",
        net_amount="2814002",
    )
    assert _rules(yen_off) == ["gross_amount"]


@pytest.mark.parametrize(
    ("bond", "name", "days"),
    [
        (False, "APPLE INC", 2),
        (True, "US TREASURY 1.5% 2030", 1),
        (True, "UK Treasury 4 1/4% Gilt 2032", 1),
        (True, "ACME CORP 4.25% 2030", 2),
    ],
)
def test_the_settlement_cycle_by_kind_of_security(bond: bool, name: str, days: int) -> None:
    assert settlement_days(_extraction(bond=bond, security_name=name)) == days


def test_the_book_s_own_cycle_wins_over_the_kind() -> None:
    assert settlement_days(_extraction(security_name="APPLE INC"), known=1) == 1


def test_a_late_settlement_date_says_what_the_market_would_have_settled() -> None:
    (failure,) = validate(_equity_buy(settlement_date="2020-03-17"))
    assert failure.rule == "settlement_date"
    assert failure.values["expected"] == "2020-03-16"
    assert "T+2" in failure.message and "equities" in failure.message


def test_settlement_skips_the_calendar_s_holidays() -> None:
    # Thursday 2 July 2020, T+2 over Independence Day observed (Friday 3 July) = Tuesday 7 July.
    calendar = BusinessCalendar(holidays=[dt.date(2020, 7, 3)])
    trade = _equity_buy(trade_date="2020-07-02", settlement_date="2020-07-07")
    assert validate(trade, calendar=calendar) == ()
    assert _rules(trade) == ["settlement_date"]  # without the holiday T+2 is Monday 6 July


def test_the_matched_fill_s_settle_date_is_the_convention_in_market_s_calendar() -> None:
    # Market's calendar closed Friday 3 July 2020: its fill of Thursday 2 July settles Tuesday 7 July.
    trade = _equity_buy(trade_date="2020-07-02", settlement_date="2020-07-07")
    assert validate(trade, book_settle_date=dt.date(2020, 7, 7)) == ()
    (failure,) = validate(
        _equity_buy(trade_date="2020-07-02", settlement_date="2020-07-06"),
        book_settle_date=dt.date(2020, 7, 7),
    )
    assert failure.values["expected"] == "2020-07-07" and "this instrument" in failure.message
