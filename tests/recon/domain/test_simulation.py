"""Recon's pure domain against the market simulation (services/scoring/recon_replay.py): each day's
events through FollowedState, each day end through compute and advance, as the service runs them.

Without faults nothing breaks, though pending settlements explain differences every day. With the
default fault rate and one of each custodian trade fault on demand: every fault is a break at the
day end it shows (booking errors on the trade date, settlement faults on the contractual settle
date, value dates on the pay date), every position or cash break is grouped under the trade-level or
cash-flow break behind it, and every break closes once the custodian has corrected its fault, with
the event that resolved it.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest

from services.market.fred import load_macro
from services.market.sim.engine import SimConfig, Simulation
from services.market.sim.macro import MacroHistory
from services.market.sim.records import FaultKind, FaultRequest, Fill, InjectedFault
from services.recon.domain.records import Break, BreakKind, BreakStatus, Outcome, Scope
from services.scoring.recon_replay import ReplayedDay, replay

START = dt.date(2020, 2, 3)
DAYS = 60
K = FaultKind
BOOKING = {
    K.CUSTODIAN_DROP_TRADE: BreakKind.MISSING_AT_CUSTODIAN,
    K.CUSTODIAN_QUANTITY_TYPO: BreakKind.QUANTITY_MISMATCH,
    K.CUSTODIAN_PRICE_TYPO: BreakKind.PRICE_MISMATCH,
    K.CUSTODIAN_DUPLICATE_TRADE: BreakKind.DUPLICATE_AT_CUSTODIAN,
}
SETTLEMENT = (K.SETTLEMENT_DELAY, K.SETTLEMENT_FAIL)


@pytest.fixture(scope="module")
def macro() -> MacroHistory:
    return load_macro(dt.date(2020, 1, 2), dt.date(2020, 7, 31))


@pytest.fixture(scope="module")
def faulty(macro: MacroHistory) -> tuple[Simulation, list[ReplayedDay]]:
    # The default rate, plus one of each booking error on demand so each kind occurs.
    injections = {
        3: [FaultRequest(K.CUSTODIAN_DROP_TRADE), FaultRequest(K.CUSTODIAN_PRICE_TYPO)],
        9: [FaultRequest(K.CUSTODIAN_QUANTITY_TYPO), FaultRequest(K.CUSTODIAN_DROP_TRADE)],
        17: [FaultRequest(K.CUSTODIAN_DUPLICATE_TRADE), FaultRequest(K.CORPORATE_ACTION_DATE_MISMATCH)],
    }
    sim = Simulation(SimConfig(seed=7, start=START, days=DAYS), macro)
    return sim, list(replay(sim, injections=injections))


def _every_break(days: list[ReplayedDay]) -> dict[str, Break]:
    latest: dict[str, Break] = {}
    for day in days:
        latest.update((b.break_id, b) for b in day.breaks)
    return latest


def test_without_faults_timing_differences_raise_no_break(macro: MacroHistory) -> None:
    sim = Simulation(SimConfig(seed=7, start=START, days=40, fault_rate=0.0), macro)
    days = list(replay(sim))
    assert sim.faults() == ()
    outcomes = Counter(d.outcome for day in days for d in day.computed.differences)
    assert outcomes[Outcome.TIMING] > 100  # pending settlements were there to explain, every few days
    false_breaks = [
        (day.date, d.description)
        for day in days
        for d in day.computed.differences
        if d.outcome is Outcome.BREAK
    ]
    assert false_breaks == []
    assert all(day.breaks == () for day in days)


def _direct(fault: InjectedFault, breaks: dict[str, Break]) -> list[Break]:
    """The item-level breaks that name a fault: trade breaks on its fill, cash-flow breaks naming its events."""
    events = set(fault.event_ids) | set(fault.correction_event_ids)
    return [
        b
        for b in breaks.values()
        if (b.scope is Scope.TRADE and fault.fill_id and b.fill_id == fault.fill_id)
        or (b.scope is Scope.CASH_FLOW and events & set(b.caused_by))
    ]


def test_every_custodian_fault_is_one_break_on_the_day_it_shows(
    faulty: tuple[Simulation, list[ReplayedDay]],
) -> None:
    sim, days = faulty
    breaks = _every_break(days)
    settle_dates = {
        e.payload.fill_id: e.payload.settle_date
        for day in days
        for e in day.day.events
        if isinstance(e.payload, Fill)
    }
    last = days[-1].date
    shown: Counter[FaultKind] = Counter()
    for fault in sim.faults():
        if fault.kind not in (*BOOKING, *SETTLEMENT, K.CORPORATE_ACTION_DATE_MISMATCH):
            continue
        assert fault.applied_date is not None, fault
        shows = settle_dates[fault.fill_id] if fault.kind in SETTLEMENT else fault.applied_date
        if shows > last:
            continue  # settles after the run
        if fault.kind is K.CORPORATE_ACTION_DATE_MISMATCH and not fault.event_ids:
            continue  # booked on a value date after the run: no custodian event names the fault yet
        hits = _direct(fault, breaks)
        assert hits, fault
        assert min(b.first_seen_date for b in hits) == shows, (fault, hits)
        if fault.kind in BOOKING:
            assert BOOKING[fault.kind] in {b.kind for b in hits}, (fault, hits)
        if fault.kind in SETTLEMENT:
            (late,) = hits
            assert (late.kind, late.book_date) == (BreakKind.SETTLEMENT_DATE_MISMATCH, shows)
        shown[fault.kind] += 1
    assert all(shown[k] >= 1 for k in (*BOOKING, *SETTLEMENT)), shown


def test_corrected_faults_close_their_breaks_with_the_event_that_resolved_them(
    faulty: tuple[Simulation, list[ReplayedDay]],
) -> None:
    sim, days = faulty
    breaks = _every_break(days)
    closed = 0
    for fault in sim.faults():
        if fault.corrected_date is None or fault.kind not in (*BOOKING, *SETTLEMENT):
            continue
        for brk in _direct(fault, breaks):
            assert brk.status is BreakStatus.RESOLVED, (fault, brk)
            assert brk.resolved_at is not None and brk.resolved_at.date() <= fault.corrected_date, (
                fault,
                brk,
            )
            # resolved by the custodian's correction (or late booking or settlement) of that fault
            assert brk.resolved_by_event_id in fault.correction_event_ids + fault.event_ids, (fault, brk)
            if brk.kind is BreakKind.SETTLEMENT_DATE_MISMATCH:
                # settled on both sides: the days late stay on the record
                assert brk.other_date == fault.corrected_date and brk.other_date > brk.book_date
                assert "business day(s) late" in brk.description
            closed += 1
    assert closed >= 5


def test_position_and_cash_breaks_are_grouped_under_the_break_behind_them(
    faulty: tuple[Simulation, list[ReplayedDay]],
) -> None:
    _, days = faulty
    for day in days:
        by_id = {b.break_id: b for b in day.breaks}
        for brk in day.breaks:
            if brk.scope not in (Scope.POSITION, Scope.CASH) or not brk.status.is_open:
                continue
            # one fault, one item: a balance break always has its parent, open, of its mandate
            parent = by_id.get(brk.parent_break_id)
            assert parent is not None and parent.status.is_open, (day.date, brk)
            assert parent.scope.is_item and parent.mandate_id == brk.mandate_id
            assert not brk.escalated
