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


def test_naive_datetime_is_taken_as_utc() -> None:
    naive = datetime.datetime(2020, 1, 2, 16, 0)
    assert timestamp_from_proto(timestamp_to_proto(naive)) == naive.replace(tzinfo=datetime.UTC)
