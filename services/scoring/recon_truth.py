"""Recon measured against market's ground truth (issues 4 and 10).

market knows every fault it injected and when the custodian corrected it (ListInjectedFaults,
Simulation.faults()). A run of recon is *observed*, either from the real services after a run
(bench/recon_truth.py: market, ledger and recon processes, read through their APIs) or from the
pure replay of the simulation through recon's domain (recon_replay.py: book vs custodian only, no
ledger), and scored here:

- **Recall per fault kind** (the custodian's, settlement and corporate-action kinds; price (vendor_b
  and primary) and FX faults are dq's and are only counted): a fault is found when an item-level break names it: a
  trade-level break on its fill, or a cash-flow break whose lineage holds one of its events. A fault
  is due once its effect shows: booking errors on the trade date (the fault's applied date),
  settlement faults on the fill's contractual settle date, value-date faults on the pay date (the
  applied date); a settlement fault whose settle date is after the run's last day is in flight.
- **Time to detect**: business days from the effect date to the first day end its break was seen.
- **Time to resolve**: for a fault the custodian corrected within the run, business days from its
  corrected date to the day end its last break closed (and how long its breaks were open).
- **Precision**: the share of breaks behind which a fault stands: breaks that name a fault (as
  above), breaks grouped under such a break (parent_break_id, transitively), and position or cash
  breaks without a parent on a mandate and instrument (positions) or currency (cash) where a fault
  was open during the break's life (applied, and not yet corrected plus the settlement grace).
- **Open breaks per mandate over time**: every break, and the top-level ones (the items to work),
  open at each day end.
- **Invariants** (with a ledger): at every day end and for every mandate and currency, with d the
  ledger-vs-custodian difference (custodian cash minus the ledger's cash + suspense) and h the cash
  recon's suspense journals hold (minus the suspense balance): h is 0 or of d's sign and |h| <= |d|
  ("suspense never exceeds the open cash breaks it stands for"), and h is 0 unless a
  ledger-vs-custodian break of that key is open; and each suspense or write-off journal leaves the
  ledger's cash no further from the custodian's than it was ("a suspense posting never moves the
  ledger's cash away from the custodian's").
"""

from __future__ import annotations

import bisect
import datetime as dt
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

CUSTODIAN_KINDS = (
    "CUSTODIAN_DROP_TRADE",
    "CUSTODIAN_DUPLICATE_TRADE",
    "CUSTODIAN_QUANTITY_TYPO",
    "CUSTODIAN_PRICE_TYPO",
)
SETTLEMENT_KINDS = ("SETTLEMENT_DELAY", "SETTLEMENT_FAIL")
CORPORATE_ACTION_KINDS = ("CORPORATE_ACTION_DATE_MISMATCH",)
RECON_KINDS = CUSTODIAN_KINDS + SETTLEMENT_KINDS + CORPORATE_ACTION_KINDS
NOT_RECONS = ("VENDOR_STALE_PRICE", "VENDOR_PRICE_SPIKE", "PRIMARY_PRICE_SPIKE", "FX_CROSS_INCONSISTENT")
ITEM_SCOPES = ("TRADE", "CASH_FLOW")
LVC = "LEDGER_VS_CUSTODIAN"
GRACE_BUSINESS_DAYS = 2  # recon's settlement grace: how long a corrected fault may still show in balances


@dataclass(frozen=True, slots=True)
class FaultView:
    fault_id: str
    kind: str
    mandate_id: str
    instrument_id: str
    fill_id: str
    applied_date: dt.date | None
    corrected_date: dt.date | None
    event_ids: tuple[str, ...]
    correction_event_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class BreakView:
    break_id: str
    mandate_id: str
    kind: str
    comparison: str
    scope: str
    status: str
    instrument_id: str
    currency: str
    fill_id: str
    cash_flow_id: str
    parent_break_id: str
    first_seen: dt.date
    last_seen: dt.date
    resolved_on: dt.date | None  # the day end (or workflow date) it closed; None while open
    resolved_by: str
    caused_by: tuple[str, ...]
    escalated: bool
    description: str = ""


@dataclass(frozen=True, slots=True)
class CashDay:
    """One mandate's cash in one currency at one day end: the custodian's, and the ledger's cash and
    suspense balances as of that date."""

    date: dt.date
    mandate_id: str
    currency: str
    custodian: Decimal
    ledger_cash: Decimal
    suspense: Decimal


@dataclass(frozen=True, slots=True)
class JournalView:
    """A journal recon posted: suspense (posted, adjusted, reversed) or a write-off; cash its Assets:Cash leg."""

    journal_id: str
    idempotency_key: str
    break_id: str
    mandate_id: str
    currency: str
    effective_date: dt.date
    cash: Decimal


