"""Exact conversions between Python values and the shared proto types (opsuite.common.v1).

Decimals travel as strings in plain notation so every figure reconciles to
the cent; parsing a request's value names the field on failure, so the
caller gets an INVALID_ARGUMENT it can act on rather than a crash.
"""

from __future__ import annotations

import datetime
import re
from decimal import Decimal, InvalidOperation

import grpc
from google.protobuf import timestamp_pb2

from opsuite.common.v1 import common_pb2
from services.common.status import FieldViolation, RequestError

# Bounds well beyond any amount, quantity, price or rate of the books, so a
# hostile "1E+999999999" cannot make later arithmetic explode.
MAX_ADJUSTED_EXPONENT = 30
MIN_EXPONENT = -30
_MAX_TEXT = 100
_CURRENCY = re.compile(r"[A-Z]{3}")


def _invalid(field: str, description: str, reason: str) -> RequestError:
    return RequestError(
        grpc.StatusCode.INVALID_ARGUMENT,
        f"{field}: {description}",
        violations=[FieldViolation(field, description)],
        reason=reason,
    )


def decimal_to_proto(value: Decimal) -> common_pb2.Decimal:
    """Plain notation with the value's own scale: Decimal("1E+2") -> "100", Decimal("1.50") -> "1.50";
    negative zero is sent as zero ("-0.00" -> "0.00"), so a figure that nets to nothing never
    shows a sign."""
    if not value.is_finite():
        raise ValueError(f"cannot send a non-finite decimal: {value}")
    if not value and value.is_signed():
        value = -value
    return common_pb2.Decimal(value=format(value, "f"))


def decimal_from_proto(msg: common_pb2.Decimal, field: str) -> Decimal:
    """The exact value of a request's decimal; RequestError(INVALID_ARGUMENT) naming `field` otherwise."""
    text = msg.value
    if not text.strip():
        raise _invalid(field, "a decimal value is required", "INVALID_DECIMAL")
    if len(text) > _MAX_TEXT:
        raise _invalid(field, f"decimal is longer than {_MAX_TEXT} characters", "INVALID_DECIMAL")
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise _invalid(field, f"{text!r} is not a decimal number", "INVALID_DECIMAL") from None
    if not value.is_finite():
        raise _invalid(field, f"{text!r} is not a finite number", "INVALID_DECIMAL")
    if value and (value.adjusted() >= MAX_ADJUSTED_EXPONENT or value.as_tuple().exponent < MIN_EXPONENT):  # type: ignore[operator]
        raise _invalid(
            field,
            f"{text!r} is out of range (at most {MAX_ADJUSTED_EXPONENT} integer digits and "
            f"{-MIN_EXPONENT} decimal places)",
            "INVALID_DECIMAL",
        )
    return value


def money_to_proto(amount: Decimal, currency: str) -> common_pb2.Money:
    return common_pb2.Money(amount=decimal_to_proto(amount), currency=currency)


def money_from_proto(msg: common_pb2.Money, field: str) -> tuple[Decimal, str]:
    """(amount, currency) of a request's money; the error names `field.amount` or `field.currency`."""
    amount = decimal_from_proto(msg.amount, f"{field}.amount")
    if not _CURRENCY.fullmatch(msg.currency):
        raise _invalid(
            f"{field}.currency",
            f"{msg.currency!r} is not an ISO 4217 code (three capital letters)",
            "INVALID_CURRENCY",
        )
    return amount, msg.currency


def date_to_proto(value: datetime.date) -> common_pb2.Date:
    return common_pb2.Date(year=value.year, month=value.month, day=value.day)


def date_from_proto(msg: common_pb2.Date, field: str) -> datetime.date:
    """The calendar date of a request's Date; RequestError naming `field` when unset or impossible."""
    if msg.year == 0 and msg.month == 0 and msg.day == 0:
        raise _invalid(field, "a date is required", "INVALID_DATE")
    try:
        return datetime.date(msg.year, msg.month, msg.day)
    except ValueError as error:
        raise _invalid(
            field, f"{msg.year:04d}-{msg.month:02d}-{msg.day:02d} is not a date: {error}", "INVALID_DATE"
        ) from None


def timestamp_to_proto(value: datetime.datetime) -> timestamp_pb2.Timestamp:
    """An aware datetime as a Timestamp; ValueError for a naive one (whose zone would be a guess)."""
    if value.tzinfo is None:
        raise ValueError(f"a time sent on the wire must be timezone-aware, got {value!r}")
    ts = timestamp_pb2.Timestamp()
    ts.FromDatetime(value)
    return ts


def timestamp_from_proto(ts: timestamp_pb2.Timestamp) -> datetime.datetime:
    """An aware datetime in UTC."""
    return ts.ToDatetime(tzinfo=datetime.UTC)


def timestamp_from_request(ts: timestamp_pb2.Timestamp, field: str) -> datetime.datetime:
    """A request's Timestamp as an aware datetime in UTC; RequestError naming `field` when it is
    outside the years 1 to 9999 or its nanos are out of range."""
    try:
        return timestamp_from_proto(ts)
    except (ValueError, OverflowError) as error:
        raise _invalid(
            field, f"seconds={ts.seconds} nanos={ts.nanos} is not a time: {error}", "INVALID_TIMESTAMP"
        ) from None
