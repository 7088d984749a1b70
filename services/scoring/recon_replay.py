"""market's simulation replayed through recon's pure domain, as the service runs it (without a ledger).

Each day's events go through FollowedState.apply (what recon's consumer does), each day end through
check.compute over the day's snapshot, FollowedState.prune and breaks.advance with the events that
resolve breaks (what checker.py does), so tests and the scorer see the breaks recon would raise,
day by day, in a fraction of the time real processes take. The book-vs-ledger and ledger-vs-custodian
comparisons and suspense need the ledger: the real services run them (bench/recon_truth.py).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from services.market.fred import load_macro
from services.market.sim.engine import SimConfig, Simulation
from services.market.sim.macro import MacroHistory
from services.market.sim.records import DayResult, FaultRequest, Fill, InjectedFault
from services.recon.domain.breaks import Advanced, advance
from services.recon.domain.check import Computed, Reference, books_of, compute, valuation_of
from services.recon.domain.config import ReconConfig
from services.recon.domain.followed import FollowedState
from services.recon.domain.records import Break, InstrumentRef, RunContext
from services.scoring.recon_truth import BreakView, FaultView, Observed


@dataclass(frozen=True, slots=True)
class ReplayedDay:
    """One day end as recon saw it: the day's simulation result, the check, the breaks after it."""

    day: DayResult
    computed: Computed
    advanced: Advanced

    @property
    def date(self) -> dt.date:
        return self.day.date

    @property
    def breaks(self) -> tuple[Break, ...]:
        return self.advanced.breaks


def reference_of(sim: Simulation) -> Reference:
    return Reference(
        {m.mandate_id: m.base_currency for m in sim.mandates},
        {i.instrument_id: InstrumentRef(i.asset_class.value, i.currency) for i in sim.instruments},
    )


def replay(
    sim: Simulation,
    config: ReconConfig | None = None,
    injections: Mapping[int, Sequence[FaultRequest]] | None = None,
) -> Iterator[ReplayedDay]:
    """Step `sim` to its end, checking each day end; injections: day index -> faults requested before it."""
    config = config or ReconConfig.default()
    reference = reference_of(sim)
    state = FollowedState()
    breaks: tuple[Break, ...] = ()
    index = 0
    while not sim.finished:
        for request in (injections or {}).get(index, ()):
            sim.inject(request)
        day = sim.step()
        if day is None:
            return
        index += 1
        day_end = None
        for event in day.events:
            day_end = state.apply(event) or day_end
        assert day_end is not None, f"{day.date}: a simulated day without a clock.day_end"
        snapshot = day.snapshot
        valuation = valuation_of(snapshot.prices, snapshot.fx_rates, reference)
        books = books_of(day.date, snapshot.internal_books, snapshot.custodian_books, valuation, None)
        computed = compute(state, books, today=day.date, config=config, reference=reference)
        resolving = state.before_prune()
        state.prune(set(computed.keep_fills), day.date)
        latest = {b.item_key: b for b in breaks}
        run = RunContext(
            run_id=f"RUN-{day.date.isoformat()}-{day_end.seq}",
            as_of_date=day.date,
            sim_time=day_end.sim_time,
            at=day_end.sim_time,
            covered=computed.covered,
            as_of_seq=day_end.seq,
        )
        advanced = advance(
            latest.values(),
            computed.differences,
            run=run,
            today=day.date,
            calendar=state.calendar(),
            config=config,
            resolved_by={
                key: resolving.resolving_event_of(brk, day_end.event_id)
                for key, brk in latest.items()
                if brk.status.is_open
            },
        )
        breaks = advanced.breaks
        yield ReplayedDay(day, computed, advanced)


def fault_view(fault: InjectedFault) -> FaultView:
    return FaultView(
        fault_id=fault.fault_id,
        kind=fault.kind.value,
        mandate_id=fault.mandate_id,
        instrument_id=fault.instrument_id,
        fill_id=fault.fill_id,
        applied_date=fault.applied_date,
        corrected_date=fault.corrected_date,
        event_ids=tuple(fault.event_ids),
        correction_event_ids=tuple(fault.correction_event_ids),
    )


def break_view(brk: Break) -> BreakView:
    return BreakView(
        break_id=brk.break_id,
        mandate_id=brk.mandate_id,
        kind=brk.kind.value,
        comparison=brk.comparison.value,
        scope=brk.scope.value,
        status=brk.status.value,
        instrument_id=brk.instrument_id,
        currency=brk.currency,
        fill_id=brk.fill_id,
        cash_flow_id=brk.cash_flow_id,
        parent_break_id=brk.parent_break_id,
        first_seen=brk.first_seen_date,
        last_seen=brk.last_seen_date,
        resolved_on=brk.resolved_at.date()
        if brk.resolved_at is not None and not brk.status.is_open
        else None,
        resolved_by=brk.resolved_by_event_id,
        caused_by=brk.caused_by,
        escalated=brk.escalated,
        description=brk.description,
    )


def observe(
    seed: int,
    start: dt.date,
    days: int,
    fault_rate: float = 1.0,
    config: ReconConfig | None = None,
    macro: MacroHistory | None = None,
) -> Observed:
    """Replay `days` business days of the simulation through recon's domain and observe the run."""
    macro = macro or load_macro(start - dt.timedelta(days=10), start + dt.timedelta(days=days * 7 // 5 + 60))
    sim = Simulation(SimConfig(seed=seed, start=start, days=days, fault_rate=fault_rate), macro)
    latest: dict[str, Break] = {}
    dates: list[dt.date] = []
    settle_dates: dict[str, dt.date] = {}
    for day in replay(sim, config):
        dates.append(day.date)
        settle_dates.update(
            (e.payload.fill_id, e.payload.settle_date) for e in day.day.events if isinstance(e.payload, Fill)
        )
        latest.update((b.break_id, b) for b in day.breaks)
    return Observed(
        source="replay",
        seed=seed,
        fault_rate=fault_rate,
        days=dates,
        faults=[fault_view(f) for f in sim.faults()],
        breaks=[break_view(b) for b in latest.values()],
        settle_dates=settle_dates,
        instrument_currency={i.instrument_id: i.currency for i in sim.instruments},
        fills=len(settle_dates),
    )
