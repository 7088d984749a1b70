"""dq measured against market's ground truth: the price and FX faults the world injected.

market records every fault it injects (Simulation.faults(), ListInjectedFaults). Four kinds are dq's:
VENDOR_STALE_PRICE and VENDOR_PRICE_SPIKE (vendor_b's price.vendor event), PRIMARY_PRICE_SPIKE (the
primary's price.tick) and FX_CROSS_INCONSISTENT (a cross's fx.rate); each fault's event_ids name
the event it corrupted. A run of dq is observed (services/scoring/dq_replay.py replays the simulation
through the very code the service runs, services/dq/checking.py) and scored here, purely:

- **What dq flagged**: a *sighting* is one failing price or FX result as it reached an issue (the
  issue's RAISED or UPDATED change): the issue's id and check, its subject (instrument or currency
  pair) and vendor, the value date, caused_by (the checked value's own event first, then the events
  it was checked against) and the simulated date it was seen. Holdings and reference checks are
  about other things and are not scored.
- **A sighting is about a fault** when its own event (caused_by[0]) is one of the fault's events, or
  its (subject, vendor, value date) is the fault's: the instrument and vendor_b for vendor faults,
  the instrument and primary for a primary bad print, the pair and "cross" for FX, on the applied
  date. A sighting that names a fault's event only as its reference (caused_by[1:]: the other side
  of a divergence, blamed with it or instead of it) is *not* about the fault.
- **Detectable**: a fault is undetectable when no check could see it, from the data, not from what
  dq did. A stale repeat (VENDOR_STALE_PRICE) is undetectable when both
  (a) the stale rule cannot fire: it needs the other vendor (the primary) to have moved that day by
      at least the rule's min_other_move (relative) and min_other_ticks (ticks) from its previous
      business day's price (and `days` <= 1, one repeat being the fault); the primary's true move
      that day is under either minimum, or it has no price the previous business day; and
  (b) the divergence rule cannot fire: the repeated price is within the vendor_divergence tolerance
      of the day's primary price (|repeat - primary| <= max(tolerance x |primary|, ticks x tick)).
  Such a repeat is as close to the primary as dq lets two vendors be on any day, and the primary
  moved too little for an unchanged price to be evidence: nothing tells it from a fresh quote. The other kinds distort the value by 8-25 % (prices) or 0.5-3 % (crosses); such a fault is
  undetectable only if the distorted value is within the divergence (triangulation) tolerance of
  the other vendor's price (of the cross implied by the day's primary legs), which the ranges rule
  out. The thresholds are the checks' own (default_checks.toml, or the CheckSet given).
  A fault dq missed is never called undetectable for that reason: a miss of a detectable fault
  counts against recall, with what dq said of the faulted value.
- **Recall per kind**: detected detectable faults / detectable faults. Undetectable faults are
  counted apart, with their reason (and whether dq flagged them all the same).
- **Time to detect**: business days of the run from the fault's applied date to the date of the
  first sighting about it (the issue's first_seen when the fault raised the issue).
- **Quarantined**: of the detected faults, those whose value a sighting about it quarantined (a
  critical failure; stale and spike results are warnings).
- **Precision over issues** (price and FX issues, every one dq raised in the run): an issue is
  *true* when one of its sightings is about a fault. Otherwise it is *false*; a false issue that
  names a fault's event as its reference is *collateral* (dq flagged the right value next to a
  fault: the vendor it could not clear), and one on a subject with a fault in the previous three
  business days is *after a fault* (the return back from a value that was not quarantined); the
  others had no fault behind them at all (a real market move flagged as a spike counts here).
  Precision = true issues / issues, for price issues and FX issues apart and together. False
  issues are counted by check id, with examples.
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

from services.dq.domain.config import CheckSet, load_checks
from services.dq.domain.results import Family

DQ_KINDS = ("VENDOR_STALE_PRICE", "VENDOR_PRICE_SPIKE", "PRIMARY_PRICE_SPIKE", "FX_CROSS_INCONSISTENT")
PRICE_KINDS = DQ_KINDS[:3]
FX_KINDS = DQ_KINDS[3:]
# Whose value each kind corrupts (market's vendor names).
VENDOR_OF_KIND = {
    "VENDOR_STALE_PRICE": "vendor_b",
    "VENDOR_PRICE_SPIKE": "vendor_b",
    "PRIMARY_PRICE_SPIKE": "primary",
    "FX_CROSS_INCONSISTENT": "cross",
}
AFTER_FAULT = 3  # business days after a fault on a subject in which a false issue counts as its aftermath
AIM_RECALL = 0.99
AIM_PRECISION = 0.95
EXAMPLES = 20  # false issues kept per check, with the faults near them


@dataclass(frozen=True, slots=True)
class FaultView:
    """One injected price or FX fault, with the values that tell whether any check could see it.

    subject: the instrument, or the currency pair; vendor: whose value it corrupted; published: that
    value; reference: the other source's value the same day (the primary's price for a vendor_b
    fault, vendor_b's for a primary bad print, the cross implied by the day's primary legs for FX);
    reference_previous: the other source's value the previous business day (None: none);
    tick: the instrument's tick; attributes: what a check's subject filter may name (asset_class,
    currency, market, instrument_id; currency_pair for FX).
    """

    fault_id: str
    kind: str
    applied_date: dt.date | None
    event_ids: tuple[str, ...]
    subject: str
    vendor: str
    published: Decimal | None = None
    reference: Decimal | None = None
    reference_previous: Decimal | None = None
    tick: Decimal | None = None
    attributes: Mapping[str, str] = field(default_factory=dict)
    description: str = ""


@dataclass(frozen=True, slots=True)
class Sighting:
    """One failing price or FX result as it reached an issue (a RAISED or UPDATED change)."""

    issue_id: str
    check_id: str
    kind: str  # the issue kind: PRICE_SPIKE, FX_TRIANGULATION, ...
    subject: str
    vendor: str
    value_date: dt.date
    caused_by: tuple[str, ...]
    seen: dt.date  # simulated date of the result
    first_seen: dt.date  # the issue's
    quarantined: bool = False  # the issue held its value back at this change
    message: str = ""

    @property
    def family(self) -> str:
        return "fx" if self.kind.startswith("FX_") else "price" if self.kind.startswith("PRICE_") else ""


@dataclass
class Observed:
    """A finished run of dq and the truth it ran against."""

    source: str  # "replay" (dq's checks over the simulation, as the service runs them)
    seed: int
    fault_rate: float
    days: list[dt.date]  # business days checked, in order
    faults: list[FaultView]
    sightings: list[Sighting]
    # What dq's results said of each faulted event (passing ones too): event id -> messages.
    verdicts: Mapping[str, Sequence[str]] = field(default_factory=dict)
    events: int = 0
    results: int = 0
    seconds: float = 0.0


# ---------------------------------------------------------------- visibility


def _limit(tolerance: Decimal, ticks: Decimal, reference: Decimal, tick: Decimal | None) -> Decimal:
    return max(tolerance * abs(reference), ticks * (tick or Decimal(0)))


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def true_move(fault: FaultView) -> tuple[float | None, float | None]:
    """The other source's move that day: relative, and in ticks (None where unknown)."""
    if fault.reference is None or fault.reference_previous is None or fault.reference_previous <= 0:
        return None, None
    move = float(fault.reference / fault.reference_previous - 1)
    ticks = float(abs(fault.reference - fault.reference_previous) / fault.tick) if fault.tick else None
    return move, ticks