@dataclass
class Observed:
    """A finished run of recon and the truth it ran against."""

    source: str  # "replay" (pure domain, no ledger) or "services" (real processes)
    seed: int
    fault_rate: float
    days: list[dt.date]  # the business days checked, in order
    faults: list[FaultView]
    breaks: list[BreakView]
    settle_dates: Mapping[str, dt.date]  # fill id -> contractual settle date
    instrument_currency: Mapping[str, str]
    fills: int = 0
    cash: list[CashDay] = field(default_factory=list)
    journals: list[JournalView] = field(default_factory=list)
    ledger_backend: str = ""
    seconds: float = 0.0
    # Cash booked in the ledger on purpose with no counterpart at the custodian: (mandate, currency,
    # booked, reversed or None). Book-vs-ledger and ledger-vs-custodian cash breaks of that key while
    # it stands are true breaks with no market fault behind them.
    planted: list[tuple[str, str, dt.date, dt.date | None]] = field(default_factory=list)


# ---------------------------------------------------------------- matching breaks and faults


def _business_days(days: Sequence[dt.date], start: dt.date, end: dt.date) -> int:
    """Business days d of the run with start < d <= end (negative when end is before start)."""
    if end < start:
        return -_business_days(days, end, start)
    return bisect.bisect_right(days, end) - bisect.bisect_right(days, start)


def direct_breaks(fault: FaultView, breaks: Iterable[BreakView]) -> list[BreakView]:
    """The item-level breaks that name a fault: trade breaks on its fill; cash-flow breaks whose lineage
    or resolving event is one of its events, or (a value date the custodian has not booked yet, so no
    event of its own) of its mandate and instrument first seen on its pay date."""
    events = set(fault.event_ids) | set(fault.correction_event_ids)
    return [
        b
        for b in breaks
        if (b.scope == "TRADE" and fault.fill_id and b.fill_id == fault.fill_id)
        or (b.scope == "CASH_FLOW" and events & {*b.caused_by, b.resolved_by})
        or (
            b.scope == "CASH_FLOW"
            and fault.kind in CORPORATE_ACTION_KINDS
            and (b.mandate_id, b.instrument_id, b.first_seen)
            == (fault.mandate_id, fault.instrument_id, fault.applied_date)
        )
    ]


def _effect_date(fault: FaultView, settle_dates: Mapping[str, dt.date]) -> dt.date | None:
    if fault.kind in SETTLEMENT_KINDS:
        return settle_dates.get(fault.fill_id)
    return fault.applied_date


def _summary(values: Sequence[float]) -> dict[str, float | None]:
    if not values:
        return {"count": 0, "median": None, "mean": None, "p95": None, "max": None}
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {
        "count": len(values),
        "median": float(statistics.median(ordered)),
        "mean": round(float(statistics.fmean(ordered)), 2),
        "p95": float(p95),
        "max": float(ordered[-1]),
    }


def _fault_currency(fault: FaultView, currencies: Mapping[str, str]) -> str:
    return currencies.get(fault.instrument_id, "")


def planted_breaks(observed: Observed) -> set[str]:
    """Ledger cash breaks standing for cash booked in the ledger on purpose (Observed.planted)."""
    last = observed.days[-1]
    found: set[str] = set()
    for brk in observed.breaks:
        if brk.scope != "CASH" or brk.comparison not in ("BOOK_VS_LEDGER", LVC):
            continue
        end = brk.resolved_on or last
        for mandate, currency, booked, reversed_on in observed.planted:
            if (
                (brk.mandate_id, brk.currency) == (mandate, currency)
                and booked <= end
                and brk.first_seen <= (reversed_on or last)
            ):
                found.add(brk.break_id)
    return found


