"""Reconcile two books given as Decimal items: encode, run the vectorised matcher, materialise Differences.

Only keys that are not exactly MATCHED become Difference records (within
tolerance, timing, break); the counts per mandate cover every compared key.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

import numpy as np

from services.recon.domain.aging import Calendar, as_calendar
from services.recon.domain.columns import (
    SCALE,
    SCOPE_CODES,
    KeyIndex,
    PendingColumns,
    SideColumns,
    ToleranceColumns,
    from_scaled,
    to_scaled,
)
from services.recon.domain.config import ReconConfig
from services.recon.domain.matching import KINDS, OUTCOMES, KeyColumns, MatchColumns, match_columns
from services.recon.domain.records import (
    Comparison,
    Difference,
    InstrumentRef,
    ItemKey,
    Outcome,
    PendingSettlement,
    Scope,
    TimingItem,
    Valuation,
)
from services.recon.domain.tolerances import Tolerance

Items = Mapping[ItemKey, Decimal] | Iterable[tuple[ItemKey, Decimal]]
CENT = Decimal("0.01")
OTHER_NAME = {
    Comparison.BOOK_VS_CUSTODIAN: "custodian",
    Comparison.BOOK_VS_LEDGER: "ledger",
    Comparison.CONFIRMATION_VS_BOOK: "confirmation",
    Comparison.LEDGER_VS_CUSTODIAN: "custodian",
}
# The "book" side of each comparison: the internal book, except in the bank reconciliation.
BOOK_NAME = {Comparison.LEDGER_VS_CUSTODIAN: "ledger"}
LEDGER_SIDES = frozenset({Comparison.BOOK_VS_LEDGER, Comparison.LEDGER_VS_CUSTODIAN})


@dataclass(frozen=True, slots=True)
class Counts:
    compared: int
    matched: int  # equal or within tolerance
    within_tolerance: int
    timing: int
    breaks: int

    @property
    def unmatched(self) -> int:
        return self.compared - self.matched


@dataclass(frozen=True, slots=True)
class Reconciled:
    """differences: every key not exactly matched, in key-code order; counts per mandate;
    duplicates: keys that had more than one row on a side (they were summed)."""

    comparison: Comparison
    as_of_date: dt.date
    differences: tuple[Difference, ...]
    counts: Mapping[str, Counts]
    duplicates: tuple[ItemKey, ...]

    def with_outcome(self, outcome: Outcome) -> tuple[Difference, ...]:
        return tuple(d for d in self.differences if d.outcome is outcome)

    @property
    def breaks(self) -> tuple[Difference, ...]:
        return self.with_outcome(Outcome.BREAK)

    @property
    def timing_items(self) -> tuple[TimingItem, ...]:
        return tuple(timing_item(d) for d in self.with_outcome(Outcome.TIMING))


def item_key_text(comparison: Comparison, key: ItemKey) -> str:
    """The stable identity of a compared position or cash balance (what, not how much)."""
    subject = key.instrument_id if key.scope is Scope.POSITION else key.currency
    return "|".join((comparison.value, key.scope.value, key.mandate_id, key.account, subject))


def ledger_account(key: ItemKey) -> str:
    """The ledger account a key is compared with (docs/ledger-design.md)."""
    if key.scope is Scope.POSITION:
        return f"Assets:Securities:{key.instrument_id}"
    return f"Assets:Cash:{key.currency}"


def _rows(items: Items) -> list[tuple[ItemKey, Decimal]]:
    return list(items.items()) if isinstance(items, Mapping) else list(items)


def _pending_rows(
    pending: Sequence[PendingSettlement],
) -> list[tuple[ItemKey, Decimal, PendingSettlement]]:
    rows: list[tuple[ItemKey, Decimal, PendingSettlement]] = []
    for p in pending:
        if p.quantity is not None:
            rows.append(
                (
                    ItemKey(p.mandate_id, Scope.POSITION, instrument_id=p.instrument_id, account=p.account),
                    p.quantity,
                    p,
                )
            )
        if p.amount is not None:
            rows.append(
                (ItemKey(p.mandate_id, Scope.CASH, currency=p.currency, account=p.account), p.amount, p)
            )
    return rows


def reconcile(
    book: Items,
    other: Items,
    *,
    comparison: Comparison,
    today: dt.date,
    config: ReconConfig,
    calendar: Calendar | Sequence[dt.date] | None = None,
    pending: Sequence[PendingSettlement] = (),
    reference: Mapping[str, InstrumentRef] | None = None,
    valuation: Valuation | None = None,
    caused_by: Mapping[ItemKey, tuple[str, ...]] | None = None,
    scale: int = SCALE,
) -> Reconciled:
    """Compare `book` (the internal book) with `other` (custodian or ledger) as of `today`."""
    cal = as_calendar(calendar)
    reference = reference or {}
    index = KeyIndex()
    book_rows, other_rows = _rows(book), _rows(other)
    book_cols = SideColumns(
        index.encode(k for k, _ in book_rows),
        np.array([to_scaled(v, scale) for _, v in book_rows], dtype=np.int64),
    )
    other_cols = SideColumns(
        index.encode(k for k, _ in other_rows),
        np.array([to_scaled(v, scale) for _, v in other_rows], dtype=np.int64),
    )
    grace = config.settlement_grace_business_days
    grace_until: dict[dt.date, dt.date] = {}
    explaining: dict[int, list[tuple[PendingSettlement, dt.date]]] = {}
    pending_keys: list[int] = []
    pending_values: list[int] = []
    pending_until: list[int] = []
    for key, value, p in _pending_rows(pending):
        until = grace_until.get(p.settle_date)
        if until is None:
            until = grace_until[p.settle_date] = cal.add(p.settle_date, grace)
        code = index.code(key)
        pending_keys.append(code)
        pending_values.append(to_scaled(value, scale))
        pending_until.append(until.toordinal())
        explaining.setdefault(code, []).append((p, until))

    tolerance_of: dict[tuple[Scope, str, str], int] = {}
    tolerances: list[Tolerance] = []
    scopes = np.empty(len(index), dtype=np.int8)
    classes = np.empty(len(index), dtype=np.int64)
    mandates: dict[str, int] = {}
    mandate_of = np.empty(len(index), dtype=np.int64)
    for code, key in enumerate(index.keys):
        ref = reference.get(key.instrument_id)
        asset_class = ref.asset_class if ref else ("CASH" if key.scope is Scope.CASH else "")
        currency = key.currency or (ref.currency if ref else "")
        selector = (key.scope, asset_class, currency)
        cls = tolerance_of.get(selector)
        if cls is None:
            cls = tolerance_of[selector] = len(tolerances)
            tolerances.append(config.tolerances.lookup(comparison, key.scope, asset_class, currency))
        scopes[code] = SCOPE_CODES[key.scope]
        classes[code] = cls
        mandate_of[code] = mandates.setdefault(key.mandate_id, len(mandates))

    match = match_columns(
        book_cols,
        other_cols,
        comparison=comparison,
        keys=KeyColumns(scopes, classes),
        tolerances=ToleranceColumns.build(tolerances, scale),
        today=today.toordinal(),
        pending=PendingColumns(
            np.array(pending_keys, dtype=np.int64),
            np.array(pending_values, dtype=np.int64),
            np.array(pending_until, dtype=np.int64),
        ),
    )
    differences = materialise(
        match,
        index.keys,
        comparison=comparison,
        today=today,
        tolerances=tolerances,
        classes=classes,
        explaining=explaining,
        reference=reference,
        valuation=valuation,
        caused_by=caused_by or {},
        scale=scale,
    )
    per_mandate = np.bincount(
        mandate_of[match.codes] * len(OUTCOMES) + match.outcome, minlength=len(mandates) * len(OUTCOMES)
    ).reshape(len(mandates), len(OUTCOMES))
    counts = {
        mandate: Counts(
            compared=int(per_mandate[i].sum()),
            matched=int(per_mandate[i][0] + per_mandate[i][1]),
            within_tolerance=int(per_mandate[i][1]),
            timing=int(per_mandate[i][2]),
            breaks=int(per_mandate[i][3]),
        )
        for mandate, i in mandates.items()
    }
    duplicated = match.codes[(match.book_rows > 1) | (match.other_rows > 1)]
    return Reconciled(
        comparison=comparison,
        as_of_date=today,
        differences=tuple(differences),
        counts=counts,
        duplicates=tuple(index.keys[int(c)] for c in duplicated),
    )


def materialise(
    match: MatchColumns,
    keys: Sequence[ItemKey],
    *,
    comparison: Comparison,
    today: dt.date,
    tolerances: Sequence[Tolerance],
    classes: np.ndarray,
    explaining: Mapping[int, list[tuple[PendingSettlement, dt.date]]],
    reference: Mapping[str, InstrumentRef],
    valuation: Valuation | None,
    caused_by: Mapping[ItemKey, tuple[str, ...]],
    scale: int = SCALE,
) -> list[Difference]:
    """Difference records for the rows that are not exactly matched."""
    out: list[Difference] = []
    other_name = OTHER_NAME[comparison]
    book_name = BOOK_NAME.get(comparison, "book")
    for row in np.flatnonzero(match.outcome != 0):
        code = int(match.codes[row])
        key = keys[code]
        outcome = OUTCOMES[match.outcome[row]]
        book = from_scaled(match.book[row], scale)
        other = from_scaled(match.other[row], scale)
        explained = from_scaled(match.explained[row], scale)
        difference = other - book if outcome is not Outcome.BREAK else other - book - explained
        tolerance = tolerances[int(classes[code])]
        absolute, relative = tolerance.thresholds(difference)
        ref = reference.get(key.instrument_id)
        currency = key.currency or (ref.currency if ref else "")
        live = [(p, until) for p, until in explaining.get(code, []) if until >= today]
        lineage = list(caused_by.get(key, ()))
        for p, _ in explaining.get(code, []):
            lineage.extend(e for e in p.caused_by if e not in lineage)
        fills = sorted({p.fill_id for p, _ in live}) if outcome is Outcome.TIMING else []
        position = key.scope is not Scope.CASH
        amount, base_currency, base_amount = value_of(
            key.mandate_id, key.instrument_id, currency, difference, position, valuation
        )
        subject = key.instrument_id if position else f"{key.currency} cash"
        description = f"{subject}: {book_name} {book:,} vs {other_name} {other:,}"
        if match.explained[row] and outcome is Outcome.BREAK:
            description += f" ({explained:,} explained by pending settlements, {difference:,} not)"
        out.append(
            Difference(
                item_key=item_key_text(comparison, key),
                comparison=comparison,
                scope=key.scope,
                kind=KINDS[match.kind[row]],
                outcome=outcome,
                mandate_id=key.mandate_id,
                instrument_id=key.instrument_id,
                currency=currency,
                account=key.account,
                ledger_account=ledger_account(key) if comparison in LEDGER_SIDES else "",
                fill_id=fills[0] if len(fills) == 1 else "",
                book_quantity=book if position else None,
                other_quantity=other if position else None,
                quantity_difference=difference if position else None,
                book_amount=None if position else book,
                other_amount=None if position else other,
                amount_difference=amount,
                explained_difference=explained if match.explained[row] else None,
                base_currency=base_currency,
                base_amount_difference=base_amount,
                tolerance_absolute=absolute,
                tolerance_relative=relative,
                expected_settle_date=min((p.settle_date for p, _ in live), default=None)
                if outcome is Outcome.TIMING
                else None,
                grace_until=min((u for _, u in live), default=None) if outcome is Outcome.TIMING else None,
                caused_by=tuple(lineage),
                description=description,
            )
        )
    return out


def value_of(
    mandate_id: str,
    instrument_id: str,
    currency: str,
    difference: Decimal,
    is_quantity: bool,
    valuation: Valuation | None,
) -> tuple[Decimal | None, str, Decimal | None]:
    """(amount in currency, base currency, amount in base) of a difference, where known (cents)."""
    if not is_quantity:
        amount: Decimal | None = difference
    elif valuation is not None and instrument_id in valuation.unit_values:
        amount = (difference * valuation.unit_values[instrument_id]).quantize(CENT)
    else:
        amount = None
    if valuation is None:
        return amount, "", None
    base = valuation.base_currency.get(mandate_id, "")
    if amount is None or not base:
        return amount, base, None
    if currency == base:
        return amount, base, amount
    rate = valuation.fx_to_base.get((currency, base))
    return amount, base, None if rate is None else (amount * rate).quantize(CENT)


def timing_item(difference: Difference) -> TimingItem:
    digest = hashlib.sha256(difference.item_key.encode()).hexdigest()[:16]
    return TimingItem(
        item_id=f"TIM-{digest}",
        mandate_id=difference.mandate_id,
        comparison=difference.comparison,
        scope=difference.scope,
        instrument_id=difference.instrument_id,
        currency=difference.currency,
        fill_id=difference.fill_id,
        quantity_difference=difference.quantity_difference,
        amount_difference=difference.amount_difference,
        expected_settle_date=difference.expected_settle_date,
        grace_until=difference.grace_until,
        caused_by=difference.caused_by,
    )
