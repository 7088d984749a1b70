"""Breaks another service raises (services/recon/domain/raised.py): opened like any break, aged by
each day-end check while open, never auto-resolved, never reopened once closed."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from services.recon.domain.aging import as_calendar
from services.recon.domain.breaks import advance, update
from services.recon.domain.raised import NO_COVERAGE, RaisedItem, carried, existing, raised_difference
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