def matched_breaks(observed: Observed) -> tuple[set[str], set[str], set[str]]:
    """(breaks naming a fault, breaks grouped under those, balance breaks a fault open on their key
    explains); together the breaks a fault stands behind."""
    last = observed.days[-1]
    named: set[str] = set()
    for fault in observed.faults:
        named.update(b.break_id for b in direct_breaks(fault, observed.breaks))
    by_id = {b.break_id: b for b in observed.breaks}
    grouped: set[str] = set()
    for brk in observed.breaks:
        seen: set[str] = set()
        parent = brk.parent_break_id
        while parent and parent not in seen:
            seen.add(parent)
            if parent in named:
                grouped.add(brk.break_id)
                break
            parent = by_id[parent].parent_break_id if parent in by_id else ""
    windows: dict[tuple[str, str, str], list[tuple[dt.date, dt.date]]] = defaultdict(list)
    for fault in observed.faults:
        if fault.applied_date is None or fault.kind not in RECON_KINDS:
            continue
        ends = fault.corrected_date or last
        until = observed.days[
            min(len(observed.days) - 1, bisect.bisect_left(observed.days, ends) + GRACE_BUSINESS_DAYS)
        ]
        span = (fault.applied_date, max(until, ends))
        windows[fault.mandate_id, "POSITION", fault.instrument_id].append(span)
        windows[fault.mandate_id, "CASH", _fault_currency(fault, observed.instrument_currency)].append(span)
    keyed: set[str] = set()
    for brk in observed.breaks:
        if brk.scope not in ("POSITION", "CASH") or brk.break_id in named | grouped:
            continue
        subject = brk.instrument_id if brk.scope == "POSITION" else brk.currency
        end = brk.resolved_on or last
        if any(
            start <= end and brk.first_seen <= stop
            for start, stop in windows.get((brk.mandate_id, brk.scope, subject), ())
        ):
            keyed.add(brk.break_id)
    return named, grouped, keyed


# ---------------------------------------------------------------- the score


def _recall(observed: Observed) -> dict[str, dict[str, Any]]:
    last = observed.days[-1]
    per_kind: dict[str, dict[str, Any]] = {}
    for kind in RECON_KINDS:
        faults = [f for f in observed.faults if f.kind == kind and f.applied_date is not None]
        due, found, detect, resolve, open_for, unresolved, missed = 0, 0, [], [], [], [], []
        for fault in faults:
            effect = _effect_date(fault, observed.settle_dates)
            if effect is None or effect > last:
                continue
            due += 1
            hits = direct_breaks(fault, observed.breaks)
            if not hits:
                missed.append(
                    {
                        "fault_id": fault.fault_id,
                        "applied_date": str(fault.applied_date),
                        "fill_id": fault.fill_id,
                    }
                )
                continue
            found += 1
            first = min(b.first_seen for b in hits)
            detect.append(_business_days(observed.days, effect, first))
            if fault.corrected_date is not None and fault.corrected_date <= last:
                closed = [b.resolved_on for b in hits]
                if any(c is None for c in closed):
                    unresolved.append(fault.fault_id)
                    continue
                done = max(c for c in closed if c is not None)
                resolve.append(_business_days(observed.days, fault.corrected_date, done))
                open_for.append(_business_days(observed.days, first, done))
        per_kind[kind] = {
            "injected": len(faults),
            "due": due,
            "in_flight_at_end": len(faults) - due,
            "found": found,
            "recall": found / due if due else None,
            "time_to_detect_business_days": _summary(detect),
            "time_to_resolve_after_correction_business_days": _summary(resolve),
            "open_business_days": _summary(open_for),
            "corrected_but_still_open": unresolved,
            "missed": missed,
        }
    return per_kind


def _open_over_time(observed: Observed) -> dict[str, Any]:
    mandates = sorted(
        {b.mandate_id for b in observed.breaks} | {f.mandate_id for f in observed.faults if f.mandate_id}
    )
    daily: dict[str, list[tuple[int, int]]] = {m: [] for m in mandates}
    for day in observed.days:
        counts: Counter[tuple[str, bool]] = Counter()
        for brk in observed.breaks:
            if brk.first_seen <= day and (brk.resolved_on is None or brk.resolved_on > day):
                counts[brk.mandate_id, bool(brk.parent_break_id)] += 1
        for m in mandates:
            alone = counts[m, False]
            daily[m].append((alone + counts[m, True], alone))
    per_mandate: dict[str, Any] = {}
    for m, series in daily.items():
        every = [a for a, _ in series]
        top = [t for _, t in series]
        months: dict[str, list[int]] = defaultdict(list)
        for day, (_, t) in zip(observed.days, series, strict=True):
            months[day.strftime("%Y-%m")].append(t)
        per_mandate[m] = {
            "mean_open": round(statistics.fmean(every), 2) if every else 0.0,
            "max_open": max(every, default=0),
            "open_at_end": every[-1] if every else 0,
            "mean_top_level": round(statistics.fmean(top), 2) if top else 0.0,
            "max_top_level": max(top, default=0),
            "top_level_at_end": top[-1] if top else 0,
            "top_level_month_end": {month: values[-1] for month, values in sorted(months.items())},
        }
    return per_mandate


