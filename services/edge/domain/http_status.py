"""Which HTTP status answers a gRPC status code: google/rpc/code.proto's "HTTP Mapping" of each code.

The numbers are google.rpc.Code's (the same as grpc.StatusCode's), so this module needs neither.
"""

from __future__ import annotations

# code number: (name, HTTP status), in code.proto's order.
CODES: dict[int, tuple[str, int]] = {
    0: ("OK", 200),
    1: ("CANCELLED", 499),  # Client Closed Request
    2: ("UNKNOWN", 500),
    3: ("INVALID_ARGUMENT", 400),
    4: ("DEADLINE_EXCEEDED", 504),
    5: ("NOT_FOUND", 404),
    6: ("ALREADY_EXISTS", 409),
    7: ("PERMISSION_DENIED", 403),
    16: ("UNAUTHENTICATED", 401),
    8: ("RESOURCE_EXHAUSTED", 429),
    9: ("FAILED_PRECONDITION", 400),
    10: ("ABORTED", 409),
    11: ("OUT_OF_RANGE", 400),
    12: ("UNIMPLEMENTED", 501),
    13: ("INTERNAL", 500),
    14: ("UNAVAILABLE", 503),
    15: ("DATA_LOSS", 500),
}

# Codes by name, for the edge's own refusals.
OK = 0
CANCELLED = 1
UNKNOWN = 2
INVALID_ARGUMENT = 3
DEADLINE_EXCEEDED = 4
NOT_FOUND = 5
RESOURCE_EXHAUSTED = 8
UNAUTHENTICATED = 16
UNIMPLEMENTED = 12
INTERNAL = 13
UNAVAILABLE = 14


def http_status(code: int) -> int:
    """The HTTP status of a gRPC code; 500 for a number code.proto does not define (as UNKNOWN)."""
    return CODES[code][1] if code in CODES else 500


def code_name(code: int) -> str:
    return CODES[code][0] if code in CODES else f"CODE_{code}"
