"""Breaks another service raises (services/recon/domain/raised.py): opened like any break, aged by
each day-end check while open, never auto-resolved, never reopened once closed."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from services.recon.domain.aging import as_calendar
from services.recon.domain.breaks import advance, update
from services.recon.domain.raised import (
    NO_COVERAGE,
    RaisedItem,
    carried,
    carried_through,
    checked_since,
    closing,
    existing,
    raised_difference,
    withdraw,
)
from services.recon.domain.records import (
    ActionKind,
    Break,
    BreakKind,
    BreakStatus,
    Comparison,
    Outcome,
    Scope,
)
from tests.recon.builders import CONFIG, M, run_on

# Business days of March 2024 (no holiday).
DAYS = [dt.date(2024, 3, d) for d in range(1, 32) if dt.date(2024, 3, d).weekday() < 5]
CALENDAR = as_calendar(DAYS)


def _item(key: str = "ab12", **changes: object) -> RaisedItem:
    values: dict[str, object] = {
        "kind": BreakKind.CONFIRMATION_MISMATCH,
        "source": "documents",
        "key": key,
        "mandate_id": M,
        "fill_id": "F-1",
        "instrument_id": "AAPL",
        "currency": "USD",
        "description": "confirmation says quantity 2520, the fill 2500",
        "caused_by": ("doc-1",),
        "book_quantity": Decimal(2500),
        "other_quantity": Decimal(2520),
    }
    values.update(changes)
    return RaisedItem(**values)  # type: ignore[arg-type]


def _raise(breaks: list[Break], item: RaisedItem, day: dt.date) -> list[Break]:
    run = run_on(day, covered=NO_COVERAGE)
    return list(
        advance(
            breaks, [raised_difference(item)], run=run, today=day, calendar=CALENDAR, config=CONFIG
        ).breaks
    )


def _day_end(breaks: list[Break], day: dt.date) -> list[Break]:
    """A day-end check that finds nothing else: every (mandate, comparison, scope) covered."""
    run = run_on(day)
    return list(advance(breaks, carried(breaks), run=run, today=day, calendar=CALENDAR, config=CONFIG).breaks)


def test_a_raised_finding_is_a_trade_break_of_the_confirmation_comparison() -> None:
    difference = raised_difference(_item())
    assert difference.outcome is Outcome.BREAK
    assert (difference.comparison, difference.scope) == (Comparison.CONFIRMATION_VS_BOOK, Scope.TRADE)
    assert difference.quantity_difference == Decimal(20)  # other minus book
    assert "documents:ab12" in difference.item_key


def test_a_kind_recon_finds_itself_cannot_be_raised() -> None:
    with pytest.raises(ValueError, match="recon's own checks"):
        raised_difference(_item(kind=BreakKind.QUANTITY_MISMATCH))


def test_the_same_finding_raised_again_finds_its_break() -> None:
    breaks = _raise([], _item(), DAYS[0])
    (brk,) = breaks
    assert brk.status is BreakStatus.OPEN and brk.caused_by == ("doc-1",)
    assert existing({b.item_key: b for b in breaks}, _item()) == brk
    assert existing({b.item_key: b for b in breaks}, _item(key="other")) is None


def test_day_end_checks_age_an_open_raised_break_and_never_resolve_it() -> None:
    breaks = _raise([], _item(), DAYS[0])
    # Friday 1 March raised; Monday 4 .. Wednesday 6: ages 1, 2, 3; buckets 0-1, 2-3, 2-3.
    for day in DAYS[1:4]:
        breaks = _day_end(breaks, day)
    (brk,) = breaks
    assert brk.status is BreakStatus.OPEN
    assert brk.age_business_days == 3 and brk.aging_bucket == "2-3"
    assert brk.first_seen_date == DAYS[0] and brk.last_seen_date == DAYS[3]


def test_a_resolved_raised_break_stays_resolved_at_later_day_ends() -> None:
    (brk,) = _raise([], _item(), DAYS[0])
    resolved, actions = update(
        brk,
        actor="ops",
        at=dt.datetime(2024, 3, 1, tzinfo=dt.UTC),
        sim_time=brk.opened_at,
        status=BreakStatus.RESOLVED,
    )
    assert [a.kind for a in actions] == [ActionKind.STATUS_CHANGED]
    assert carried([resolved]) == ()
    (after,) = _day_end([resolved], DAYS[1])
    assert after == resolved


def test_a_raise_that_arrives_late_ends_as_one_that_arrived_in_time() -> None:
    """Raised as of Friday 1 March, it reaches recon after the checks of 1 .. 13 March (documents
    was down); carried through those checks at once, it is the break that arrived before them and
    was carried by each: ages 0 .. 8 business days, the buckets it passed through, the same actions
    by kind, the latest check's run last."""
    item = _item(as_of_date=DAYS[0])
    checked = DAYS[:9]  # 1 .. 13 March
    in_time = _raise([], item, DAYS[0])
    in_time_actions = []
    for day in checked:
        step = advance(
            in_time, carried(in_time), run=run_on(day), today=day, calendar=CALENDAR, config=CONFIG
        )
        in_time, in_time_actions = list(step.breaks), [*in_time_actions, *step.actions]

    assert checked_since(DAYS[0], [*checked, dt.date(2024, 2, 29)]) == checked
    opening = advance(
        [], [raised_difference(item)], run=run_on(DAYS[0], covered=NO_COVERAGE), today=DAYS[0],
        calendar=CALENDAR, config=CONFIG,
    )  # fmt: skip
    steps = carried_through(opening, [run_on(day, covered=NO_COVERAGE) for day in checked], CALENDAR, CONFIG)
    (late,) = steps[-1].breaks
    (timely,) = in_time
    assert late == timely
    # 13 March is 8 business days after 1 March: bucket 8+ of the default aging (0-1, 2-3, 4-7, 8+).
    assert (late.age_business_days, late.aging_bucket, late.last_run_id) == (8, "8+", "RUN-2024-03-13-0")
    late_actions = [a.kind for step in steps for a in step.actions]
    assert late_actions == [a.kind for a in in_time_actions]
    assert late_actions.count(ActionKind.AGED) == 3  # into 2-3, 4-7 and 8+ on the way


