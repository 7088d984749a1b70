"""Paging, one rule for every list RPC: a page size between 0 (the default) and a maximum, and page
tokens that are positions the service handed out. A token is validated, never trusted: anything
that is not one of ours (letters, non-ASCII digits, a number past what a position can be) is
INVALID_ARGUMENT naming page_token, before it reaches a store.
"""

from __future__ import annotations

import grpc

from services.common.status import FieldViolation, RequestError

DEFAULT_PAGE = 100
MAX_PAGE = 1_000
# The largest position a store can hold (a signed 64-bit integer): a longer token is not ours.
MAX_POSITION = 2**63 - 1


def page_size(value: int, *, default: int = DEFAULT_PAGE, maximum: int = MAX_PAGE) -> int:
    """The size asked for, `default` for 0; INVALID_ARGUMENT outside 0..maximum."""
    if not 0 <= value <= maximum:
        raise RequestError(
            grpc.StatusCode.INVALID_ARGUMENT,
            "invalid page_size",
            violations=[FieldViolation("page_size", f"must be between 0 and {maximum}, got {value}")],
        )
    return value or default


def position(token: str, *, at_most: int = MAX_POSITION) -> int:
    """The position a page token stands for (0 without one); INVALID_ARGUMENT when it is not a token
    this service could have handed out (at most `at_most`)."""
    if not token:
        return 0
    if (
        not (token.isascii() and token.isdigit())
        or len(token) > len(str(MAX_POSITION))
        or int(token) > at_most
    ):
        raise RequestError(
            grpc.StatusCode.INVALID_ARGUMENT,
            "invalid page_token",
            violations=[FieldViolation("page_token", "is not a token returned by a previous page")],
        )
    return int(token)