def check_invariants(observed: Observed) -> dict[str, Any]:
    """The two suspense invariants at every day end (nothing to check without a ledger)."""
    if not observed.cash:
        return {"checked": False}
    lvc_open: dict[tuple[str, str], list[tuple[dt.date, dt.date | None]]] = defaultdict(list)
    for brk in observed.breaks:
        if brk.comparison == LVC:
            lvc_open[brk.mandate_id, brk.currency].append((brk.first_seen, brk.resolved_on))
    exceeds: list[str] = []
    orphaned: list[str] = []
    held_days = 0
    cash_at = {(c.date, c.mandate_id, c.currency): c for c in observed.cash}
    for item in observed.cash:
        c = item
        held = -c.suspense
        if not held:
            continue
        held_days += 1
        difference = c.custodian - (c.ledger_cash + c.suspense)
        if (held > 0) != (difference > 0) or abs(held) > abs(difference):
            exceeds.append(
                f"{c.date} {c.mandate_id} {c.currency}: holds {held} of a difference of {difference}"
            )
        if not any(s <= c.date and (e is None or e > c.date) for s, e in lvc_open[c.mandate_id, c.currency]):
            orphaned.append(
                f"{c.date} {c.mandate_id} {c.currency}: holds {held} with no open ledger-vs-custodian break"
            )
    posted: dict[tuple[dt.date, str, str], Decimal] = defaultdict(Decimal)
    for journal in observed.journals:
        posted[journal.effective_date, journal.mandate_id, journal.currency] += journal.cash
    away: list[str] = []
    toward = 0
    for (day, mandate, currency), moved in sorted(posted.items()):
        found = cash_at.get((day, mandate, currency))
        if found is None:
            away.append(f"{day} {mandate} {currency}: no cash figures for a day with journals")
            continue
        after = abs(found.custodian - found.ledger_cash)
        before = abs(found.custodian - (found.ledger_cash - moved))
        if after > before:
            away.append(
                f"{day} {mandate} {currency}: moved {moved}, |custodian - ledger| {before} -> {after}"
            )
        else:
            toward += 1
    return {
        "checked": True,
        "day_ends": len(observed.days),
        "cash_items_checked": len(observed.cash),
        "cash_items_holding_suspense": held_days,
        "journals": len(observed.journals),
        "journal_days_checked": len(posted),
        "suspense_never_exceeds_its_break": not exceeds and not orphaned,
        "suspense_never_moves_cash_away": not away,
        "exceeds": exceeds[:20],
        "orphaned": orphaned[:20],
        "away": away[:20],
        "toward": toward,
    }


def score(observed: Observed) -> dict[str, Any]:
    if not observed.days:
        raise ValueError("nothing was checked")
    named, grouped, keyed = matched_breaks(observed)
    on_planted_keys = planted_breaks(observed)
    planted = on_planted_keys - (named | grouped)
    keyed -= planted
    matched = named | grouped | keyed | planted
    breaks = observed.breaks
    top = [b for b in breaks if not b.parent_break_id]
    by_kind: dict[str, dict[str, int]] = {}
    for brk in breaks:
        row = by_kind.setdefault(
            f"{brk.comparison} {brk.scope} {brk.kind}", {"breaks": 0, "false": 0, "children": 0}
        )
        row["breaks"] += 1
        row["false"] += brk.break_id not in matched
        row["children"] += bool(brk.parent_break_id)
    false = [b for b in breaks if b.break_id not in matched]
    kinds = _recall(observed)
    due_rows = [row for row in kinds.values() if row["due"]]
    return {
        "run": {
            "source": observed.source,
            "seed": observed.seed,
            "fault_rate": observed.fault_rate,
            "days": len(observed.days),
            "start": observed.days[0].isoformat(),
            "end": observed.days[-1].isoformat(),
            "fills": observed.fills,
            "ledger_backend": observed.ledger_backend,
            "seconds": round(observed.seconds, 1),
        },
        "kinds": kinds,
        "not_recons": {k: sum(1 for f in observed.faults if f.kind == k) for k in NOT_RECONS},
        "breaks": {
            "total": len(breaks),
            "top_level": len(top),
            "matched": len(matched),
            "naming_a_fault": len(named),
            "grouped_under_one": len(grouped),
            "explained_by_an_open_fault_on_their_key": len(keyed),
            "standing_for_cash_planted_in_the_ledger": len(planted),
            "planted_cash_grouped_under_a_custodian_break": len(on_planted_keys & grouped),
            "false": len(false),
            "precision": len(matched) / len(breaks) if breaks else None,
            "top_level_precision": (sum(1 for b in top if b.break_id in matched) / len(top) if top else None),
            "escalated": sum(1 for b in breaks if b.escalated),
            "open_at_end": sum(1 for b in breaks if b.resolved_on is None),
            "by_kind": dict(sorted(by_kind.items())),
        },
        "false_breaks": [
            {
                "break_id": b.break_id,
                "kind": f"{b.comparison} {b.scope} {b.kind}",
                "first_seen": str(b.first_seen),
                "description": b.description,
            }
            for b in false[:30]
        ],
        "open_per_mandate": _open_over_time(observed),
        "invariants": check_invariants(observed),
        "aims": {
            "recall_at_least_95_percent_each": all((row["recall"] or 0) >= 0.95 for row in due_rows),
            "at_least_20_due_each": all(row["due"] >= 20 for row in kinds.values()),
            "precision_at_least_95_percent": (len(matched) / len(breaks) if breaks else 1.0) >= 0.95,
        },
    }


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"


