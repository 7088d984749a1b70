"""Breaks another service finds and raises through RaiseBreak (documents: a broker confirmation that
disagrees with the fill it confirms), as differences the ordinary break life applies.

A raised break is a Difference of comparison CONFIRMATION_VS_BOOK, scope TRADE, that
breaks.advance opens like any other, so it has the same id scheme, aging, escalation, workflow and
event-log records. Its item key carries the raiser and its idempotency key (documents: the
document's SHA-256), so the same document raised again finds its break and changes nothing, and a
second, different document about the same fill is a break of its own.

No check compares confirmations, so recon never resolves such a break on its own findings: a person
resolves or writes it off, or the broker withdraws the document. A broker that cancels and replaces
a confirmation (market's corrected trade.confirmation, recon's FollowedState.replaced_confirmations)
withdraws it: a raised break whose causes name the replaced confirmation's event is resolved by the
day-end check of the replacement's day, resolved by the replacing event (`withdrawn`). The
replacement is a document of its own: read, it raises, or not, its own break. While a raised break
is open and not withdrawn each day-end check carries it (`carried`), so it ages and escalates with
the rest; once closed it is not carried, so it stays closed.

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
from services.recon.domain.breaks import Advanced, advance, auto_resolved
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


Replaced = Mapping[str, tuple[str, dt.date]]  # replaced confirmation event -> (replacing event, its day)


def withdrawn(brk: Break, replaced: Replaced, day: dt.date) -> str:
    """The event that withdrew a raised break's document by `day` (the broker's replacement of the
    confirmation it names among its causes), "" when none did."""
    found = [replaced[cause] for cause in brk.caused_by if cause in replaced and replaced[cause][1] <= day]
    return min(found, key=lambda by: by[1])[0] if found else ""


def closing(
    latest: Iterable[Break], replaced: Replaced, day: dt.date, mandates: Iterable[str]
) -> tuple[tuple[Difference, ...], dict[str, str]]:
    """What a check of `day` over `mandates` does with the open raised breaks: the differences it
    carries (those not withdrawn), and item key -> the event that withdrew each of the others,
    which `withdraw` resolves."""
    wanted = set(mandates)
    open_raised = [
        b for b in latest if b.comparison is RAISED_COMPARISON and b.status.is_open and b.mandate_id in wanted
    ]
    withdrawn_by = {b.item_key: by for b in open_raised if (by := withdrawn(b, replaced, day))}
    return carried(b for b in open_raised if b.item_key not in withdrawn_by), withdrawn_by


def withdraw(advanced: Advanced, withdrawn_by: Mapping[str, str], run: RunContext) -> Advanced:
    """`advanced` with each withdrawn break (item key -> the replacing event) resolved by `run`,
    and nothing else touched (no coverage: every other break stays as the run left it)."""
    if not withdrawn_by:
        return advanced
    after = {b.item_key: b for b in advanced.breaks}
    actions, resolved = list(advanced.actions), list(advanced.resolved)
    changed = {b.item_key: b for b in advanced.changed}
    for key in sorted(withdrawn_by):
        closed, action = auto_resolved(after[key], run, withdrawn_by[key])
        after[key] = changed[key] = closed
        actions.append(action)
        resolved.append(closed)
    return advanced._replace(
        breaks=tuple(after[k] for k in sorted(after)),
        actions=tuple(actions),
        resolved=tuple(resolved),
        changed=tuple(changed.values()),
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
    opening: Advanced,
    runs: Iterable[RunContext],
    calendar: Calendar,
    config: ReconConfig,
    replaced: Replaced | None = None,
) -> list[Advanced]:
    """After `opening` (the raise), each of `runs` (the checks it missed, oldest first) applying to
    the break it opened what that check would have: carried, or resolved when its document was
    withdrawn by then (the last step then). One Advanced per run, each from the one before."""
    (opened,) = opening.opened
    steps: list[Advanced] = []
    current = {b.item_key: b for b in opening.breaks}
    for run in runs:
        kept, withdrawn_by = closing(
            [current[opened.item_key]], replaced or {}, run.as_of_date, [opened.mandate_id]
        )
        step = advance(
            current.values(), kept, run=run, today=run.as_of_date, calendar=calendar, config=config
        )
        step = withdraw(step, withdrawn_by, run)
        steps.append(step)
        current = {b.item_key: b for b in step.breaks}
        if withdrawn_by:
            break
    return steps


def existing(latest: Mapping[str, Break], item: RaisedItem) -> Break | None:
    """The break this very finding raised before (same raiser, key, mandate and kind), if any."""
    return latest.get(item_key_of(item.source, item.key, item.mandate_id, item.kind))


NO_COVERAGE: frozenset[Coverage] = frozenset()