def visibility(fault: FaultView, checks: CheckSet) -> str | None:
    """None when some check could see the fault; else why none could (the module docstring's rules)."""
    if fault.kind == "FX_CROSS_INCONSISTENT":
        check = checks.select(Family.FX, "triangulation", {"currency_pair": fault.subject})
        if check is None:
            return "no triangulation check applies to the pair"
        if fault.published is None or fault.reference is None:
            return "no primary legs that day to triangulate the cross against"
        if abs(fault.published - fault.reference) <= check.decimal("tolerance") * fault.reference:
            return (
                f"the distorted cross {fault.published} is within the triangulation tolerance "
                f"of {fault.reference} implied by the legs"
            )
        return None
    divergence = checks.select(Family.PRICE, "vendor_divergence", dict(fault.attributes))
    diverges: bool | None = None
    if divergence is not None and fault.published is not None and fault.reference is not None:
        limit = _limit(
            divergence.decimal("tolerance"), divergence.decimal("ticks"), fault.reference, fault.tick
        )
        diverges = abs(fault.published - fault.reference) > limit
    if fault.kind != "VENDOR_STALE_PRICE":
        if diverges is False:
            return (
                f"the distorted price {fault.published} is within the divergence tolerance of the other "
                f"vendor's {fault.reference}"
            )
        return None
    if diverges is None:
        return None  # nothing to tell it by from the data: count it as detectable
    stale = checks.select(Family.PRICE, "stale", dict(fault.attributes))
    blind: str | None = None
    if stale is None:
        blind = "no stale check applies"
    elif stale.whole("days") > 1:
        blind = f"the stale check needs {stale.whole('days')} unchanged days, the repeat is one"
    elif fault.reference_previous is None or fault.reference is None or fault.reference_previous <= 0:
        blind = "the primary has no price the previous business day, so no move to compare with"
    else:
        move, ticks = true_move(fault)
        assert move is not None
        min_move, min_ticks = stale.threshold("min_other_move"), stale.threshold("min_other_ticks")
        if abs(move) < min_move or (ticks is not None and ticks < min_ticks):
            moved = f"{move:+.3%}" + (f" ({ticks:g} tick(s))" if ticks is not None else "")
            blind = (
                f"the primary moved {moved} that day, under the stale rule's minimum "
                f"({min_move:.2%} and {min_ticks:g} ticks)"
            )
    if blind is None or diverges:
        return None
    assert divergence is not None
    return (
        f"{blind}, and the repeated price {fault.published} is within the divergence tolerance "
        f"({divergence.threshold('tolerance'):.2%}, {divergence.threshold('ticks'):g} tick) of the "
        f"primary's {fault.reference}"
    )


