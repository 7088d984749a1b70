"""market's simulation replayed through dq's checks, exactly as the service runs them.

Each day's events of the kinds dq subscribes to (services/dq/checking.py: CHECKED_KINDS, matched as
market's stream filter matches them) go one by one through StreamChecks.apply, the code the
service's consumer runs for each event it decodes; the issue changes come out in the same order
with the same ids. What the service adds (storing each day end, acknowledgements, the event log)
changes no issue: tests/dq/domain/test_truth_scoring.py compares this replay with the real service.

observe() records, besides the issues' failing results (Sighting), what market knows of each
price and FX fault (FaultView: the corrupted value, the other vendor's the same day and the
previous business day) and every result dq gave a faulted event, so the scorer
(services/scoring/dq_truth.py) can tell a miss from a fault no check could see.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from services.common.market_events import FxQuote, Instrument, PriceQuote
from services.dq.checking import StreamChecks, is_checked
from services.dq.domain.config import CheckSet, load_checks
from services.dq.domain.issues import ChangeKind, IssueChange
from services.dq.domain.results import CheckResult
from services.market.fred import load_macro
from services.market.sim.engine import SimConfig, Simulation
from services.market.sim.fx import CROSS_LEGS, cross_rate
from services.market.sim.macro import MacroHistory
from services.market.sim.records import DayResult, InjectedFault
from services.scoring.dq_truth import DQ_KINDS, VENDOR_OF_KIND, FaultView, Observed, Sighting

OTHER_VENDOR = {"vendor_b": "primary", "primary": "vendor_b"}


@dataclass(frozen=True, slots=True)
class ReplayedDay:
    """One business day as dq saw it: the simulation's day, every result and issue change."""

    day: DayResult
    results: tuple[tuple[str, CheckResult], ...]  # (event id, result) in order
    changes: tuple[IssueChange, ...]
    events: int  # events dq was streamed

    @property
    def date(self) -> dt.date:
        return self.day.date


def replay(sim: Simulation, checks: CheckSet | None = None) -> Iterator[ReplayedDay]:
    """Step `sim` to its end, feeding each event dq subscribes to through its checks."""
    checking = StreamChecks(checks or load_checks(), sim.mandates, sim.instruments)
    while (day := sim.step()) is not None:
        results: list[tuple[str, CheckResult]] = []
        changes: list[IssueChange] = []
        streamed = 0
        for event in day.events:
            if not is_checked(event.kind):
                continue
            streamed += 1
            checked = checking.apply(event)
            results += [(event.event_id, r) for r in checked.results]
            changes += checked.changes
        yield ReplayedDay(day, tuple(results), tuple(changes), streamed)


def sighting(change: IssueChange) -> Sighting | None:
    """A RAISED or UPDATED change of a price or FX issue as the scorer sees it (None otherwise)."""
    issue = change.issue
    failing = change.kind in (ChangeKind.RAISED, ChangeKind.UPDATED)
    if not failing or not issue.kind.startswith(("PRICE_", "FX_")):
        return None
    return Sighting(
        issue_id=issue.issue_id,
        check_id=issue.check_id,
        kind=issue.kind.value,
        subject=issue.subject,
        vendor=issue.vendor,
        value_date=issue.value_date,
        caused_by=tuple(issue.caused_by),
        seen=issue.last_seen.date(),
        first_seen=issue.first_seen.date(),
        quarantined=issue.quarantined,
        message=issue.message,
    )


def _values(day: DayResult) -> tuple[dict[str, Decimal], dict[str, Decimal], dict[tuple[str, str], Decimal]]:
    """The day's values by event id, the primary FX rates by pair, and prices by (instrument, vendor)."""
    by_event: dict[str, Decimal] = {}
    rates: dict[str, Decimal] = {}
    prices: dict[tuple[str, str], Decimal] = {}
    for event in day.events:
        payload = event.payload
        if isinstance(payload, PriceQuote):
            by_event[event.event_id] = payload.price
            prices[payload.instrument_id, payload.vendor] = payload.price
        elif isinstance(payload, FxQuote):
            by_event[event.event_id] = payload.rate
            if payload.vendor == "primary":
                rates[payload.pair] = payload.rate
    return by_event, rates, prices


