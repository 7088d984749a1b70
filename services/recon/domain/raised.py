"""Breaks another service finds and raises through RaiseBreak (documents: a broker confirmation that
disagrees with the fill it confirms), as differences the ordinary break life applies.

A raised break is a Difference of comparison CONFIRMATION_VS_BOOK, scope TRADE, that
breaks.advance opens like any other, so it has the same id scheme, aging, escalation, workflow and
event-log records. Its item key carries the raiser and its idempotency key (documents: the
document's SHA-256), so the same document raised again finds its break and changes nothing, and a
second, different document about the same fill is a break of its own.

No check compares confirmations, so no check run covers CONFIRMATION_VS_BOOK and none auto-resolves
such a break: a person resolves or writes it off (a corrected confirmation is a new document and
raises, or not, its own break). While it is open each day-end check carries it (`carried`), so it
ages and escalates with the rest; once closed it is not carried, so it stays closed.

A break raised as of a day recon has checked already (documents was down or behind) is carried
through those checks at once (`carried_through`), as they would have carried it had it arrived in
time: how late it arrives changes neither the break nor its aging and escalation records.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from services.recon.domain.aging import Calendar
from services.recon.domain.breaks import Advanced, advance
from services.recon.domain.config import ReconConfig
from services.recon.domain.records import (
    Break,
    BreakKind,
    Comparison,
    Coverage,
    Difference,
    Outcome,
    RunContext,
    Scope,
)

RAISED_COMPARISON = Comparison.CONFIRMATION_VS_BOOK
RAISABLE_KINDS: frozenset[BreakKind] = frozenset({BreakKind.CONFIRMATION_MISMATCH})
MAX_KEY_CHARS = 128


@dataclass(frozen=True)
class RaisedItem:
    """What the raising service found about one fill."""

    kind: BreakKind
    source: str
    key: str
    mandate_id: str
    fill_id: str
    instrument_id: str
    currency: str
    description: str
    caused_by: tuple[str, ...] = ()
    book_quantity: Decimal | None = None
    other_quantity: Decimal | None = None
    book_amount: Decimal | None = None
    other_amount: Decimal | None = None
    as_of_date: dt.date | None = None
    found_at: dt.datetime | None = None  # simulated time; the break's opened_at


def item_key_of(source: str, key: str, mandate_id: str, kind: BreakKind) -> str:
    return "|".join((RAISED_COMPARISON.value, Scope.TRADE.value, mandate_id, f"{source}:{key}", kind.value))


def raised_difference(item: RaisedItem) -> Difference:
    """The raised finding as a BREAK difference."""
    if item.kind not in RAISABLE_KINDS:
        raise ValueError(
            f"{item.kind.value} is found by recon's own checks; another service raises only "
            + ", ".join(sorted(kind.value for kind in RAISABLE_KINDS))
        )
    quantity_difference = (
        item.other_quantity - item.book_quantity
        if item.other_quantity is not None and item.book_quantity is not None
        else None
    )
    amount_difference = (
        item.other_amount - item.book_amount
        if item.other_amount is not None and item.book_amount is not None
        else None
    )
    return Difference(
        item_key=item_key_of(item.source, item.key, item.mandate_id, item.kind),
        comparison=RAISED_COMPARISON,
        scope=Scope.TRADE,
        kind=item.kind,
        outcome=Outcome.BREAK,
        mandate_id=item.mandate_id,
        instrument_id=item.instrument_id,
        currency=item.currency,
        fill_id=item.fill_id,
        book_quantity=item.book_quantity,
        other_quantity=item.other_quantity,
        quantity_difference=quantity_difference,
        book_amount=item.book_amount,
        other_amount=item.other_amount,
        amount_difference=amount_difference,
        caused_by=item.caused_by,
        description=item.description,
    )


def carried(latest: Iterable[Break]) -> tuple[Difference, ...]:
    """The open raised breaks as the differences a day-end check carries, so they age; figures and
    lineage as raised."""
    return tuple(
        Difference(
            item_key=brk.item_key,
            comparison=brk.comparison,
            scope=brk.scope,
            kind=brk.kind,
            outcome=Outcome.BREAK,
            mandate_id=brk.mandate_id,
            instrument_id=brk.instrument_id,
            currency=brk.currency,
            account=brk.account,
            fill_id=brk.fill_id,
            book_quantity=brk.book_quantity,
            other_quantity=brk.other_quantity,
            quantity_difference=brk.quantity_difference,
            book_amount=brk.book_amount,
            other_amount=brk.other_amount,
            amount_difference=brk.amount_difference,
            base_currency=brk.base_currency,
            base_amount_difference=brk.base_amount_difference,
            caused_by=brk.caused_by,
            description=brk.description,
        )
        for brk in latest
        if brk.comparison is RAISED_COMPARISON and brk.status.is_open
    )


def checked_since(as_of: dt.date, checked: Iterable[dt.date]) -> list[dt.date]:
    """The checked day ends from `as_of` on, oldest first: the checks that carry a break raised as
    of that day had it arrived before them (that day's own check included)."""
    return sorted(day for day in checked if day >= as_of)


def carried_through(
    opening: Advanced, runs: Iterable[RunContext], calendar: Calendar, config: ReconConfig
) -> list[Advanced]:
    """After `opening` (the raise), each of `runs` (the checks it missed, oldest first) carrying the
    break it opened, as that check would have: one Advanced per run, each from the one before."""
    (opened,) = opening.opened
    steps: list[Advanced] = []
    current = {b.item_key: b for b in opening.breaks}
    for run in runs:
        step = advance(
            current.values(),
            carried([current[opened.item_key]]),
            run=run,
            today=run.as_of_date,
            calendar=calendar,
            config=config,
        )
        steps.append(step)
        current = {b.item_key: b for b in step.breaks}
    return steps


def existing(latest: Mapping[str, Break], item: RaisedItem) -> Break | None:
    """The break this very finding raised before (same raiser, key, mandate and kind), if any."""
    return latest.get(item_key_of(item.source, item.key, item.mandate_id, item.kind))


NO_COVERAGE: frozenset[Coverage] = frozenset()
