"""The gRPC code → HTTP status mapping of google/rpc/code.proto, and the deadline headers."""

from __future__ import annotations

import grpc
import pytest
from google.rpc import code_pb2

from services.edge.domain.deadlines import (
    MAX_DEADLINE_S,
    deadline_seconds,
    parse_grpc_timeout,
    parse_request_timeout,
)
from services.edge.domain.http_status import CODES, code_name, http_status

# Copied from the "HTTP Mapping:" line of each code's comment in google/rpc/code.proto.
CODE_PROTO_HTTP_MAPPING = {
    "OK": 200,
    "CANCELLED": 499,
    "UNKNOWN": 500,
    "INVALID_ARGUMENT": 400,
    "DEADLINE_EXCEEDED": 504,
    "NOT_FOUND": 404,
    "ALREADY_EXISTS": 409,
    "PERMISSION_DENIED": 403,
    "UNAUTHENTICATED": 401,
    "RESOURCE_EXHAUSTED": 429,
    "FAILED_PRECONDITION": 400,
    "ABORTED": 409,
    "OUT_OF_RANGE": 400,
    "UNIMPLEMENTED": 501,
    "INTERNAL": 500,
    "UNAVAILABLE": 503,
    "DATA_LOSS": 500,
}


def test_every_code_maps_as_code_proto_says() -> None:
    names = {value.name: value.number for value in code_pb2.DESCRIPTOR.enum_types_by_name["Code"].values}
    assert set(names) == set(CODE_PROTO_HTTP_MAPPING)
    for name, number in names.items():
        assert CODES[number][0] == name
        assert http_status(number) == CODE_PROTO_HTTP_MAPPING[name], name


def test_grpc_status_codes_have_the_same_numbers() -> None:
    for code in grpc.StatusCode:
        assert CODES[code.value[0]][0] == code.name


def test_a_code_outside_code_proto_is_a_500() -> None:
    assert http_status(99) == 500
    assert code_name(99) == "CODE_99"
    assert code_name(14) == "UNAVAILABLE"


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("5S", 5.0),
        ("200m", 0.2),
        ("2M", 120.0),
        ("1H", 3600.0),
        ("1500u", 0.0015),
        ("99999999n", 0.099999999),
    ],
)
def test_grpc_timeouts(text: str, seconds: float) -> None:
    assert parse_grpc_timeout(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["5", "5s", "1.5S", "123456789S", "S", "-1S", ""])
def test_bad_grpc_timeouts_say_what_is_accepted(text: str) -> None:
    with pytest.raises(ValueError) as refused:
        parse_grpc_timeout(text)
    assert str(refused.value) == (
        f"grpc-timeout {text!r} is not gRPC's timeout: give 1 to 8 digits and a unit, H (hours), M (minutes), "
        "S (seconds), m (milliseconds), u (microseconds) or n (nanoseconds), such as 5S or 200m"
    )


def test_a_zero_grpc_timeout_is_refused() -> None:
    with pytest.raises(ValueError) as refused:
        parse_grpc_timeout("0m")
    assert str(refused.value) == "grpc-timeout '0m' is no time at all: give a timeout above 0"
    assert parse_grpc_timeout("1n") == pytest.approx(1e-9)


def test_request_timeouts() -> None:
    assert parse_request_timeout(" 2.5 ") == 2.5
    assert parse_request_timeout("0.5") == 0.5
    for bad in ("0", "-1", "nan", "inf", "soon", ""):
        with pytest.raises(ValueError) as refused:
            parse_request_timeout(bad)
        assert str(refused.value) == f"X-Request-Timeout {bad!r}: give seconds, a number above 0 such as 2.5"


def test_grpc_timeout_wins_then_request_timeout_then_the_default() -> None:
    assert deadline_seconds({"grpc-timeout": "100m", "x-request-timeout": "7"}, 30.0) == pytest.approx(0.1)
    assert deadline_seconds({"x-request-timeout": "7"}, 30.0) == 7.0
    assert deadline_seconds({}, 30.0) == 30.0


def test_a_deadline_past_what_grpc_holds_is_a_hundred_years() -> None:
    """gRPC's core keeps a deadline as int64 nanoseconds since 1970: a timeout past 2262 wrapped
    into the past and the call failed at once, a 504 in 2 ms (the schemathesis fuzz found it with
    X-Request-Timeout: 6.874943384198148e+16)."""
    assert MAX_DEADLINE_S == 100 * 365 * 24 * 3600
    assert deadline_seconds({"grpc-timeout": "99999999H"}, 30.0) == MAX_DEADLINE_S
    assert deadline_seconds({"x-request-timeout": "6.874943384198148e+16"}, 30.0) == MAX_DEADLINE_S
    assert deadline_seconds({"x-request-timeout": "1e308"}, 30.0) == MAX_DEADLINE_S
    assert deadline_seconds({}, 1e12) == MAX_DEADLINE_S
    assert deadline_seconds({"grpc-timeout": "99999999M"}, 30.0) == MAX_DEADLINE_S  # 190 years
    assert deadline_seconds({"grpc-timeout": "99999999S"}, 30.0) == 99999999.0  # three years: kept
