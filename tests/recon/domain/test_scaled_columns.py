"""The matcher's columns: exact scaled integers at their limits, dense key codes, and the vectorised
tolerance on both of its paths (the fast int64 one and the exact one for relative > 1 or finer than
10^-9)."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest

from services.recon.domain.columns import (
    LIMIT,
    KeyIndex,
    PendingColumns,
    SideColumns,
    ToleranceColumns,
    from_scaled,
    scaled_array,
    to_scaled,
)
from services.recon.domain.records import ItemKey, Scope
from services.recon.domain.tolerances import Tolerance, within

D = Decimal


def test_values_scale_to_exact_integers() -> None:
    assert to_scaled(D("1.5")) == 1_500_000
    assert to_scaled(D("-0.000001")) == -1
    assert to_scaled(D("12.34"), scale=2) == 1234
    assert scaled_array([D(1), D("0.25")]).tolist() == [1_000_000, 250_000]
    assert scaled_array([D(1)]).dtype == np.int64


def test_a_value_finer_than_the_scale_is_refused() -> None:
    with pytest.raises(ValueError, match=r"^1.0000001 is finer than 10\^-6$"):
        to_scaled(D("1.0000001"))
    with pytest.raises(ValueError, match=r"^1.234 is finer than 10\^-2$"):
        to_scaled(D("1.234"), scale=2)


def test_the_range_limit_is_2_to_the_60_units() -> None:
    # LIMIT = 2^60 = 1,152,921,504,606,846,976 units of 10^-6: one unit inside is accepted, at it refused
    assert LIMIT == 1_152_921_504_606_846_976
    inside = D("1152921504606.846975")
    assert to_scaled(inside) == LIMIT - 1
    assert to_scaled(-inside) == -(LIMIT - 1)
    for at in (D("1152921504606.846976"), D("-1152921504606.846976")):
        with pytest.raises(
            ValueError, match=rf"^{at} is too large for scale 6 \(\|value\| < 1152921504606846976 x 10\^-6\)$"
        ):
            to_scaled(at)


def test_scaled_integers_come_back_without_trailing_zeros() -> None:
    assert str(from_scaled(1_500_000)) == "1.5"
    assert str(from_scaled(2_000_000)) == "2"
    assert str(from_scaled(0)) == "0"
    assert str(from_scaled(-1)) == "-0.000001"
    assert str(from_scaled(np.int64(120_000_000))) == "120"
    assert str(from_scaled(1234, scale=2)) == "12.34"


def test_key_codes_are_dense_in_first_seen_order() -> None:
    index = KeyIndex()
    a, b = ItemKey("M", Scope.POSITION, instrument_id="A"), ItemKey("M", Scope.CASH, currency="USD")
    assert index.encode([b, a, b]).tolist() == [0, 1, 0]
    assert index.code(a) == 1 and index.code(ItemKey("M", Scope.POSITION, instrument_id="C")) == 2
    assert len(index) == 3 and index.keys[:2] == [b, a]


def test_side_columns_must_be_one_dimensional_and_of_one_length() -> None:
    one = np.zeros(1, dtype=np.int64)
    two = np.zeros(2, dtype=np.int64)
    with pytest.raises(ValueError, match=r"^keys and values must be 1-d arrays of the same length$"):
        SideColumns(one, two)
    with pytest.raises(ValueError, match="1-d arrays"):
        SideColumns(np.zeros((1, 1), dtype=np.int64), np.zeros((1, 1), dtype=np.int64))
    assert len(SideColumns(two, two).keys) == 2


def test_empty_pending_columns() -> None:
    empty = PendingColumns.empty()
    assert [len(a) for a in (empty.keys, empty.values, empty.grace_until)] == [0, 0, 0]
    assert empty.keys.dtype == np.int64


def test_no_tolerances_build_one_exact_class() -> None:
    columns = ToleranceColumns.build([])
    assert columns.classes == (Tolerance(),)
    assert columns.within(np.array([5]), np.array([0]), np.array([0])).tolist() == [True]
    assert columns.within(np.array([5]), np.array([1]), np.array([0])).tolist() == [False]


def test_tolerance_columns_are_scaled() -> None:
    columns = ToleranceColumns.build([Tolerance(D("0.05"), D("0.001"), D(2), D("0.5"))])
    # absolute in units of 10^-6; relative as numerator over 10^3 (the finest relative, 0.001, has 3 places)
    assert (columns.absolute_above.tolist(), columns.absolute_below.tolist()) == ([50_000], [2_000_000])
    assert columns.relative_exponent == 3
    assert (columns.relative_above.tolist(), columns.relative_below.tolist()) == ([1], [500])
    # An absolute beyond any difference is capped (4 x 2^60), not overflowed
    huge = ToleranceColumns.build([Tolerance.symmetric(D(10) ** 20)])
    assert huge.absolute_above.tolist() == [4 * LIMIT]


def vectorised(tolerance: Tolerance, book: str, other: str) -> bool:
    columns = ToleranceColumns.build([tolerance])
    b, o = to_scaled(D(book)), to_scaled(D(other))
    return bool(columns.within(np.array([b]), np.array([o - b]), np.array([0]))[0])


@pytest.mark.parametrize(
    ("relative", "book", "other", "inside"),
    [
        # relative 1 (numerator == unit, the fast path): |d| <= |book|
        ("1", "100", "200", True),
        ("1", "100", "200.000001", False),
        # relative 1.5 (numerator > unit, the exact path): 150 allowed on a book of 100
        ("1.5", "100", "250", True),
        ("1.5", "100", "250.000001", False),
        ("1.5", "-100", "-250", True),
        # relative 10^-10 (finer than 10^-9, the exact path): book 10^10 allows 1
        ("0.0000000001", "10000000000", "10000000001", True),
        ("0.0000000001", "10000000000", "10000000001.000001", False),
        # relative 10^-9 (the finest fast path): book 10^9 allows 1
        ("0.000000001", "1000000000", "1000000001", True),
        ("0.000000001", "1000000000", "1000000001.000001", False),
        # relative 0.5 on a large book: 0.5 x 1,000,000,000.000001 = 500,000,000.0000005 (floored in units)
        ("0.5", "1000000000.000001", "1500000000.000001", True),
        ("0.5", "1000000000.000001", "1500000000.000002", False),
    ],
)
def test_relative_tolerance_on_both_paths_agrees_with_decimal(
    relative: str, book: str, other: str, inside: bool
) -> None:
    tolerance = Tolerance.symmetric("0", relative)
    assert within(D(book), D(other), tolerance) is inside
    assert vectorised(tolerance, book, other) is inside


def test_a_relative_tolerance_on_one_side_only() -> None:
    tolerance = Tolerance(relative_below=D("0.1"))
    # book 100: below, 10 allowed; above, nothing (relative_above 0, absolute 0)
    assert vectorised(tolerance, "100", "90")
    assert not vectorised(tolerance, "100", "89.999999")
    assert not vectorised(tolerance, "100", "100.000001")
    mixed = ToleranceColumns.build([Tolerance(), tolerance])
    book = np.array([to_scaled(D(100))] * 2)
    difference = np.array([to_scaled(D(-10))] * 2)
    assert mixed.within(book, difference, np.array([0, 1])).tolist() == [False, True]


def raw_within(relative: str, book: int, difference: int) -> bool:
    columns = ToleranceColumns.build([Tolerance.symmetric("0", relative)])
    return bool(columns.within(np.array([book]), np.array([difference]), np.array([0]))[0])


def test_the_exact_path_is_exact_where_a_float_is_not() -> None:
    # relative 1.5 (exact path): book 10^17 units allows 1.5 x 10^17; one unit more is outside
    # (10 x (1.5e17 + 1) = 1.5e18 + 10 > 15 x 1e17; a float64 rounds the + 10 away)
    assert not raw_within("1.5", 10**17, 15 * 10**16 + 1)
    # book 10^17 + 1 allows 1.5e17 + 1.5: 10 x (1.5e17 + 1) = 1.5e18 + 10 <= 15 x (1e17 + 1) = 1.5e18 + 15
    assert raw_within("1.5", 10**17 + 1, 15 * 10**16 + 1)
    # relative 10 on a book of 10^18 units: 10^19 would overflow int64, the exact path does not
    assert raw_within("10", 10**18, -(10**18))


def test_the_fast_path_rounds_the_remainder_down() -> None:
    # relative 0.5 on a book of 3 units: 1.5 allowed, floored to 1 (5 x 3 // 10)
    assert raw_within("0.5", 3, 1)
    assert not raw_within("0.5", 3, 2)


def test_scaled_arrays_use_the_scale_given() -> None:
    assert scaled_array([D("12.34")], scale=2).tolist() == [1234]
