"""Recon measured against market's ground truth (issue 4): `python -m bench.recon_truth`.

market knows every fault it injected (Simulation.faults()). This runs the simulation
for a year at the default fault rate, reconciles every day end with recon's pure
domain exactly as tests/recon/domain/test_simulation.py does (internal book vs custodian:
positions and cash with the pending settlements of fills the custodian has not
reported SETTLED, then every fill against the custodian's trade records; the
differences carried from day to day by `breaks.advance`, so breaks persist and
age), and scores recon per fault kind.

How a break is matched to a fault (the issue asks for a match by event id; these rules
are that match made strict, plus one stand-in where recon's lineage cannot reach):

(a) Lineage, strict: a break seen at a day end shares an event id with the fault's
    event_ids (faults.py says what they are: the dropped fill, the duplicate or
    mistyped custodian.trade, the late or failed custodian.settlement, the
    mis-dated custodian.cashflow) AND is about the fault's fill: a trade-level
    break on that fill, or a position / cash break once that fill's settlement
    grace has passed. Why strict: a position or cash break's caused_by lists every
    fill still pending on its key, explaining or not, and `advance` merges lineage
    over a break's life, so a cash break open for other reasons soon "names" any
    fault whose fill passes through that cash key. A pending settlement's lineage
    is the fill and its custodian.trade events (as conventions.pending_settlements
    documents), so a failed settlement that outlives its grace is matched through
    its custodian.trade.
(b) The clean twin, for position and cash breaks (precision), and for the
    corporate-action value-date faults (recall; recon has no cash-flow check, so
    no break of recon's can name a custodian.cashflow). After a mistyped or
    duplicated trade has settled, or when the custodian pays a dividend on its own
    wrong holding, the key differs with no pending settlement left to name the
    fill. A second Simulation with the same seed and fault_rate 0 runs in
    lockstep: its fills and internal book are the same (checked every day, else
    the run stops: the desk, investor flows and the internal book never read the
    custodian) and its custodian is the one that made no mistake. A position or
    cash break whose key holds another figure at the faulty custodian than at the
    clean one on a day it was seen is caused by faults: it is matched to the
    faults applied by then on that mandate and instrument (positions) or on an
    instrument of that currency (cash). A value-date fault is found by a cash
    break on its key within the 2 business days a value date can be late, while
    the faulty-minus-clean cash there differs from just before the fault (so a
    break left open by an older fault on the same key does not count).
A break that neither rule matches is a false break: recon raised it though no
fault is behind it.

A fault is found when some break seen at a day end matches it; found within one
day-end check when that day is the first day end at or after the fault's applied
date, i.e. its applied date (market applies a custodian fault on the fill's trade
date and closes each business day with a day end). Recall is found / due per kind,
where a settlement fault still unsettled and inside its grace when the run ends is
"in flight", not due. Precision is fault-matched breaks / all breaks, one per
break id (a break that persists for weeks counts once; a reopened one twice).

A false break "from timing" is one that pending settlements would have explained
had their grace period not run out: with every fill the custodian has not settled
counted as pending, the key's difference is within tolerance.

Not recon's: vendor price faults and inconsistent FX crosses concern prices, which
recon does not compare (dq does); they are listed, never counted as misses.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from services.common.calendar import BusinessCalendar
from services.common.market_events import priced_per_100
from services.market.fred import load_macro
from services.market.sim.engine import SimConfig, Simulation
from services.market.sim.records import (
    Book,
    CustodianTrade,
    FaultKind,
    FaultStatus,
    Fill,
    InjectedFault,
    SettlementState,
    SettlementStatus,
)
from services.recon.domain.breaks import advance, break_id_for
from services.recon.domain.config import ReconConfig
from services.recon.domain.conventions import book_items, pending_settlements
from services.recon.domain.reconcile import reconcile
from services.recon.domain.records import (
    BookTrade,
    Break,
    Comparison,
    Coverage,
    CustodianTradeRecord,
    Difference,
    InstrumentRef,
    ItemKey,
    Outcome,
    PendingSettlement,
    RunContext,
    Scope,
    Valuation,
)
from services.recon.domain.tolerances import within
from services.recon.domain.trades import match_trades

ROOT = Path(__file__).resolve().parents[2]
OUTPUT = ROOT / "bench" / "recon_truth.json"
DEFAULT_DAYS = 252
DEFAULT_SEED = 7
DEFAULT_START = dt.date(2019, 1, 2)
BVC = Comparison.BOOK_VS_CUSTODIAN
K = FaultKind
# The aim of issue 4: each of these found at the first day-end check after it happened.
CUSTODIAN_KINDS: tuple[FaultKind, ...] = (
    K.CUSTODIAN_DROP_TRADE,
    K.CUSTODIAN_DUPLICATE_TRADE,
    K.CUSTODIAN_QUANTITY_TYPO,
    K.CUSTODIAN_PRICE_TYPO,  # recon compares each custodian trade's price with the fill's (trades.py)
)
# Custodian faults whose effect shows only later: on the contractual settle date at the earliest
# (settlements), or on the payment date (value dates).
LATER_KINDS: tuple[FaultKind, ...] = (
    K.SETTLEMENT_DELAY,
    K.SETTLEMENT_FAIL,
    K.CORPORATE_ACTION_DATE_MISMATCH,
)
RECON_KINDS: tuple[FaultKind, ...] = CUSTODIAN_KINDS + LATER_KINDS
NOT_RECONS: tuple[FaultKind, ...] = (K.VENDOR_STALE_PRICE, K.VENDOR_PRICE_SPIKE, K.FX_CROSS_INCONSISTENT)


@dataclass(frozen=True, slots=True)
class Seen:
    """One BREAK difference at one day end, with what the scorer needs to judge it."""

    date: dt.date
    break_id: str
    difference: Difference
    twin_differs: bool  # position / cash: the faulty custodian's figure is not the clean one's
    timing_explainable: bool  # position / cash: all unsettled fills would explain it


@dataclass(slots=True)
class _Feed:
    """What recon has learnt from the stream so far (fills, custodian trades and settlements)."""

    fills: list[Fill] = field(default_factory=list)
    fill_event: dict[str, str] = field(default_factory=dict)
    booked: dict[str, tuple[CustodianTrade, str]] = field(default_factory=dict)
    trade_events: dict[str, list[str]] = field(default_factory=dict)  # fill id -> custodian.trade ids
    settled_on: dict[str, dt.date] = field(default_factory=dict)  # custodian ref -> date

    def take(self, events: Iterable[Any]) -> None:
        for event in events:
            payload = event.payload
            if isinstance(payload, Fill):
                self.fills.append(payload)
                self.fill_event[payload.fill_id] = event.event_id
            elif isinstance(payload, CustodianTrade):
                self.booked[payload.custodian_ref] = (payload, event.event_id)
                self.trade_events.setdefault(payload.fill_id, []).append(event.event_id)
            elif isinstance(payload, SettlementStatus) and payload.state is SettlementState.SETTLED:
                self.settled_on[payload.custodian_ref] = payload.settle_date

    def pending(self, today: dt.date) -> tuple[PendingSettlement, ...]:
        settled = {self.booked[ref][0].fill_id for ref in self.settled_on}
        lineage = {
            fill_id: (event_id, *self.trade_events.get(fill_id, ()))
            for fill_id, event_id in self.fill_event.items()
        }
        return pending_settlements(
            self.fills, today=today, comparison=BVC, settled_at_other=settled, caused_by=lineage
        )

    def book_trades(self) -> list[BookTrade]:
        return [
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
                self.fill_event[f.fill_id],
            )
            for f in self.fills
        ]

    def custodian_trades(self) -> list[CustodianTradeRecord]:
        # The custodian's settle date is the one its settlement report gave, once it settled.
        return [
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
                self.settled_on.get(t.custodian_ref, t.settle_date),
                event_id,
            )
            for t, event_id in self.booked.values()
        ]


@dataclass(frozen=True, slots=True)
class Run:
    """A reconciled simulation: its faults (ground truth), every break seen, the final breaks."""

    faults: tuple[InjectedFault, ...]
    fault_rate: float
    seen: tuple[Seen, ...]
    breaks: tuple[Break, ...]
    dates: tuple[dt.date, ...]
    fills: int
    differences: Counter[Outcome]
    instrument_currency: Mapping[str, str]
    settle_dates: Mapping[str, dt.date]  # fill id -> contractual settle date
    settled: Mapping[str, dt.date]  # fill id -> the day the custodian reported it SETTLED
    # day -> (mandate, scope, instrument or currency) -> faulty custodian's figure minus the clean one's
    deltas: Mapping[dt.date, Mapping[tuple[str, Scope, str], Decimal]]
    calendar: BusinessCalendar
    config: ReconConfig


def _items(books: Sequence[Book]) -> dict[ItemKey, Decimal]:
    return {key: value for book in books for key, value in book_items(book)}


def _explainable(
    difference: Difference, pending: Sequence[PendingSettlement], config: ReconConfig, asset_class: str
) -> bool:
    """Whether every unsettled fill on this key, grace or no grace, explains the difference."""
    if difference.scope is Scope.POSITION:
        book, other = difference.book_quantity, difference.other_quantity
        explained = sum(
            (
                p.quantity
                for p in pending
                if p.quantity is not None
                and (p.mandate_id, p.instrument_id) == (difference.mandate_id, difference.instrument_id)
            ),
            Decimal(0),
        )
    elif difference.scope is Scope.CASH:
        book, other = difference.book_amount, difference.other_amount
        explained = sum(
            (
                p.amount
                for p in pending
                if p.amount is not None
                and (p.mandate_id, p.currency) == (difference.mandate_id, difference.currency)
            ),
            Decimal(0),
        )
    else:
        return False
    if book is None or other is None or explained == 0:
        return False
    tolerance = config.tolerances.lookup(BVC, difference.scope, asset_class, difference.currency)
    return within(book, other + explained, tolerance)


def _first_settled(feed: _Feed) -> dict[str, dt.date]:
    settled: dict[str, dt.date] = {}
    for ref, on in feed.settled_on.items():
        fill_id = feed.booked[ref][0].fill_id
        settled[fill_id] = min(on, settled.get(fill_id, on))
    return settled


def reconcile_run(
    days: int = DEFAULT_DAYS,
    seed: int = DEFAULT_SEED,
    start: dt.date = DEFAULT_START,
    config: ReconConfig | None = None,
    explain_pending: bool = True,
) -> Run:
    """Simulate `days` business days (default fault rate) beside a fault-free twin; reconcile each day end.

    explain_pending=False reconciles as a recon that knew no pending settlements would: every
    settlement lag becomes a break, which the scorer must count as false breaks from timing.
    """
    if days < 1:
        raise ValueError(f"days: must be >= 1, not {days}")
    config = config or ReconConfig.default()
    macro = load_macro(start - dt.timedelta(days=10), start + dt.timedelta(days=days * 7 // 5 + 60))
    sim = Simulation(SimConfig(seed=seed, start=start, days=days), macro)
    twin = Simulation(SimConfig(seed=seed, start=start, days=days, fault_rate=0.0), macro)
    calendar = BusinessCalendar([day.date for day in macro.days])
    reference = {i.instrument_id: InstrumentRef(i.asset_class.value, i.currency) for i in sim.instruments}
    bonds = {i.instrument_id for i in sim.instruments if priced_per_100(i.asset_class)}
    base = {m.mandate_id: m.base_currency for m in sim.mandates}
    covered = frozenset(Coverage(m, BVC, scope) for m in base for scope in Scope)
    feed = _Feed()
    breaks: tuple[Break, ...] = ()
    seen: list[Seen] = []
    dates: list[dt.date] = []
    outcomes: Counter[Outcome] = Counter()
    deltas: dict[dt.date, dict[tuple[str, Scope, str], Decimal]] = {}
    while not sim.finished:
        day, clean = sim.step(), twin.step()
        assert day is not None and clean is not None
        fills = [e.payload for e in day.events if isinstance(e.payload, Fill)]
        if fills != [e.payload for e in clean.events if isinstance(e.payload, Fill)]:
            raise RuntimeError(f"{day.date}: the fault-free twin traded differently; it is no oracle")
        feed.take(day.events)
        snapshot = day.snapshot
        if snapshot.internal_books != clean.snapshot.internal_books:
            raise RuntimeError(f"{day.date}: the fault-free twin's internal book differs; it is no oracle")
        pending = feed.pending(day.date)
        prices = {
            q.instrument_id: q.price / 100 if q.instrument_id in bonds else q.price for q in snapshot.prices
        }
        valuation = Valuation(prices, {}, base)
        custodian = _items(snapshot.custodian_books)
        positions = reconcile(
            _items(snapshot.internal_books),
            custodian,
            comparison=BVC,
            today=day.date,
            config=config,
            calendar=calendar,
            pending=pending if explain_pending else (),
            reference=reference,
            valuation=valuation,
        )
        trades = match_trades(
            feed.book_trades(),
            feed.custodian_trades(),
            today=day.date,
            config=config,
            calendar=calendar,
            reference=reference,
            valuation=valuation,
        )
        differences = (*positions.differences, *trades)
        outcomes.update(d.outcome for d in differences)
        run = RunContext(
            run_id=f"RUN-{day.date}",
            as_of_date=day.date,
            sim_time=dt.datetime.combine(day.date, dt.time(23, 59), tzinfo=dt.UTC),
            at=dt.datetime.combine(day.date, dt.time(23, 59), tzinfo=dt.UTC),
            covered=covered,
            as_of_seq=snapshot.as_of_seq,
        )
        breaks = advance(
            breaks, differences, run=run, today=day.date, calendar=calendar, config=config
        ).breaks
        open_ids = {b.item_key: b.break_id for b in breaks if b.status.is_open}
        clean_custodian = _items(clean.snapshot.custodian_books)
        deltas[day.date] = {
            (key.mandate_id, key.scope, key.instrument_id or key.currency): delta
            for key in custodian.keys() | clean_custodian.keys()
            if (delta := custodian.get(key, Decimal(0)) - clean_custodian.get(key, Decimal(0)))
        }
        for d in differences:
            if d.outcome is not Outcome.BREAK:
                continue
            twin_differs = False
            if d.scope is not Scope.TRADE:
                key = ItemKey(
                    d.mandate_id,
                    d.scope,
                    instrument_id=d.instrument_id if d.scope is Scope.POSITION else "",
                    currency=d.currency if d.scope is Scope.CASH else "",
                    account=d.account,
                )
                twin_differs = custodian.get(key, Decimal(0)) != clean_custodian.get(key, Decimal(0))
            ref = reference.get(d.instrument_id)
            seen.append(
                Seen(
                    date=day.date,
                    break_id=open_ids.get(d.item_key, break_id_for(d.item_key, 1)),
                    difference=d,
                    twin_differs=twin_differs,
                    timing_explainable=_explainable(
                        d,
                        pending,
                        config,
                        ref.asset_class if ref else ("CASH" if d.scope is Scope.CASH else ""),
                    ),
                )
            )
        dates.append(day.date)
    return Run(
        faults=sim.faults(),
        fault_rate=sim.config.fault_rate,
        seen=tuple(seen),
        breaks=breaks,
        dates=tuple(dates),
        fills=len(feed.fills),
        differences=outcomes,
        instrument_currency={i.instrument_id: i.currency for i in sim.instruments},
        settle_dates={f.fill_id: f.settle_date for f in feed.fills},
        settled=_first_settled(feed),
        deltas=deltas,
        calendar=calendar,
        config=config,
    )


# ---------------------------------------------------------------- scoring


def _fault_index(faults: Iterable[InjectedFault]) -> dict[str, list[InjectedFault]]:
    by_event: dict[str, list[InjectedFault]] = defaultdict(list)
    for fault in faults:
        for event_id in fault.event_ids:
            by_event[event_id].append(fault)
    return by_event


def _grace_until(run: Run, fill_id: str) -> dt.date | None:
    settle = run.settle_dates.get(fill_id)
    return None if settle is None else run.calendar.add(settle, run.config.settlement_grace_business_days)


def names(fault: InjectedFault, seen: Seen, run: Run) -> bool:
    """Rule (a): the break's lineage names the fault, and the break is about the fault's fill.

    A trade-level break is about one fill. A position or cash break's lineage lists every
    fill still pending on its key, explaining or not, so it is about the fault's fill only
    once that fill's grace has passed and it is part of the unexplained remainder.
    """
    d = seen.difference
    if not set(d.caused_by) & set(fault.event_ids):
        return False
    if d.scope is Scope.TRADE:
        return d.fill_id == fault.fill_id
    until = _grace_until(run, fault.fill_id)
    return until is not None and seen.date > until


def on_key(fault: InjectedFault, seen: Seen, run: Run) -> bool:
    """Rule (b)'s link: a fault applied by then, on the break's mandate and its instrument
    (positions) or an instrument of its currency (cash)."""
    d = seen.difference
    if fault.applied_date is None or fault.applied_date > seen.date or fault.mandate_id != d.mandate_id:
        return False
    if d.scope is Scope.POSITION:
        return fault.instrument_id == d.instrument_id
    return d.scope is Scope.CASH and run.instrument_currency.get(fault.instrument_id) == d.currency


def shows_value_date(fault: InjectedFault, seen: Seen, run: Run) -> bool:
    """A corporate-action value-date fault found through the clean twin (no lineage route: recon has
    no cash-flow check): a cash break on its key within the two business days a value date can be
    late, while the custodian's cash there is off the clean figure by another amount than just
    before the fault. A back-valued payment (booked on the pay date) changes no balance: not found."""
    d = seen.difference
    if fault.kind is not K.CORPORATE_ACTION_DATE_MISMATCH or d.scope is not Scope.CASH:
        return False
    if not on_key(fault, seen, run) or fault.applied_date is None:
        return False
    if seen.date > run.calendar.add(fault.applied_date, 2):
        return False
    key = (d.mandate_id, Scope.CASH, d.currency)
    before = run.deltas.get(run.calendar.add(fault.applied_date, -1), {}).get(key, Decimal(0))
    return run.deltas.get(seen.date, {}).get(key, Decimal(0)) != before


def in_flight(fault: InjectedFault, run: Run) -> bool:
    """A settlement fault the run ended too early to show: not settled and still inside its grace."""
    if fault.kind not in (K.SETTLEMENT_DELAY, K.SETTLEMENT_FAIL) or fault.fill_id in run.settled:
        return False
    until = _grace_until(run, fault.fill_id)
    return until is None or until >= run.dates[-1]


def _summary(values: Sequence[int]) -> dict[str, float | int | None]:
    if not values:
        return {"median": None, "max": None}
    return {"median": statistics.median(values), "max": max(values)}


def score_run(run: Run) -> dict[str, Any]:
    """Recall per fault kind and precision of recon over a reconciled run (see the module docstring)."""
    by_event = _fault_index(run.faults)
    recon_faults = [f for f in run.faults if f.kind in RECON_KINDS and f.status is FaultStatus.APPLIED]
    found_on: dict[str, tuple[dt.date, str]] = {}
    lineage_matched: set[str] = set()
    twin_matched: set[str] = set()
    first_seen: dict[str, Seen] = {}
    timing: set[str] = set()
    for seen in run.seen:  # in date order
        first_seen.setdefault(seen.break_id, seen)
        if seen.timing_explainable:
            timing.add(seen.break_id)
        candidates = {f.fault_id: f for e in seen.difference.caused_by for f in by_event.get(e, ())}
        for fault in candidates.values():
            if names(fault, seen, run):
                lineage_matched.add(seen.break_id)
                how = "trade check" if seen.difference.scope is Scope.TRADE else "position/cash past grace"
                found_on.setdefault(fault.fault_id, (seen.date, how))
        if seen.twin_differs:
            for fault in recon_faults:
                if on_key(fault, seen, run):
                    twin_matched.add(seen.break_id)
                    if shows_value_date(fault, seen, run):
                        found_on.setdefault(fault.fault_id, (seen.date, "clean twin"))

    per_kind: dict[str, dict[str, Any]] = {}
    missed: list[dict[str, Any]] = []
    for kind in RECON_KINDS:
        faults = [f for f in recon_faults if f.kind is kind]
        due = [f for f in faults if not in_flight(f, run)]
        lags: list[int] = []
        for fault in due:
            assert fault.applied_date is not None
            if fault.fault_id in found_on:
                lags.append(run.calendar.count_between(fault.applied_date, found_on[fault.fault_id][0]))
            else:
                missed.append(
                    {
                        "fault_id": fault.fault_id,
                        "kind": kind.value,
                        "applied_date": fault.applied_date.isoformat(),
                        "description": fault.description,
                    }
                )
        within_one = sum(1 for lag in lags if lag == 0)
        per_kind[kind.value] = {
            "injected": len(faults),
            "in_flight_at_end": len(faults) - len(due),
            "found": len(lags),
            "found_within_one_check": within_one,
            "recall": len(lags) / len(due) if due else None,
            "recall_within_one_check": within_one / len(due) if due else None,
            "lag_business_days": _summary(lags),
            "found_by": dict(Counter(found_on[f.fault_id][1] for f in due if f.fault_id in found_on)),
        }
    not_recons = {kind.value: sum(1 for f in run.faults if f.kind is kind) for kind in NOT_RECONS}

    matched = lineage_matched | twin_matched
    false_ids = [b for b in first_seen if b not in matched]
    false_timing = [b for b in false_ids if b in timing]
    by_break_kind: dict[str, dict[str, int]] = {}
    for break_id, seen in first_seen.items():
        row = by_break_kind.setdefault(seen.difference.kind.value, {"breaks": 0, "false": 0})
        row["breaks"] += 1
        row["false"] += break_id not in matched
    custodian_rows = [per_kind[k.value] for k in CUSTODIAN_KINDS if per_kind[k.value]["injected"]]
    return {
        "run": {
            "days": len(run.dates),
            "start": run.dates[0].isoformat(),
            "end": run.dates[-1].isoformat(),
            "fault_rate": run.fault_rate,
            "fills": run.fills,
            "day_end_checks": len(run.dates),
            "differences_by_outcome": {o.value: run.differences[o] for o in Outcome if run.differences[o]},
        },
        "kinds": per_kind,
        "not_recons": not_recons,
        "breaks": {
            "total": len(first_seen),
            "matched": len(matched),
            "matched_by_lineage": len(lineage_matched),
            "matched_only_by_clean_twin": len(twin_matched - lineage_matched),
            "false": len(false_ids),
            "false_from_timing": len(false_timing),
            "precision": len(matched) / len(first_seen) if first_seen else None,
            "by_kind": dict(sorted(by_break_kind.items())),
        },
        "aim": {
            "custodian_faults_found_within_one_check": all(
                row["found_within_one_check"] == row["injected"] for row in custodian_rows
            ),
            "no_false_breaks_from_timing": not false_timing,
        },
        "missed": missed,
        "false_breaks": [
            {
                "break_id": b,
                "kind": first_seen[b].difference.kind.value,
                "first_seen": first_seen[b].date.isoformat(),
                "timing": b in timing,
                "description": first_seen[b].difference.description,
            }
            for b in false_ids
        ],
    }


def score(
    days: int = DEFAULT_DAYS, seed: int = DEFAULT_SEED, start: dt.date = DEFAULT_START
) -> dict[str, Any]:
    """Simulate and reconcile `days` business days from `start`, then score recon against the faults."""
    result = score_run(reconcile_run(days, seed, start))
    result["run"]["seed"] = seed
    return result


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


def render(result: Mapping[str, Any]) -> str:
    run, breaks = result["run"], result["breaks"]
    lines = [
        f"recon against the truth: {run['days']} business days from {run['start']} to {run['end']}, "
        f"seed {run['seed']}, default fault rate; {run['fills']:,} fills",
        "",
        f"{'fault kind':<32} {'injected':>8} {'in flight':>9} {'found':>6} {'in 1 check':>10} {'recall':>7} "
        f"{'lag med/max':>12}",
    ]
    for kind, row in result["kinds"].items():
        lag = row["lag_business_days"]
        lag_text = "—" if lag["max"] is None else f"{lag['median']:g}/{lag['max']}"
        lines.append(
            f"{kind:<32} {row['injected']:>8} {row['in_flight_at_end']:>9} {row['found']:>6} "
            f"{row['found_within_one_check']:>10} "
            f"{_pct(row['recall']):>7} {lag_text:>12}"
        )
    for kind, injected in result["not_recons"].items():
        lines.append(f"{kind:<32} {injected:>8}   not recon's (prices: dq)")
    lines += [
        "",
        f"breaks raised {breaks['total']}: matched to a fault {breaks['matched']} "
        f"({breaks['matched_only_by_clean_twin']} only through the clean twin), false {breaks['false']} "
        f"(from timing {breaks['false_from_timing']}); precision {_pct(breaks['precision'])}",
    ]
    for kind, row in breaks["by_kind"].items():
        lines.append(f"  {kind:<30} {row['breaks']:>5} breaks, {row['false']} false")
    for fault in result["missed"]:
        lines.append(
            f"missed {fault['fault_id']} {fault['kind']} {fault['applied_date']}: {fault['description']}"
        )
    for brk in result["false_breaks"][:20]:
        lines.append(f"false {brk['break_id']} {brk['kind']} {brk['first_seen']}: {brk['description']}")
    aim = result["aim"]
    lines.append(
        f"aim: every custodian fault within one check {'met' if aim['custodian_faults_found_within_one_check'] else 'NOT met'}; "
        f"no false breaks from timing {'met' if aim['no_false_breaks_from_timing'] else 'NOT met'}"
    )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.recon_truth", description=__doc__.split("\n")[0])
    parser.add_argument("--days", type=int, default=DEFAULT_DAYS, help="business days to simulate")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument(
        "--start", type=dt.date.fromisoformat, default=DEFAULT_START, help="first business day"
    )
    parser.add_argument("--output", type=Path, default=OUTPUT, help="where the JSON goes")
    args = parser.parse_args(argv)
    result = score(args.days, args.seed, args.start)
    print(render(result))
    args.output.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"\nwritten to {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