def test_a_raise_as_of_a_day_not_yet_checked_is_carried_by_no_check() -> None:
    assert checked_since(DAYS[5], DAYS[:5]) == []


def _check(breaks: list[Break], day: dt.date, replaced: dict[str, tuple[str, dt.date]]) -> list[Break]:
    """A day-end check as the checker makes it: raised breaks carried, or resolved once withdrawn."""
    kept, withdrawn_by = closing(breaks, replaced, day, [M])
    run = run_on(day)
    advanced = advance(breaks, kept, run=run, today=day, calendar=CALENDAR, config=CONFIG)
    return list(withdraw(advanced, withdrawn_by, run).breaks)


def test_a_break_on_a_confirmation_the_broker_replaced_resolves_at_the_replacement_s_check() -> None:
    """The document's break names market's confirmation event mkt-5 among its causes; the broker
    replaces it (mkt-90) on Wednesday 6 March: carried on the 4th and 5th, resolved on the 6th by
    mkt-90, and not reopened after."""
    replaced = {"mkt-5": ("mkt-90", DAYS[3])}
    breaks = _raise([], _item(caused_by=("doc-1", "mkt-5")), DAYS[0])
    for day in DAYS[1:3]:
        breaks = _check(breaks, day, replaced)
        assert breaks[0].status is BreakStatus.OPEN
    breaks = _check(breaks, DAYS[3], replaced)
    (brk,) = breaks
    assert (brk.status, brk.resolved_by_event_id, brk.age_business_days) == (
        BreakStatus.RESOLVED,
        "mkt-90",
        2,
    )
    assert _check(breaks, DAYS[4], replaced) == breaks
    # A break on another confirmation, or an upload's (no market event among its causes), stays.
    (other,) = _check(_raise([], _item(caused_by=("doc-2", "mkt-6")), DAYS[0]), DAYS[3], replaced)
    assert other.status is BreakStatus.OPEN


def test_a_late_raise_on_a_replaced_confirmation_ends_resolved_as_a_timely_one() -> None:
    replaced = {"mkt-5": ("mkt-90", DAYS[3])}
    item = _item(caused_by=("doc-1", "mkt-5"), as_of_date=DAYS[0])
    timely = _raise([], item, DAYS[0])
    for day in DAYS[:9]:
        timely = _check(timely, day, replaced)
    opening = advance(
        [], [raised_difference(item)], run=run_on(DAYS[0], covered=NO_COVERAGE), today=DAYS[0],
        calendar=CALENDAR, config=CONFIG,
    )  # fmt: skip
    runs = [run_on(day, covered=NO_COVERAGE) for day in DAYS[:9]]
    steps = carried_through(opening, runs, CALENDAR, CONFIG, replaced)
    assert len(steps) == 4  # 1 .. 6 March: resolved at the 6th's check, nothing after
    assert list(steps[-1].breaks) == timely
    assert timely[0].status is BreakStatus.RESOLVED


def test_withdrawing_one_raised_break_leaves_the_others_of_its_mandate_open() -> None:
    """Found by the chaos suite: a late raise carried through a missed check must resolve its own
    break only, never another open raised break of the same mandate."""
    replaced = {"mkt-5": ("mkt-90", DAYS[3])}
    other = _raise([], _item(key="cd34", caused_by=("doc-2", "mkt-6")), DAYS[0])
    item = _item(caused_by=("doc-1", "mkt-5"), as_of_date=DAYS[0])
    opening = advance(
        other, [raised_difference(item)], run=run_on(DAYS[0], covered=NO_COVERAGE), today=DAYS[0],
        calendar=CALENDAR, config=CONFIG,
    )  # fmt: skip
    steps = carried_through(
        opening, [run_on(day, covered=NO_COVERAGE) for day in DAYS[:5]], CALENDAR, CONFIG, replaced
    )
    by_key = {b.item_key: b for b in steps[-1].breaks}
    assert by_key[other[0].item_key] == other[0]  # untouched
    assert by_key[opening.opened[0].item_key].status is BreakStatus.RESOLVED