def fault_view(
    fault: InjectedFault,
    instruments: Mapping[str, Instrument],
    day: DayResult,
    previous: Mapping[tuple[str, str], Decimal],
) -> FaultView:
    """A dq fault with the values that tell whether a check could see it (previous: the previous
    business day's prices by (instrument, vendor))."""
    kind = fault.kind.value
    vendor = VENDOR_OF_KIND[kind]
    by_event, rates, prices = _values(day)
    published = next((by_event[e] for e in fault.event_ids if e in by_event), None)
    if kind == "FX_CROSS_INCONSISTENT":
        pair = fault.currency_pair
        legs = CROSS_LEGS[pair]
        reference = cross_rate(pair, rates) if all(leg in rates for leg in legs) else None
        return FaultView(
            fault_id=fault.fault_id,
            kind=kind,
            applied_date=fault.applied_date,
            event_ids=tuple(fault.event_ids),
            subject=pair,
            vendor=vendor,
            published=published,
            reference=reference,
            attributes={"currency_pair": pair},
            description=fault.description,
        )
    instrument = instruments[fault.instrument_id]
    other = OTHER_VENDOR[vendor]
    return FaultView(
        fault_id=fault.fault_id,
        kind=kind,
        applied_date=fault.applied_date,
        event_ids=tuple(fault.event_ids),
        subject=instrument.instrument_id,
        vendor=vendor,
        published=published,
        reference=prices.get((instrument.instrument_id, other)),
        reference_previous=previous.get((instrument.instrument_id, other)),
        tick=instrument.tick_size,
        attributes={
            "asset_class": instrument.asset_class.value,
            "currency": instrument.currency,
            "market": instrument.market,
            "instrument_id": instrument.instrument_id,
        },
        description=fault.description,
    )


def simulation(
    seed: int, start: dt.date, days: int, fault_rate: float = 1.0, macro: MacroHistory | None = None
) -> Simulation:
    """The world market runs with these settings (the macro history built from `start` on, as
    services/market/app.py builds it)."""
    return Simulation(
        SimConfig(seed=seed, start=start, days=days, fault_rate=fault_rate), macro or load_macro(start)
    )


def observe(
    seed: int,
    start: dt.date,
    days: int,
    fault_rate: float = 1.0,
    checks: CheckSet | None = None,
    macro: MacroHistory | None = None,
) -> Observed:
    """Replay `days` business days of the simulation through dq's checks and observe the run."""
    sim = simulation(seed, start, days, fault_rate, macro)
    instruments = {i.instrument_id: i for i in sim.instruments}
    dates: list[dt.date] = []
    faults: list[FaultView] = []
    sightings: list[Sighting] = []
    verdicts: dict[str, list[str]] = defaultdict(list)
    previous: dict[tuple[str, str], Decimal] = {}
    events = results = 0
    for day in replay(sim, checks):
        dates.append(day.date)
        events += day.events
        results += len(day.results)
        ours = [f for f in day.day.faults_applied if f.kind.value in DQ_KINDS]
        faults += [fault_view(f, instruments, day.day, previous) for f in ours]
        faulted = {e for f in ours for e in f.event_ids}
        for _, result in day.results:
            if result.caused_by and result.caused_by[0] in faulted:
                verdicts[result.caused_by[0]].append(
                    f"{result.check_id} {'passed' if result.success else 'FAILED'}: {result.message}"
                )
        sightings += [s for s in map(sighting, day.changes) if s is not None]
        previous = _values(day.day)[2]
    return Observed(
        source="replay",
        seed=seed,
        fault_rate=fault_rate,
        days=dates,
        faults=faults,
        sightings=sightings,
        verdicts=dict(verdicts),
        events=events,
        results=results,
    )


def final_issues(days: Sequence[ReplayedDay]) -> dict[str, IssueChange]:
    """Each issue's last change over the replayed days (its form as the service stores it)."""
    latest: dict[str, IssueChange] = {}
    for day in days:
        latest.update((c.issue.issue_id, c) for c in day.changes)
    return latest
