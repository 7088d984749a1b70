"""How the dashboard writes figures: grouped by thousands from the Decimal, a currency's decimals, signed
percentages, ages in business days."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from services.edge.dashboard.domain.formatting import (
    MISSING,
    age,
    amount,
    clock_time_text,
    date_text,
    decimal_or_none,
    decimal_percent,
    enum_text,
    money,
    number,
    percent,
    sign_class,
    sim_time_text,
    speed_text,
)


@pytest.mark.parametrize(
    ("value", "places", "expected"),
    [
        ("1234567.5", None, "1,234,567.5"),
        ("-123600000.50", None, "-123,600,000.50"),
        (Decimal("999"), None, "999"),
        (1000, None, "1,000"),
        ("12.345", 2, "12.34"),  # half-even, as Decimal quantizes
        ("12.355", 2, "12.36"),
        ("-0.00", None, "0.00"),  # no negative zero
        ("-0.001", 2, "0.00"),
        ("", None, MISSING),
        (None, None, MISSING),
        ("abc", None, MISSING),
        ("NaN", None, MISSING),
    ],
)
def test_number_groups_thousands_from_the_decimal(value: object, places: int | None, expected: str) -> None:
    assert number(value, places) == expected  # type: ignore[arg-type]


def test_a_figure_beyond_float_precision_is_written_exactly() -> None:
    # 2**53 + 1 and a cent: a float would print 9,007,199,254,740,992.00.
    assert amount("9007199254740993.01", "USD") == "9,007,199,254,740,993.01"


@pytest.mark.parametrize(
    ("value", "currency", "expected"),
    [
        ("1234.5", "USD", "1,234.50"),  # padded to the cent
        ("1234", "EUR", "1,234.00"),
        ("18747218206", "JPY", "18,747,218,206"),  # no minor unit
        ("100.703358", "USD", "100.703358"),  # more decimals than the cent: kept, never rounded away
        ("-5", "", "-5"),  # no currency: its own decimals
        ("", "USD", MISSING),
    ],
)
def test_amount_has_the_decimals_of_its_currency(value: str, currency: str, expected: str) -> None:
    assert amount(value, currency) == expected


def test_money_names_its_currency() -> None:
    assert money("251758394.94", "USD") == "251,758,394.94 USD"
    assert money(None, "USD") == MISSING
    assert money(Decimal("3"), "") == "3"


@pytest.mark.parametrize(
    ("fraction", "expected"),
    [
        (0.01234, "+1.23 %"),
        (-0.0095, "-0.95 %"),
        (0.0, "+0.00 %"),
        (-0.00001, "+0.00 %"),  # rounds to zero: no "-0.00 %"
        (12.5, "+1,250.00 %"),
        (None, MISSING),
        (float("nan"), MISSING),
    ],
)
def test_percent_is_signed_with_two_decimals(fraction: float | None, expected: str) -> None:
    assert percent(fraction) == expected


def test_percent_unsigned_and_other_places() -> None:
    assert percent(0.5, 1, signed=False) == "50.0 %"


def test_decimal_percent_of_an_exact_fraction() -> None:
    # 99 / 110 - 1 = -0.1 exactly
    assert decimal_percent(Decimal(99) / Decimal(110) - 1) == "-10.00 %"
    assert decimal_percent(Decimal("-0.0000001")) == "+0.00 %"
    assert decimal_percent(Decimal("0.12345"), 3) == "+12.345 %"
    assert decimal_percent(None) == MISSING


@pytest.mark.parametrize(
    ("days", "expected"),
    [
        (0, "today"),
        (1, "1 business day"),
        (2, "2 business days"),
        (1260, "1,260 business days"),
        (-1, "today"),
    ],
)
def test_age_in_business_days(days: int, expected: str) -> None:
    assert age(days) == expected


def test_dates_and_times() -> None:
    assert date_text(dt.date(2020, 1, 2)) == "2020-01-02"
    assert date_text(None) == MISSING
    assert sim_time_text(dt.datetime(2020, 1, 7, 16, 30, 59, tzinfo=dt.UTC)) == "2020-01-07 16:30"
    assert sim_time_text(None) == MISSING
    # A wall-clock time in UTC, whatever zone it was taken in.
    moment = dt.datetime(2026, 1, 1, 15, 2, 31, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    assert clock_time_text(moment) == "14:02:31 UTC"
    assert clock_time_text(None) == MISSING


def test_decimal_or_none() -> None:
    assert decimal_or_none("1.50") == Decimal("1.50")
    assert decimal_or_none("") is None
    assert decimal_or_none("x") is None
    assert decimal_or_none("Infinity") is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Decimal("-1"), "neg"),
        (Decimal("0.01"), "pos"),
        (Decimal(0), ""),
        (-0.5, "neg"),
        (None, ""),
        (float("nan"), ""),
    ],
)
def test_sign_class(value: Decimal | float | None, expected: str) -> None:
    assert sign_class(value) == expected


def test_enum_text() -> None:
    assert enum_text("BREAK_KIND_SETTLEMENT_DATE_MISMATCH", "BREAK_KIND_") == "settlement date mismatch"


@pytest.mark.parametrize(
    ("speed", "fastest", "expected"),
    [
        (1.0, False, "1 business day a second"),
        (2.0, False, "2 business days a second"),
        (0.25, False, "a business day every 4 seconds"),
        (0.0, True, "as fast as possible"),
        (0.0, False, MISSING),
    ],
)
def test_speed_text(speed: float, fastest: bool, expected: str) -> None:
    assert speed_text(speed, fastest) == expected
