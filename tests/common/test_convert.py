from __future__ import annotations

import datetime
from decimal import Decimal

import grpc
import pytest
from hypothesis import given
from hypothesis import strategies as st

from opsuite.common.v1 import common_pb2
from services.common.convert import (
    date_from_proto,
    date_to_proto,
    decimal_from_proto,
    decimal_to_proto,
    money_from_proto,
    money_to_proto,
    timestamp_from_proto,
    timestamp_to_proto,
)
from services.common.status import RequestError

books_decimals = st.decimals(
    allow_nan=False, allow_infinity=False, min_value=-(10**20), max_value=10**20, places=10
)
any_exponent = st.builds(
    lambda digits, exponent, negative: Decimal((int(negative), tuple(int(d) for d in digits), exponent)),
    st.text("0123456789", min_size=1, max_size=12),
    st.integers(min_value=-20, max_value=15),
    st.booleans(),
)


@given(st.one_of(books_decimals, any_exponent))
def test_decimal_round_trips_exactly_in_plain_notation(value: Decimal) -> None:
    message = decimal_to_proto(value)
    assert "e" not in message.value.lower()
    back = decimal_from_proto(message, "price")
    assert back == value
    # The scale survives too: "1.50" stays "1.50", so a price keeps its tick precision.
    assert back.as_tuple().exponent == min(value.as_tuple().exponent, 0)


def test_exponent_notation_becomes_plain() -> None:
    assert decimal_to_proto(Decimal("1E+2")).value == "100"
    assert decimal_to_proto(Decimal("1.2300")).value == "1.2300"
    assert decimal_to_proto(Decimal("-5E-3")).value == "-0.005"


def test_sending_a_non_finite_decimal_is_a_bug() -> None:
    with pytest.raises(ValueError):
        decimal_to_proto(Decimal("NaN"))


@pytest.mark.parametrize("text", ["", "  ", "abc", "1.2.3", "NaN", "Infinity", "-inf", "1E+40", "1" * 101])
def test_bad_decimal_names_the_field(text: str) -> None:
    with pytest.raises(RequestError) as caught:
        decimal_from_proto(common_pb2.Decimal(value=text), "legs[1].quantity")
    error = caught.value
    assert error.code == grpc.StatusCode.INVALID_ARGUMENT
    assert [v.field for v in error.violations] == ["legs[1].quantity"]
    assert "legs[1].quantity" in error.message


@given(books_decimals, st.sampled_from(["USD", "EUR", "GBP", "JPY"]))
def test_money_round_trips(amount: Decimal, currency: str) -> None:
    assert money_from_proto(money_to_proto(amount, currency), "gross") == (amount, currency)


def test_money_errors_name_the_sub_field() -> None:
    with pytest.raises(RequestError) as caught:
        money_from_proto(common_pb2.Money(currency="USD"), "fill.net_amount")
    assert caught.value.violations[0].field == "fill.net_amount.amount"
    with pytest.raises(RequestError) as caught:
        money_from_proto(money_to_proto(Decimal("1"), "usd"), "fill.net_amount")
    assert caught.value.violations[0].field == "fill.net_amount.currency"


@given(st.dates())
def test_date_round_trips(value: datetime.date) -> None:
    assert date_from_proto(date_to_proto(value), "trade_date") == value


@pytest.mark.parametrize(("year", "month", "day"), [(0, 0, 0), (2021, 2, 29), (2021, 13, 1), (2021, 0, 10)])
def test_bad_date_names_the_field(year: int, month: int, day: int) -> None:
    with pytest.raises(RequestError) as caught:
        date_from_proto(common_pb2.Date(year=year, month=month, day=day), "as_of")
    assert caught.value.violations[0].field == "as_of"


@given(st.datetimes(min_value=datetime.datetime(1970, 1, 1), timezones=st.just(datetime.UTC)))
def test_timestamp_round_trips_as_aware_utc(value: datetime.datetime) -> None:
    back = timestamp_from_proto(timestamp_to_proto(value))
    assert back == value
    assert back.tzinfo is not None


def test_a_naive_datetime_is_refused_rather_than_guessed() -> None:
    naive = datetime.datetime(2020, 1, 2, 16, 0)
    with pytest.raises(ValueError, match="must be timezone-aware"):
        timestamp_to_proto(naive)
    aware = naive.replace(tzinfo=datetime.UTC)
    assert timestamp_from_proto(timestamp_to_proto(aware)) == aware


def test_negative_zero_is_sent_as_zero_with_its_scale() -> None:
    # A sum that nets to nothing ("-0.00") must not show a sign; the smallest negative is kept.
    assert decimal_to_proto(Decimal("-0.00")).value == "0.00"
    assert decimal_to_proto(Decimal("-0")).value == "0"
    assert decimal_to_proto(Decimal("-0.01")).value == "-0.01"


