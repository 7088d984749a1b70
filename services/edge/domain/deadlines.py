"""The deadline an HTTP request gives its gRPC call: a `grpc-timeout` header, `X-Request-Timeout`, or
the edge's default.

`grpc-timeout` is gRPC's own format (doc/PROTOCOL-HTTP2.md: "Timeout → TimeoutValue TimeoutUnit",
at most 8 digits, then H, M, S, m, u or n): `5S`, `200m`. `X-Request-Timeout` is plain seconds
(`2.5`). A value that is neither is refused (ValueError, with what is accepted), not ignored.

A deadline longer than MAX_DEADLINE_S (a hundred years) is taken as that, as grpc-go clamps one it
cannot hold: gRPC's core keeps a call's deadline as nanoseconds since 1970 in 64 bits, which end in
2262, and a timeout reaching past that (`99999999H`, `X-Request-Timeout: 1e12`) wraps into the past,
so the call would fail at once with DEADLINE_EXCEEDED (a 504 no service caused).
"""

from __future__ import annotations

import math
import re

_GRPC_TIMEOUT = re.compile(r"([0-9]{1,8})([HMSmun])")
_UNIT_SECONDS = {"H": 3600.0, "M": 60.0, "S": 1.0, "m": 1e-3, "u": 1e-6, "n": 1e-9}

GRPC_TIMEOUT_HEADER = "grpc-timeout"
REQUEST_TIMEOUT_HEADER = "x-request-timeout"
MAX_DEADLINE_S = 100 * 365 * 24 * 3600.0


def parse_grpc_timeout(text: str) -> float:
    """Seconds of a gRPC timeout (`5S` is 5.0, `200m` is 0.2)."""
    found = _GRPC_TIMEOUT.fullmatch(text.strip())
    if found is None:
        raise ValueError(
            f"grpc-timeout {text!r} is not gRPC's timeout: give 1 to 8 digits and a unit, "
            "H (hours), M (minutes), S (seconds), m (milliseconds), u (microseconds) or n (nanoseconds), "
            "such as 5S or 200m"
        )
    seconds = int(found.group(1)) * _UNIT_SECONDS[found.group(2)]
    if seconds <= 0:
        raise ValueError(f"grpc-timeout {text!r} is no time at all: give a timeout above 0")
    return seconds


def parse_request_timeout(text: str) -> float:
    """Seconds of an X-Request-Timeout header (`2.5`): a finite number above 0."""
    try:
        seconds = float(text.strip())
    except ValueError:
        seconds = math.nan
    if not math.isfinite(seconds) or seconds <= 0:
        raise ValueError(f"X-Request-Timeout {text!r}: give seconds, a number above 0 such as 2.5")
    return seconds


def deadline_seconds(headers: dict[str, str], default_s: float) -> float:
    """The call's timeout from the request's headers (lower-case names): grpc-timeout first, then
    X-Request-Timeout, else `default_s`; at most MAX_DEADLINE_S. ValueError when a header given is
    not understood."""
    if GRPC_TIMEOUT_HEADER in headers:
        seconds = parse_grpc_timeout(headers[GRPC_TIMEOUT_HEADER])
    elif REQUEST_TIMEOUT_HEADER in headers:
        seconds = parse_request_timeout(headers[REQUEST_TIMEOUT_HEADER])
    else:
        seconds = default_s
    return min(seconds, MAX_DEADLINE_S)