# ---------------------------------------------------------------- matching


def is_about(sighting: Sighting, fault: FaultView) -> bool:
    """Whether a sighting flags the faulted value itself (its own event, or its subject, vendor and date)."""
    return (bool(sighting.caused_by) and sighting.caused_by[0] in fault.event_ids) or (
        (sighting.subject, sighting.vendor, sighting.value_date)
        == (fault.subject, fault.vendor, fault.applied_date)
    )


def _business_days(days: Sequence[dt.date], start: dt.date, end: dt.date) -> int:
    """Business days d of the run with start < d <= end (negative when end is before start)."""
    if end < start:
        return -_business_days(days, end, start)
    return bisect.bisect_right(days, end) - bisect.bisect_right(days, start)


def _summary(values: Sequence[int]) -> dict[str, float | None]:
    if not values:
        return {"count": 0, "median": None, "p95": None, "max": None}
    ordered = sorted(values)
    return {
        "count": len(values),
        "median": float(statistics.median(ordered)),
        "p95": float(ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]),
        "max": float(ordered[-1]),
    }


def _fault_row(fault: FaultView) -> dict[str, Any]:
    return {
        "fault_id": fault.fault_id,
        "kind": fault.kind,
        "date": str(fault.applied_date),
        "subject": fault.subject,
        "vendor": fault.vendor,
        "asset_class": fault.attributes.get("asset_class", "FX" if fault.kind in FX_KINDS else ""),
        "published": None if fault.published is None else str(fault.published),
        "reference": None if fault.reference is None else str(fault.reference),
        "reference_previous": None if fault.reference_previous is None else str(fault.reference_previous),
        "description": fault.description,
    }


def _what_dq_did(
    fault: FaultView, observed: Observed, by_day: Mapping[tuple[str, dt.date], list[Sighting]]
) -> list[str]:
    """What dq said of the faulted event (its results' messages), and what it flagged on the subject that day."""
    said = [
        f"{event}: {message}" for event in fault.event_ids for message in observed.verdicts.get(event, ())
    ]
    assert fault.applied_date is not None
    flagged = [
        f"flagged {s.check_id} on {s.vendor} ({s.issue_id}): {s.message}"
        for s in by_day.get((fault.subject, fault.applied_date), ())
    ]
    return said + (flagged or [f"nothing flagged on {fault.subject} that day"])


# ---------------------------------------------------------------- the score


