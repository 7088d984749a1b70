"""Paging's one rule (services/common/paging.py): sizes and tokens at their edges."""

from __future__ import annotations

import grpc
import pytest

from services.common.paging import DEFAULT_PAGE, MAX_PAGE, MAX_POSITION, page_size, position
from services.common.status import RequestError


def test_a_page_size_of_0_is_the_default_and_the_bounds_are_inclusive() -> None:
    assert page_size(0) == DEFAULT_PAGE
    assert (page_size(1), page_size(MAX_PAGE)) == (1, MAX_PAGE)
    for outside in (-1, MAX_PAGE + 1):
        with pytest.raises(RequestError) as refused:
            page_size(outside)
        assert refused.value.code == grpc.StatusCode.INVALID_ARGUMENT
        assert refused.value.violations[0].field == "page_size"
        assert str(outside) in refused.value.violations[0].description


@pytest.mark.parametrize(
    "token",
    [
        "x",  # not a number
        "-1",  # a sign is not a digit
        " 5",  # nor is a blank
        "\u0661\u0662",  # Arabic-Indic digits: isdigit() says yes, int() would read 12
        str(MAX_POSITION + 1),  # one past what a store position can hold (GetLedger's OverflowError)
        "99999999999999999999",  # the token that crashed GetLedger
        "0" * 20,  # longer than any position, even with the value 0
    ],
)
def test_a_token_that_is_not_a_position_of_ours_is_invalid_argument(token: str) -> None:
    with pytest.raises(RequestError) as refused:
        position(token)
    assert refused.value.code == grpc.StatusCode.INVALID_ARGUMENT
    assert [v.field for v in refused.value.violations] == ["page_token"]


def test_positions_up_to_the_limit_are_read() -> None:
    assert position("") == 0
    assert position("0") == 0 and position("17") == 17
    assert position(str(MAX_POSITION)) == MAX_POSITION
    # A list of 40 items hands out tokens up to 40 (the end): 41 was never handed out.
    assert position("40", at_most=40) == 40
    with pytest.raises(RequestError):
        position("41", at_most=40)
