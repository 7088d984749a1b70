"""The vectorised matcher at the level of its columns: key codes at the edge of the key table and the
side named when one is out of it, exact int64 arithmetic near the range limit, the smallest amounts
that make a position missing or explain a difference, and the integer types of what it returns."""

from __future__ import annotations

import numpy as np
import pytest

from services.recon.domain.columns import LIMIT, PendingColumns, SideColumns, ToleranceColumns
from services.recon.domain.matching import (
    BREAK,
    KINDS,
    MATCHED,
    OUTCOMES,
    TIMING,
    KeyColumns,
    MatchColumns,
    match_columns,
)
from services.recon.domain.records import BreakKind, Comparison, Outcome, Scope
from services.recon.domain.tolerances import Tolerance

BVC = Comparison.BOOK_VS_CUSTODIAN
TODAY = 738_953  # any ordinal: the pending settlements below run until TODAY


def side(*rows: tuple[int, int]) -> SideColumns:
    return SideColumns(
        np.array([k for k, _ in rows], dtype=np.int64), np.array([v for _, v in rows], dtype=np.int64)
    )


def pending(*rows: tuple[int, int]) -> PendingColumns:
    keys = np.array([k for k, _ in rows], dtype=np.int64)
    return PendingColumns(
        keys, np.array([v for _, v in rows], dtype=np.int64), np.full(len(rows), TODAY, dtype=np.int64)
    )


def match(book: SideColumns, other: SideColumns, size: int = 2, **kwargs: object) -> MatchColumns:
    return match_columns(
        book,
        other,
        comparison=BVC,
        keys=KeyColumns.uniform(size, Scope.POSITION),
        tolerances=ToleranceColumns.build([Tolerance()]),
        today=TODAY,
        **kwargs,  # type: ignore[arg-type]
    )


# ---------------------------------------------------------------- key codes


def test_the_highest_code_of_the_table_is_accepted_and_one_more_refused() -> None:
    # A table of 2 keys has codes 0 and 1
    assert match(side((1, 5)), side((0, 5))).codes.tolist() == [0, 1]
    with pytest.raises(ValueError, match=r"^book: key codes must be in 0\.\.1$"):
        match(side((2, 5)), side())
    with pytest.raises(ValueError, match=r"^book: key codes must be in 0\.\.1$"):
        match(side((-1, 5)), side())


def test_the_side_with_a_bad_code_is_named() -> None:
    with pytest.raises(ValueError, match=r"^other: key codes must be in 0\.\.2$"):
        match(side(), side((3, 5)), size=3)
    with pytest.raises(ValueError, match=r"^pending: key codes must be in 0\.\.2$"):
        match(side((0, 5)), side(), size=3, pending=pending((3, 5)))


# ---------------------------------------------------------------- exact near the limit


def test_sums_and_differences_stay_exact_near_the_range_limit() -> None:
    # 2^59 + 1 against 2^59 units: a float64 would see the two as equal (53-bit mantissa)
    big = 2**59
    result = match(side((0, big + 1)), side((0, big)), size=1)
    assert result.difference.tolist() == [-1]
    assert [OUTCOMES[o] for o in result.outcome] == [Outcome.BREAK]
    # duplicates summed exactly: (2^59 - 1) + 1 = 2^59 on the book, 2^59 on the other side
    summed = match(side((0, big - 1), (0, 1)), side((0, big)), size=1)
    assert summed.book.tolist() == [big] and summed.book_rows.tolist() == [2]
    assert [OUTCOMES[o] for o in summed.outcome] == [Outcome.MATCHED]
    assert big < LIMIT


def test_an_explained_part_stays_exact_near_the_range_limit() -> None:
    # The book counts 2^53 + 1 units the custodian has not settled: a pending of the same explains it
    # all, and the explained part is -(2^53 + 1) exactly (a float64 would round it to -2^53).
    units = 2**53 + 1
    result = match(side((0, units)), side(), size=1, pending=pending((0, units)))
    assert result.explained.tolist() == [-units]
    assert result.outcome.tolist() == [TIMING]


# ---------------------------------------------------------------- the smallest amounts


def test_one_unit_held_on_one_side_only_is_missing_on_the_other() -> None:
    # one unit = 10^-6 of a share
    result = match(side((0, 1)), side((1, 1)))
    assert [KINDS[k] for k in result.kind] == [BreakKind.MISSING_AT_CUSTODIAN, BreakKind.MISSING_INTERNALLY]
    both = match(side((0, 1)), side((0, 2)), size=1)
    assert [KINDS[k] for k in both.kind] == [BreakKind.QUANTITY_MISMATCH]


def test_a_pending_settlement_of_one_unit_explains_a_difference_of_one_unit() -> None:
    # book 100, custodian 100 + 1 unit: a pending sale of 1 unit (book value -1) explains +1
    hundred = 100_000_000
    result = match(side((0, hundred)), side((0, hundred + 1)), size=1, pending=pending((0, -1)))
    assert (result.outcome.tolist(), result.explained.tolist()) == ([TIMING], [1])


# ---------------------------------------------------------------- what comes back


def test_outcome_counts_list_every_outcome_even_when_absent() -> None:
    result = match(side((0, 5), (1, 7)), side((0, 5), (1, 7)))
    assert result.outcome.tolist() == [MATCHED, MATCHED]
    assert result.outcome_counts() == {
        Outcome.MATCHED: 2,
        Outcome.WITHIN_TOLERANCE: 0,
        Outcome.TIMING: 0,
        Outcome.BREAK: 0,
    }
    broken = match(side((0, 5)), side((0, 6)), size=1)
    assert broken.outcome.tolist() == [BREAK]


@pytest.mark.parametrize("comparison", [BVC, Comparison.BOOK_VS_LEDGER])
def test_the_columns_keep_their_declared_integer_types(comparison: Comparison) -> None:
    # Codes, outcomes and kinds are int8 (millions of keys), values and counts exact int64.
    keys = KeyColumns.uniform(2, Scope.CASH, tolerance_class=0)
    assert (keys.scope.dtype, keys.tolerance_class.dtype) == (np.int8, np.int64)
    result = match_columns(
        side((0, 5), (1, 5)),
        side((0, 6)),
        comparison=comparison,
        keys=keys,
        tolerances=ToleranceColumns.build([Tolerance()]),
        today=TODAY,
        pending=pending((1, 5)),
    )
    assert (result.outcome.dtype, result.kind.dtype) == (np.int8, np.int8)
    for column in (
        result.codes,
        result.book,
        result.other,
        result.book_rows,
        result.other_rows,
        result.explained,
    ):
        assert column.dtype == np.int64