def score(observed: Observed, checks: CheckSet | None = None) -> dict[str, Any]:
    if not observed.days:
        raise ValueError("nothing was checked")
    checks = checks or load_checks()
    sightings = [s for s in observed.sightings if s.family]
    by_day: dict[tuple[str, dt.date], list[Sighting]] = defaultdict(list)
    for s in sightings:
        by_day[s.subject, s.value_date].append(s)
    faults = [f for f in observed.faults if f.kind in DQ_KINDS and f.applied_date is not None]
    named: dict[str, list[Sighting]] = defaultdict(list)  # event id -> sightings of that value
    for s in sightings:
        if s.caused_by:
            named[s.caused_by[0]].append(s)
    about: dict[str, list[Sighting]] = {}  # fault id -> sightings about it, in order
    for fault in faults:
        assert fault.applied_date is not None
        candidates = [
            *by_day.get((fault.subject, fault.applied_date), ()),
            *(s for event in fault.event_ids for s in named.get(event, ())),
        ]
        unique = {id(s): s for s in candidates if is_about(s, fault)}
        about[fault.fault_id] = sorted(unique.values(), key=lambda s: (s.seen, s.issue_id))
    kinds: dict[str, dict[str, Any]] = {}
    for kind in DQ_KINDS:
        rows = [f for f in faults if f.kind == kind]
        detectable, undetectable, missed = 0, [], []
        found, quarantined, lags, unquarantined = 0, 0, [], []
        by_check: Counter[str] = Counter()
        for fault in rows:
            assert fault.applied_date is not None
            hits = about[fault.fault_id]
            reason = visibility(fault, checks)
            if reason is not None:
                move, ticks = true_move(fault)
                undetectable.append(
                    {
                        **_fault_row(fault),
                        "reason": reason,
                        "other_move": move,
                        "other_move_ticks": ticks,
                        "flagged_anyway": bool(hits),
                    }
                )
                continue
            detectable += 1
            if not hits:
                missed.append({**_fault_row(fault), "what_dq_did": _what_dq_did(fault, observed, by_day)})
                continue
            found += 1
            first = min(s.seen for s in hits)
            lags.append(_business_days(observed.days, fault.applied_date, first))
            if any(s.quarantined for s in hits):
                quarantined += 1
            else:
                unquarantined.append({**_fault_row(fault), "flagged_by": sorted({s.check_id for s in hits})})
            by_check.update({s.check_id for s in hits if s.seen == first})
        kinds[kind] = {
            "injected": len(rows),
            "detectable": detectable,
            "undetectable": len(undetectable),
            "detected": found,
            "recall": found / detectable if detectable else None,
            "quarantined": quarantined,
            "time_to_detect_business_days": _summary(lags),
            "detected_by": dict(sorted(by_check.items())),
            "missed": missed,
            "detected_not_quarantined": unquarantined,
            "undetectable_faults": undetectable,
        }
    issues = _precision(observed, faults, sightings, about)
    return {
        "run": {
            "source": observed.source,
            "seed": observed.seed,
            "fault_rate": observed.fault_rate,
            "days": len(observed.days),
            "start": observed.days[0].isoformat(),
            "end": observed.days[-1].isoformat(),
            "events": observed.events,
            "results": observed.results,
            "seconds": round(observed.seconds, 1),
        },
        "kinds": kinds,
        "issues": issues,
        "aims": _aims(kinds, issues),
    }


def _precision(
    observed: Observed,
    faults: Sequence[FaultView],
    sightings: Iterable[Sighting],
    about: Mapping[str, Sequence[Sighting]],
) -> dict[str, Any]:
    issues: dict[str, list[Sighting]] = defaultdict(list)
    for s in sightings:
        issues[s.issue_id].append(s)
    true_ids = {s.issue_id for hits in about.values() for s in hits}
    by_event = {event: fault for fault in faults for event in fault.event_ids}
    by_subject: dict[str, list[FaultView]] = defaultdict(list)
    for fault in faults:
        by_subject[fault.subject].append(fault)
    families: dict[str, Counter[str]] = {"price": Counter(), "fx": Counter()}
    by_check: dict[str, Counter[str]] = defaultdict(Counter)
    examples: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for issue_id, seen in issues.items():
        first = seen[0]
        family = families[first.family]
        family["issues"] += 1
        by_check[first.check_id]["issues"] += 1
        if issue_id in true_ids:
            family["true"] += 1
            by_check[first.check_id]["true"] += 1
            continue
        named = {event for s in seen for event in s.caused_by[1:]} & set(by_event)
        before = [
            fault
            for fault in by_subject.get(first.subject, ())
            if fault.applied_date is not None
            and 0 < _business_days(observed.days, fault.applied_date, first.value_date) <= AFTER_FAULT
        ]
        behind: list[FaultView] = []
        if named:
            why, behind = "collateral", [by_event[event] for event in sorted(named)]
        elif before:
            why, behind = "after_a_fault", before
        else:
            why = "no_fault"
        family["false"] += 1
        family[why] += 1
        by_check[first.check_id]["false"] += 1
        by_check[first.check_id][why] += 1
        if len(examples[first.check_id]) < EXAMPLES:
            examples[first.check_id].append(
                {
                    "issue_id": issue_id,
                    "why": why,
                    "subject": first.subject,
                    "vendor": first.vendor,
                    "value_date": str(first.value_date),
                    "sightings": len(seen),
                    "message": first.message,
                    "faults": [
                        {
                            **_fault_row(fault),
                            "verdicts": [m for e in fault.event_ids for m in observed.verdicts.get(e, ())],
                        }
                        for fault in behind
                    ],
                }
            )
    out: dict[str, Any] = {}
    for name, counts in [*families.items(), ("all", families["price"] + families["fx"])]:
        out[name] = {
            "issues": counts["issues"],
            "true": counts["true"],
            "false": counts["false"],
            "collateral": counts["collateral"],
            "after_a_fault": counts["after_a_fault"],
            "no_fault": counts["no_fault"],
            "precision": counts["true"] / counts["issues"] if counts["issues"] else None,
        }
    out["by_check"] = {
        check: {k: counts[k] for k in ("issues", "true", "false", "collateral", "after_a_fault", "no_fault")}
        for check, counts in sorted(by_check.items())
    }
    out["false_examples"] = dict(sorted(examples.items()))
    return out


