"""The vectorised matcher: two books as columns in, an outcome and a break kind per key out.

Rules, per key (d = other - book, exact in scaled int64):
- d == 0: MATCHED; d within tolerance: WITHIN_TOLERANCE.
- Pending settlements whose grace has not passed (grace_until >= today) explain
  -sum(their values); the explanation is used only when it brings the difference
  closer to zero. If what remains is within tolerance: TIMING. Otherwise BREAK,
  of the unexplained remainder (d minus the explained part).
- Kind of a non-matched key: book vs ledger -> BOOK_VS_LEDGER_MISMATCH; cash ->
  CASH_MISMATCH; positions -> MISSING_AT_CUSTODIAN (book non-zero, other zero),
  MISSING_INTERNALLY (book zero, other non-zero), else QUANTITY_MISMATCH. Zero and
  absent are the same: books omit flat positions.

Duplicate keys within one input are SUMMED (a position held in several lots or
rows is one holding), deterministically, and their row counts are returned
(book_rows / other_rows > 1) so a caller can report them. A trade booked twice
is a different matter, found by trades.py.

Keys are dense codes 0..n-1 (columns.KeyIndex or columns.encode_strings): every
step is a scatter or gather over arrays of n, with no sort and no Python loop.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from services.recon.domain.columns import (
    SCOPE_CODES,
    Int64Array,
    PendingColumns,
    SideColumns,
    ToleranceColumns,
)
from services.recon.domain.records import BreakKind, Comparison, Outcome, Scope

OUTCOMES: tuple[Outcome, ...] = (Outcome.MATCHED, Outcome.WITHIN_TOLERANCE, Outcome.TIMING, Outcome.BREAK)
MATCHED, WITHIN_TOLERANCE, TIMING, BREAK = range(4)
KINDS: tuple[BreakKind, ...] = (
    BreakKind.UNSPECIFIED,
    BreakKind.QUANTITY_MISMATCH,
    BreakKind.MISSING_AT_CUSTODIAN,
    BreakKind.MISSING_INTERNALLY,
    BreakKind.CASH_MISMATCH,
    BreakKind.BOOK_VS_LEDGER_MISMATCH,
)
_KIND_CODE = {kind: code for code, kind in enumerate(KINDS)}


@dataclass(frozen=True, slots=True)
class KeyColumns:
    """Per key code: its scope (columns.SCOPE_CODES) and its tolerance class (row of ToleranceColumns)."""

    scope: npt.NDArray[np.int8]
    tolerance_class: Int64Array

    @classmethod
    def uniform(cls, size: int, scope: Scope, tolerance_class: int = 0) -> KeyColumns:
        return cls(
            np.full(size, SCOPE_CODES[scope], dtype=np.int8), np.full(size, tolerance_class, dtype=np.int64)
        )

    def __len__(self) -> int:
        return len(self.scope)


@dataclass(frozen=True, slots=True)
class MatchColumns:
    """One row per key present on either side (ascending code).

    book / other: summed values; book_rows / other_rows: input rows per key; explained:
    the part of other - book that pending settlements explain (0 if none); outcome:
    index into OUTCOMES; kind: index into KINDS (0 = UNSPECIFIED for MATCHED).
    """

    codes: Int64Array
    book: Int64Array
    other: Int64Array
    book_rows: Int64Array
    other_rows: Int64Array
    explained: Int64Array
    outcome: npt.NDArray[np.int8]
    kind: npt.NDArray[np.int8]

    @property
    def difference(self) -> Int64Array:
        return self.other - self.book

    def outcome_counts(self) -> dict[Outcome, int]:
        counts = np.bincount(self.outcome, minlength=len(OUTCOMES))
        return {outcome: int(counts[i]) for i, outcome in enumerate(OUTCOMES)}


def _check_codes(keys: Int64Array, size: int, what: str) -> None:
    if len(keys) and (int(keys.min()) < 0 or int(keys.max()) >= size):
        raise ValueError(f"{what}: key codes must be in 0..{size - 1}")


def _scatter(keys: Int64Array, values: Int64Array, size: int) -> tuple[Int64Array, Int64Array]:
    """(sum of values per code, rows per code); exact int64 sums, duplicates added in any order."""
    rows = np.bincount(keys, minlength=size).astype(np.int64)
    full = np.zeros(size, dtype=np.int64)
    if len(keys) == 0 or rows.max() <= 1:
        full[keys] = values
    else:
        np.add.at(full, keys, values)
    return full, rows


def match_columns(
    book: SideColumns,
    other: SideColumns,
    *,
    comparison: Comparison,
    keys: KeyColumns,
    tolerances: ToleranceColumns,
    today: int,
    pending: PendingColumns | None = None,
) -> MatchColumns:
    """Match two books; `today` is the check's business date as date.toordinal()."""
    size = len(keys)
    _check_codes(book.keys, size, "book")
    _check_codes(other.keys, size, "other")
    book_full, book_rows = _scatter(book.keys, book.values, size)
    other_full, other_rows = _scatter(other.keys, other.values, size)
    codes = np.flatnonzero((book_rows > 0) | (other_rows > 0))
    b, o = book_full[codes], other_full[codes]
    difference = o - b
    tolerance_class = keys.tolerance_class[codes]

    outcome = np.full(len(codes), BREAK, dtype=np.int8)
    explained = np.zeros(len(codes), dtype=np.int64)
    inside = tolerances.within(b, difference, tolerance_class)
    if pending is not None and len(pending.keys):
        _check_codes(pending.keys, size, "pending")
        live = pending.grace_until >= today
        pending_full, _ = _scatter(pending.keys[live], pending.values[live], size)
        candidate = -pending_full[codes]
        residual = difference - candidate
        # Use the explanation only where it brings the difference closer to zero.
        rows = np.flatnonzero((candidate != 0) & ~inside & (np.abs(residual) < np.abs(difference)))
        explained[rows] = candidate[rows]
        timing = tolerances.within(b[rows], residual[rows], tolerance_class[rows])
        outcome[rows[timing]] = TIMING
    outcome[inside] = WITHIN_TOLERANCE
    outcome[difference == 0] = MATCHED

    if comparison is Comparison.BOOK_VS_LEDGER:
        kind = np.full(len(codes), _KIND_CODE[BreakKind.BOOK_VS_LEDGER_MISMATCH], dtype=np.int8)
    else:
        scope = keys.scope[codes]
        kind = np.full(len(codes), _KIND_CODE[BreakKind.QUANTITY_MISMATCH], dtype=np.int8)
        kind[(b != 0) & (o == 0)] = _KIND_CODE[BreakKind.MISSING_AT_CUSTODIAN]
        kind[(b == 0) & (o != 0)] = _KIND_CODE[BreakKind.MISSING_INTERNALLY]
        kind[scope == SCOPE_CODES[Scope.CASH]] = _KIND_CODE[BreakKind.CASH_MISMATCH]
    kind[outcome == MATCHED] = _KIND_CODE[BreakKind.UNSPECIFIED]
    return MatchColumns(
        codes=codes,
        book=b,
        other=o,
        book_rows=book_rows[codes],
        other_rows=other_rows[codes],
        explained=explained,
        outcome=outcome,
        kind=kind,
    )
