"""Columnar inputs of the matcher: exact scaled int64 values and dense int key codes.

Quantities and amounts become int64 counts of 10^-scale units (micro-units at the
default scale 6), so comparing and summing them is exact and vectorised. A value
finer than 10^-scale, or too large for the headroom the matcher needs (|value| <
2^60 units of 10^-scale, about 1.15e12 at scale 6), is refused, never rounded.

Keys are dense codes 0..n-1 handed out by a KeyIndex; the matcher then needs no
sort at all (it scatters into arrays indexed by code).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import numpy.typing as npt

from services.recon.domain.records import ItemKey, Scope
from services.recon.domain.tolerances import Tolerance

SCALE = 6
_ONE = Decimal(1)
LIMIT = 2**60  # |scaled value| bound: leaves room for sums of duplicates and differences in int64

Int64Array = npt.NDArray[np.int64]
SCOPE_CODES: dict[Scope, int] = {Scope.POSITION: 0, Scope.CASH: 1, Scope.TRADE: 2}


def to_scaled(value: Decimal, scale: int = SCALE) -> int:
    """value x 10^scale as an exact int; ValueError if finer than 10^-scale or out of range."""
    shifted = value.scaleb(scale)
    whole = int(shifted)
    if whole != shifted:
        raise ValueError(f"{value} is finer than 10^-{scale}")
    if not -LIMIT < whole < LIMIT:
        raise ValueError(f"{value} is too large for scale {scale} (|value| < {LIMIT} x 10^-{scale})")
    return whole


def from_scaled(value: int | np.integer, scale: int = SCALE) -> Decimal:
    """The Decimal of a scaled int, without the trailing zeros of the scale (1.5, not 1.500000)."""
    exact = Decimal(int(value)).scaleb(-scale)
    return exact.quantize(_ONE) if exact == exact.to_integral_value() else exact.normalize()


def scaled_array(values: Iterable[Decimal], scale: int = SCALE) -> Int64Array:
    return np.fromiter((to_scaled(v, scale) for v in values), dtype=np.int64)


class KeyIndex:
    """Hands out dense codes for ItemKeys, in first-seen order; the code is the key's row in `keys`."""

    def __init__(self) -> None:
        self._codes: dict[ItemKey, int] = {}
        self.keys: list[ItemKey] = []

    def __len__(self) -> int:
        return len(self.keys)

    def code(self, key: ItemKey) -> int:
        found = self._codes.get(key)
        if found is None:
            found = self._codes[key] = len(self.keys)
            self.keys.append(key)
        return found

    def encode(self, keys: Iterable[ItemKey]) -> Int64Array:
        return np.fromiter((self.code(k) for k in keys), dtype=np.int64)


def encode_strings(
    *sides: Sequence[str] | npt.NDArray[np.str_],
) -> tuple[list[Int64Array], npt.NDArray[np.str_]]:
    """Dense codes for string keys shared by several sides, and the distinct strings (sorted) they index."""
    lengths = [len(side) for side in sides]
    uniques, inverse = np.unique(
        np.concatenate([np.asarray(s, dtype=str) for s in sides]), return_inverse=True
    )
    bounds = np.cumsum([0, *lengths])
    codes = [inverse[bounds[i] : bounds[i + 1]].astype(np.int64) for i in range(len(sides))]
    return codes, uniques


@dataclass(frozen=True, slots=True)
class SideColumns:
    """One book: a value per row; several rows may share a key (they are summed)."""

    keys: Int64Array
    values: Int64Array

    def __post_init__(self) -> None:
        if self.keys.shape != self.values.shape or self.keys.ndim != 1:
            raise ValueError("keys and values must be 1-d arrays of the same length")


@dataclass(frozen=True, slots=True)
class PendingColumns:
    """Pending settlements per key: value as the book counts it (explains other - book = -value),
    and the ordinal (date.toordinal) of the last business date on which it still explains."""

    keys: Int64Array
    values: Int64Array
    grace_until: Int64Array

    @classmethod
    def empty(cls) -> PendingColumns:
        nothing = np.zeros(0, dtype=np.int64)
        return cls(nothing, nothing, nothing)


@dataclass(frozen=True, slots=True)
class ToleranceColumns:
    """Tolerances per tolerance class, scaled: absolute as int64 10^-scale units (floored, which is
    exact because differences are whole units), relative as numerator over 10^relative_exponent."""

    absolute_above: Int64Array
    absolute_below: Int64Array
    relative_above: Int64Array
    relative_below: Int64Array
    relative_exponent: int
    classes: tuple[Tolerance, ...]

    @classmethod
    def build(cls, tolerances: Sequence[Tolerance], scale: int = SCALE) -> ToleranceColumns:
        if not tolerances:
            tolerances = (Tolerance(),)
        relatives = [t.relative_above for t in tolerances] + [t.relative_below for t in tolerances]
        exponent = max((max(0, -int(r.as_tuple().exponent)) for r in relatives), default=0)

        def absolute(values: Iterable[Decimal]) -> Int64Array:
            return np.array([min(int(v.scaleb(scale)), LIMIT * 4) for v in values], dtype=np.int64)

        def relative(values: Iterable[Decimal]) -> Int64Array:
            return np.array([int(v.scaleb(exponent)) for v in values], dtype=np.int64)

        return cls(
            absolute_above=absolute(t.absolute_above for t in tolerances),
            absolute_below=absolute(t.absolute_below for t in tolerances),
            relative_above=relative(t.relative_above for t in tolerances),
            relative_below=relative(t.relative_below for t in tolerances),
            relative_exponent=exponent,
            classes=tuple(tolerances),
        )

    def within(
        self, book: Int64Array, difference: Int64Array, tolerance_class: Int64Array
    ) -> npt.NDArray[np.bool_]:
        """|difference| <= absolute or |difference| <= relative x |book|, per row, exactly."""
        above = difference > 0
        size = np.abs(difference)
        absolute = np.where(above, self.absolute_above[tolerance_class], self.absolute_below[tolerance_class])
        inside = size <= absolute
        numerator = np.where(
            above, self.relative_above[tolerance_class], self.relative_below[tolerance_class]
        )
        if not numerator.any():
            return inside
        unit = 10**self.relative_exponent
        magnitude = np.abs(book)
        if self.relative_exponent <= 9 and int(numerator.max()) <= unit:
            # floor(numerator x |book| / unit) without overflow: numerator <= unit <= 10^9 keeps
            # numerator x quotient <= |book| and numerator x remainder < 10^18.
            quotient, remainder = np.divmod(magnitude, unit)
            limit = numerator * quotient + (numerator * remainder) // unit
            return inside | (size <= limit)  # type: ignore[no-any-return]  # numpy's | is untyped
        # Relative above 1 or finer than 10^-9: exact Python integers (slow, and rare).
        exact = size.astype(object) * unit <= numerator.astype(object) * magnitude.astype(object)
        return inside | exact.astype(bool)  # type: ignore[no-any-return]