def _lag(summary: Mapping[str, float | None]) -> str:
    return (
        "—" if summary["max"] is None else f"{summary['median']:g} / {summary['p95']:g} / {summary['max']:g}"
    )


def render(result: Mapping[str, Any]) -> str:
    run, breaks = result["run"], result["breaks"]
    lines = [
        f"recon against the truth ({run['source']}): seed {run['seed']}, {run['days']} business days "
        f"{run['start']} .. {run['end']}, fault rate x{run['fault_rate']:g}, {run['fills']:,} fills"
        + (f", ledger on {run['ledger_backend']}" if run["ledger_backend"] else "")
        + (f", {run['seconds']:.0f} s" if run["seconds"] else ""),
        "",
        f"{'fault kind':<32} {'injected':>8} {'due':>5} {'found':>6} {'recall':>7}  "
        f"{'detect bd med/p95/max':>22}  {'resolve bd med/p95/max':>22}",
    ]
    for kind, row in result["kinds"].items():
        lines.append(
            f"{kind:<32} {row['injected']:>8} {row['due']:>5} {row['found']:>6} {_pct(row['recall']):>7}  "
            f"{_lag(row['time_to_detect_business_days']):>22}  "
            f"{_lag(row['time_to_resolve_after_correction_business_days']):>22}"
        )
    lines.append(
        "not recon's (prices and FX: dq): " + ", ".join(f"{k} {v}" for k, v in result["not_recons"].items())
    )
    lines += [
        "",
        f"breaks {breaks['total']} ({breaks['top_level']} top-level items): a fault behind {breaks['matched']} "
        f"(naming it {breaks['naming_a_fault']}, grouped under such a break {breaks['grouped_under_one']}, "
        f"an open fault on their key {breaks['explained_by_an_open_fault_on_their_key']}; cash planted in the "
        f"ledger {breaks['standing_for_cash_planted_in_the_ledger']}), false {breaks['false']}; "
        f"precision {_pct(breaks['precision'])}, top-level {_pct(breaks['top_level_precision'])}; "
        f"escalated {breaks['escalated']}, open at the end {breaks['open_at_end']}",
    ]
    for kind, row in breaks["by_kind"].items():
        lines.append(
            f"  {kind:<58} {row['breaks']:>5} breaks, {row['children']:>4} children, {row['false']} false"
        )
    lines.append("open breaks per mandate (all / top-level): mean, max, at the end")
    for mandate, row in result["open_per_mandate"].items():
        lines.append(
            f"  {mandate:<8} {row['mean_open']:>6} / {row['mean_top_level']:<6} max {row['max_open']:>3} / "
            f"{row['max_top_level']:<3} end {row['open_at_end']} / {row['top_level_at_end']}"
        )
    inv = result["invariants"]
    if inv["checked"]:
        lines.append(
            f"invariants over {inv['day_ends']} day ends, {inv['cash_items_checked']:,} cash items "
            f"({inv['cash_items_holding_suspense']} holding suspense), {inv['journals']} journals: "
            f"suspense never exceeds its break {'HOLDS' if inv['suspense_never_exceeds_its_break'] else 'VIOLATED'}; "
            f"never moves cash away {'HOLDS' if inv['suspense_never_moves_cash_away'] else 'VIOLATED'}"
        )
        lines += [f"  {line}" for line in inv["exceeds"] + inv["orphaned"] + inv["away"]]
    for brk in result["false_breaks"][:10]:
        lines.append(f"false {brk['break_id']} {brk['kind']} {brk['first_seen']}: {brk['description']}")
    for kind, row in result["kinds"].items():
        for missed in row["missed"][:5]:
            lines.append(f"missed {kind} {missed}")
    return "\n".join(lines)