def test_an_aware_datetime_keeps_its_instant_whatever_its_zone() -> None:
    # 21:00 at UTC+05:00 is 16:00 UTC: the offset is applied, not replaced by UTC.
    five_east = datetime.timezone(datetime.timedelta(hours=5))
    value = datetime.datetime(2020, 1, 2, 21, 0, tzinfo=five_east)
    assert timestamp_from_proto(timestamp_to_proto(value)) == datetime.datetime(
        2020, 1, 2, 16, 0, tzinfo=datetime.UTC
    )


def test_sending_a_non_finite_decimal_names_the_value() -> None:
    with pytest.raises(ValueError, match="non-finite decimal: Infinity"):
        decimal_to_proto(Decimal("Infinity"))


def _refusal(text: str) -> RequestError:
    with pytest.raises(RequestError) as caught:
        decimal_from_proto(common_pb2.Decimal(value=text), "price")
    return caught.value


@pytest.mark.parametrize(
    ("text", "description"),
    [
        ("", "a decimal value is required"),
        ("1.2.3", "'1.2.3' is not a decimal number"),
        ("-Infinity", "'-Infinity' is not a finite number"),
        ("0" * 99 + ".1", "decimal is longer than 100 characters"),
        ("1E+30", "'1E+30' is out of range (at most 30 integer digits and 30 decimal places)"),
    ],
)
def test_each_refused_decimal_says_why_with_a_machine_readable_reason(text: str, description: str) -> None:
    error = _refusal(text)
    assert error.reason == "INVALID_DECIMAL"
    assert error.violations == (("price", description),)
    assert error.message == f"price: {description}"


# The limits, each one unit inside, at and outside: 100 characters of text, 30 integer digits
# (adjusted exponent 29, the largest allowed), 30 decimal places (exponent -30).
@pytest.mark.parametrize(
    ("text", "accepted"),
    [
        ("0" * 97 + ".1", True),  # 99 characters
        ("0" * 98 + ".1", True),  # 100 characters: the limit
        ("0" * 99 + ".1", False),  # 101 characters
        ("9" * 29, True),  # 29 integer digits
        ("9" * 30, True),  # 30 integer digits: the limit
        ("1" + "0" * 30, False),  # 31 integer digits
        ("-" + "9" * 30, True),  # the sign is not a digit
        ("0." + "0" * 28 + "1", True),  # 29 decimal places
        ("0." + "0" * 29 + "1", True),  # 30 decimal places: the limit
        ("0." + "0" * 30 + "1", False),  # 31 decimal places
        ("0E-40", True),  # zero is zero at any scale: nothing to overflow
        ("0E+40", True),
    ],
)
def test_decimal_limits_at_their_edges(text: str, accepted: bool) -> None:
    message = common_pb2.Decimal(value=text)
    if accepted:
        assert decimal_from_proto(message, "price") == Decimal(text)
    else:
        assert _refusal(text).code == grpc.StatusCode.INVALID_ARGUMENT


@pytest.mark.parametrize("currency", ["USDX", "US", "", "usd", "U5D", "USD "])
def test_a_currency_is_exactly_three_capital_letters(currency: str) -> None:
    with pytest.raises(RequestError) as caught:
        money_from_proto(common_pb2.Money(amount=common_pb2.Decimal(value="1"), currency=currency), "gross")
    error = caught.value
    description = f"{currency!r} is not an ISO 4217 code (three capital letters)"
    assert error.reason == "INVALID_CURRENCY"
    assert error.violations == (("gross.currency", description),)


@pytest.mark.parametrize(
    ("year", "month", "day", "description"),
    [
        (0, 0, 0, "a date is required"),
        # Any one part set means the caller sent a date, so the answer is why it is not one.
        (1, 0, 0, "0001-00-00 is not a date: month must be in 1..12"),
        (0, 1, 0, "0000-01-00 is not a date: year 0 is out of range"),
        (0, 0, 1, "0000-00-01 is not a date: year 0 is out of range"),
        (2021, 1, 0, "2021-01-00 is not a date: day is out of range for month"),
    ],
)
def test_an_unset_date_is_required_and_a_partial_one_is_not_a_date(
    year: int, month: int, day: int, description: str
) -> None:
    with pytest.raises(RequestError) as caught:
        date_from_proto(common_pb2.Date(year=year, month=month, day=day), "as_of")
    assert caught.value.reason == "INVALID_DATE"
    assert caught.value.violations == (("as_of", description),)