def _aims(kinds: Mapping[str, Mapping[str, Any]], issues: Mapping[str, Any]) -> dict[str, bool]:
    def recall_ok(names: Sequence[str]) -> bool:
        return all(
            (kinds[k]["recall"] if kinds[k]["recall"] is not None else 1.0) >= AIM_RECALL for k in names
        )

    def precision_ok(family: str) -> bool:
        value = issues[family]["precision"]
        return value is None or value >= AIM_PRECISION

    return {
        "price_recall_at_least_99_percent": recall_ok(PRICE_KINDS),
        "fx_recall_at_least_99_percent": recall_ok(FX_KINDS),
        "price_precision_at_least_95_percent": precision_ok("price"),
        "fx_precision_at_least_95_percent": precision_ok("fx"),
        "detected_on_the_day": all(
            (row["time_to_detect_business_days"]["max"] or 0) == 0 for row in kinds.values()
        ),
    }


# ---------------------------------------------------------------- text


def _lag(summary: Mapping[str, float | None]) -> str:
    if summary["max"] is None:
        return "-"
    return f"{summary['median']:g} / {summary['p95']:g} / {summary['max']:g}"


def render(result: Mapping[str, Any]) -> str:
    run, issues = result["run"], result["issues"]
    lines = [
        f"dq against the truth ({run['source']}): seed {run['seed']}, {run['days']} business days "
        f"{run['start']} .. {run['end']}, fault rate x{run['fault_rate']:g}, {run['events']:,} events, "
        f"{run['results']:,} results" + (f", {run['seconds']:.0f} s" if run["seconds"] else ""),
        "",
        f"{'fault kind':<24} {'injected':>8} {'undetectable':>12} {'detectable':>10} {'detected':>8} "
        f"{'recall':>7} {'quarantined':>11}  {'detect bd med/p95/max':>21}  detected by",
    ]
    for kind, row in result["kinds"].items():
        lines.append(
            f"{kind:<24} {row['injected']:>8} {row['undetectable']:>12} {row['detectable']:>10} "
            f"{row['detected']:>8} {_pct(row['recall']):>7} {row['quarantined']:>11}  "
            f"{_lag(row['time_to_detect_business_days']):>21}  "
            + ", ".join(f"{k} {v}" for k, v in row["detected_by"].items())
        )
    lines.append("")
    for name in ("price", "fx", "all"):
        row = issues[name]
        lines.append(
            f"{name} issues {row['issues']}: true {row['true']}, false {row['false']} (collateral "
            f"{row['collateral']}, after a fault {row['after_a_fault']}, no fault {row['no_fault']}); "
            f"precision {_pct(row['precision'])}"
        )
    for check, row in issues["by_check"].items():
        lines.append(
            f"  {check:<36} {row['issues']:>5} issues, {row['true']:>5} true, {row['false']:>4} false "
            f"(collateral {row['collateral']}, after a fault {row['after_a_fault']}, no fault {row['no_fault']})"
        )
    for check, examples in issues["false_examples"].items():
        for example in examples[:3]:
            lines.append(f"false {check} {example['issue_id']} ({example['why']}): {example['message']}")
    for kind, row in result["kinds"].items():
        for missed in row["missed"]:
            lines.append(
                f"missed {kind} {missed['fault_id']} {missed['date']} {missed['subject']}: {missed['description']}"
            )
            lines += [f"    {line}" for line in missed["what_dq_did"]]
        for fault in row["undetectable_faults"][:5]:
            lines.append(
                f"undetectable {kind} {fault['fault_id']} {fault['date']} {fault['subject']}: {fault['reason']}"
                + (" (flagged all the same)" if fault["flagged_anyway"] else "")
            )
    lines.append("aims: " + ", ".join(f"{k} {'yes' if v else 'NO'}" for k, v in result["aims"].items()))
    return "\n".join(lines)
