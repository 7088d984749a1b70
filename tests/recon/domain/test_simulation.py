"""Recon against the market simulation: no false breaks from timing, and every custodian fault found.

Each day end the internal book is reconciled with the custodian's (positions and cash,
from DayResult.snapshot) using the pending settlements derived from that day's and
earlier fills (those the custodian has not reported SETTLED), and the fills are matched
with the custodian's trade records. The breaks are carried from day to day with
`advance`, as the service will.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass

import pytest

from services.market.fred import load_macro
from services.market.sim.engine import SimConfig, Simulation
from services.market.sim.macro import MacroHistory
from services.market.sim.records import (
    CustodianTrade,
    FaultKind,
    FaultRequest,
    Fill,
    SettlementState,
    SettlementStatus,
)
from services.recon.domain.aging import BusinessCalendar
from services.recon.domain.breaks import advance
from services.recon.domain.conventions import book_items, pending_settlements
from services.recon.domain.reconcile import reconcile
from services.recon.domain.records import (
    BookTrade,
    Break,
    BreakKind,
    Comparison,
    Coverage,
    CustodianTradeRecord,
    Difference,
    InstrumentRef,
    Outcome,
    RunContext,
    Scope,
    Valuation,
)
from services.recon.domain.trades import match_trades
from tests.recon.builders import CONFIG

START = dt.date(2020, 2, 3)
DAYS = 40
BVC = Comparison.BOOK_VS_CUSTODIAN
TRADE_FAULTS = {
    FaultKind.CUSTODIAN_DROP_TRADE: BreakKind.MISSING_AT_CUSTODIAN,
    FaultKind.CUSTODIAN_QUANTITY_TYPO: BreakKind.QUANTITY_MISMATCH,
    FaultKind.CUSTODIAN_DUPLICATE_TRADE: BreakKind.DUPLICATE_AT_CUSTODIAN,
}


@dataclass(frozen=True)
class DayCheck:
    date: dt.date
    differences: tuple[Difference, ...]
    breaks: tuple[Break, ...]  # after the day's advance


@pytest.fixture(scope="module")
def macro() -> MacroHistory:
    return load_macro(dt.date(2020, 1, 2), dt.date(2020, 6, 30))


def reconcile_run(
    macro: MacroHistory, fault_rate: float, injections: dict[int, list[FaultRequest]] | None = None
) -> tuple[Simulation, list[DayCheck]]:
    sim = Simulation(SimConfig(seed=7, start=START, days=DAYS, fault_rate=fault_rate), macro)
    calendar = BusinessCalendar([day.date for day in macro.days])
    reference = {i.instrument_id: InstrumentRef(i.asset_class.value, i.currency) for i in sim.instruments}
    bonds = {i.instrument_id for i in sim.instruments if i.asset_class.value.endswith("BOND")}
    base = {m.mandate_id: m.base_currency for m in sim.mandates}
    fills: list[Fill] = []
    fill_event: dict[str, str] = {}
    booked: dict[str, tuple[CustodianTrade, str]] = {}
    settled_on: dict[str, dt.date] = {}
    breaks: tuple[Break, ...] = ()
    checks: list[DayCheck] = []
    while not sim.finished:
        for request in (injections or {}).get(len(checks), []):
            sim.inject(request)
        day = sim.step()
        assert day is not None
        for event in day.events:
            payload = event.payload
            if isinstance(payload, Fill):
                fills.append(payload)
                fill_event[payload.fill_id] = event.event_id
            elif isinstance(payload, CustodianTrade):
                booked[payload.custodian_ref] = (payload, event.event_id)
            elif isinstance(payload, SettlementStatus) and payload.state is SettlementState.SETTLED:
                settled_on[payload.custodian_ref] = payload.settle_date
        snapshot = day.snapshot
        settled_fills = {booked[ref][0].fill_id for ref in settled_on}
        pending = pending_settlements(
            fills,
            today=day.date,
            comparison=BVC,
            settled_at_other=settled_fills,
            caused_by={f: (e,) for f, e in fill_event.items()},
        )
        prices = {
            q.instrument_id: q.price / 100 if q.instrument_id in bonds else q.price for q in snapshot.prices
        }
        valuation = Valuation(prices, {}, base)
        positions = reconcile(
            [item for book in snapshot.internal_books for item in book_items(book)],
            [item for book in snapshot.custodian_books for item in book_items(book)],
            comparison=BVC,
            today=day.date,
            config=CONFIG,
            calendar=calendar,
            pending=pending,
            reference=reference,
            valuation=valuation,
        )
        trades = match_trades(
            [
                BookTrade(
                    f.fill_id,
                    f.mandate_id,
                    f.instrument_id,
                    f.side.value,
                    f.quantity,
                    f.price,
                    f.currency,
                    f.trade_date,
                    f.settle_date,
                    fill_event[f.fill_id],
                )
                for f in fills
            ],
            [
                CustodianTradeRecord(
                    t.custodian_ref,
                    t.fill_id,
                    t.mandate_id,
                    t.instrument_id,
                    t.side.value,
                    t.quantity,
                    t.price,
                    t.currency,
                    t.trade_date,
                    settled_on.get(t.custodian_ref, t.settle_date),
                    event_id,
                )
                for t, event_id in booked.values()
            ],
            today=day.date,
            config=CONFIG,
            calendar=calendar,
            reference=reference,
            valuation=valuation,
        )
        differences = (*positions.differences, *trades)
        run = RunContext(
            run_id=f"RUN-{day.date}",
            as_of_date=day.date,
            sim_time=dt.datetime.combine(day.date, dt.time(23, 59), tzinfo=dt.UTC),
            at=dt.datetime.combine(day.date, dt.time(23, 59), tzinfo=dt.UTC),
            covered=frozenset(Coverage(m, BVC, scope) for m in base for scope in Scope),
            as_of_seq=snapshot.as_of_seq,
        )
        breaks = advance(
            breaks, differences, run=run, today=day.date, calendar=calendar, config=CONFIG
        ).breaks
        checks.append(DayCheck(day.date, differences, breaks))
    return sim, checks


def test_without_faults_timing_differences_raise_no_break(macro: MacroHistory) -> None:
    sim, checks = reconcile_run(macro, fault_rate=0.0)
    assert sim.faults() == ()
    outcomes = Counter(d.outcome for check in checks for d in check.differences)
    assert outcomes[Outcome.TIMING] > 100  # pending settlements were there to explain, every few days
    false_breaks = [
        (c.date, d.description) for c in checks for d in c.differences if d.outcome is Outcome.BREAK
    ]
    assert false_breaks == []
    assert all(check.breaks == () for check in checks)


def test_every_custodian_trade_fault_is_a_break_at_the_next_day_end(macro: MacroHistory) -> None:
    # The default fault rate, plus one of each custodian trade fault on demand so each kind occurs.
    injections = {
        3: [FaultRequest(FaultKind.CUSTODIAN_DROP_TRADE)],
        9: [FaultRequest(FaultKind.CUSTODIAN_QUANTITY_TYPO), FaultRequest(FaultKind.CUSTODIAN_DROP_TRADE)],
        17: [FaultRequest(FaultKind.CUSTODIAN_DUPLICATE_TRADE)],
    }
    sim, checks = reconcile_run(macro, fault_rate=1.0, injections=injections)
    by_date = {check.date: check for check in checks}
    faults = [f for f in sim.faults() if f.kind in TRADE_FAULTS and f.applied_date is not None]
    found: Counter[FaultKind] = Counter()
    total: Counter[FaultKind] = Counter(f.kind for f in faults)
    missed = []
    first_breaks: dict[str, tuple[str, dt.date]] = {}
    for fault in faults:
        assert fault.applied_date is not None
        check = by_date[fault.applied_date]  # the day end of the day the custodian (mis)booked the fill
        hits = [
            d
            for d in check.differences
            if d.outcome is Outcome.BREAK
            and d.fill_id == fault.fill_id
            and d.kind is TRADE_FAULTS[fault.kind]
        ]
        if hits:
            found[fault.kind] += 1
            # ... and it is carried as a durable break naming the fill's events.
            (brk,) = [b for b in check.breaks if b.item_key == hits[0].item_key]
            assert brk.first_seen_date == fault.applied_date
            assert set(brk.caused_by) & set(fault.event_ids)
            first_breaks[brk.item_key] = (brk.break_id, brk.first_seen_date)
        else:
            missed.append(fault)
    report = ", ".join(f"{k.value} {found[k]}/{total[k]}" for k in TRADE_FAULTS)
    print(f"\nrecall at the first day end: {report}")
    assert all(total[k] >= 1 for k in TRADE_FAULTS), report
    assert missed == [], report
    # Each fault's break persists with one id, aging in business days, to the last day end.
    calendar = BusinessCalendar([day.date for day in macro.days])
    last = checks[-1]
    final = {b.item_key: b for b in last.breaks}
    for item_key, (first_id, first_seen) in first_breaks.items():
        brk = final[item_key]
        assert (brk.break_id, brk.first_seen_date) == (first_id, first_seen)
        assert brk.age_business_days == calendar.count_between(first_seen, last.date) > 0
