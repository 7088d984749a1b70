"""dq scored against market's ground truth (services/scoring/dq_truth.py): the scorer's rules on
hand-built faults and issues, then a short real replay (services/scoring/dq_replay.py, the service's
own per-event code) whose figures are checked against the rules, not against remembered numbers."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from services.dq.domain.config import load_checks
from services.scoring.dq_replay import observe
from services.scoring.dq_truth import (
    DQ_KINDS,
    FaultView,
    Observed,
    Sighting,
    is_about,
    score,
    visibility,
)

D = Decimal
DAYS = [dt.date(2020, 1, 2), dt.date(2020, 1, 3), dt.date(2020, 1, 6), dt.date(2020, 1, 7)]
EQUITY = {"asset_class": "EQUITY", "currency": "USD", "market": "US"}
CHECKS = load_checks()


def _equity(iid: str) -> dict[str, str]:
    return {**EQUITY, "instrument_id": iid}


def _fault(
    fault_id: str,
    kind: str,
    day: dt.date,
    event: str,
    subject: str,
    published: str,
    reference: str,
    previous: str | None = None,
) -> FaultView:
    vendor = {"PRIMARY_PRICE_SPIKE": "primary", "FX_CROSS_INCONSISTENT": "cross"}.get(kind, "vendor_b")
    fx = kind == "FX_CROSS_INCONSISTENT"
    return FaultView(
        fault_id=fault_id,
        kind=kind,
        applied_date=day,
        event_ids=(event,),
        subject=subject,
        vendor=vendor,
        published=D(published),
        reference=D(reference),
        reference_previous=D(previous) if previous is not None else None,
        tick=None if fx else D("0.01"),
        attributes={"currency_pair": subject} if fx else _equity(subject),
    )


def _seen(
    issue_id: str,
    check_id: str,
    subject: str,
    vendor: str,
    day: dt.date,
    caused_by: tuple[str, ...],
    seen: dt.date | None = None,
    quarantined: bool = False,
) -> Sighting:
    kind = "FX_TRIANGULATION" if check_id.startswith("fx.") else "PRICE_VENDOR_MISMATCH"
    return Sighting(
        issue_id=issue_id,
        check_id=check_id,
        kind=kind,
        subject=subject,
        vendor=vendor,
        value_date=day,
        caused_by=caused_by,
        seen=seen or day,
        first_seen=seen or day,
        quarantined=quarantined,
        message=f"{issue_id} {subject} {vendor}",
    )


# A vendor_b spike caught the same day (and its primary flagged with it), a stale repeat the primary
# moved 2 % from that nobody flagged, a stale repeat the primary barely moved from, a distorted
# cross flagged a day late by subject and date, a spike on a name with no fault, and the day after
# the spike flagged again.
SPIKE = _fault("F1", "VENDOR_PRICE_SPIKE", DAYS[0], "v-1", "EQ-A", "110.00", "100.00", "99.50")
MISSED = _fault("F2", "VENDOR_STALE_PRICE", DAYS[1], "v-2", "EQ-B", "50.00", "51.00", "50.02")
INVISIBLE = _fault("F3", "VENDOR_STALE_PRICE", DAYS[1], "v-3", "EQ-C", "100.01", "100.05", "100.00")
CROSS = _fault("F4", "FX_CROSS_INCONSISTENT", DAYS[2], "x-4", "EURGBP", "0.860000", "0.850000")
SIGHTINGS = [
    _seen("dq-1", "price.vendor_divergence.equity", "EQ-A", "vendor_b", DAYS[0], ("v-1", "p-1"), quarantined=True),
    _seen("dq-2", "price.vendor_divergence.equity", "EQ-A", "primary", DAYS[0], ("p-1", "v-1")),
    _seen("dq-3", "fx.triangulation", "EURGBP", "cross", DAYS[2], ("x-other",), seen=DAYS[3]),
    _seen("dq-4", "price.spike.equity", "EQ-D", "primary", DAYS[1], ("p-9",)),
    _seen("dq-5", "price.spike.equity", "EQ-A", "vendor_b", DAYS[1], ("v-8",)),
    _seen("dq-1", "price.vendor_divergence.equity", "EQ-A", "vendor_b", DAYS[1], ("v-8", "p-8")),
]  # fmt: skip


def _observed() -> Observed:
    return Observed(
        source="hand-built",
        seed=0,
        fault_rate=1.0,
        days=DAYS,
        faults=[SPIKE, MISSED, INVISIBLE, CROSS],
        sightings=SIGHTINGS,
        verdicts={"v-2": ["price.stale passed: EQ-B vendor_b 50.00 is fresh"]},
    )


def test_a_fault_is_found_by_its_own_event_or_its_subject_vendor_and_date_not_as_a_reference() -> None:
    assert is_about(SIGHTINGS[0], SPIKE)  # names v-1 first
    assert not is_about(SIGHTINGS[1], SPIKE)  # the primary, v-1 only its reference
    assert is_about(SIGHTINGS[2], CROSS)  # another event, but EURGBP cross on the fault's date
    assert not is_about(SIGHTINGS[5], SPIKE)  # the same issue the next day, about the next value


def test_a_stale_repeat_is_undetectable_only_when_neither_the_stale_nor_the_divergence_rule_could_fire() -> (
    None
):
    # The primary moved 2 % (100 ticks): the stale rule could fire.
    assert visibility(MISSED, CHECKS) is None
    # 5 bp (5 ticks) is under the stale rule's 20 bp, and the repeat is 4 bp off the primary.
    reason = visibility(INVISIBLE, CHECKS)
    assert reason is not None and "+0.050%" in reason and "within the divergence tolerance" in reason
    # One tick moved (under 2 ticks), but the repeat is 1 % off the primary: divergence sees it.
    diverging = _fault("F5", "VENDOR_STALE_PRICE", DAYS[1], "v-5", "EQ-E", "9.90", "10.00", "9.99")
    assert visibility(diverging, CHECKS) is None
    # Under the minimum in ticks only: 10 bp is one tick of a 10.00 stock.
    one_tick = _fault("F6", "VENDOR_STALE_PRICE", DAYS[1], "v-6", "EQ-F", "9.99", "10.02", "10.01")
    reason = visibility(one_tick, CHECKS)
    assert reason is not None and "(1 tick(s))" in reason
    # No primary the day before: no move to compare with.
    unpriced = _fault("F7", "VENDOR_STALE_PRICE", DAYS[1], "v-7", "EQ-G", "10.00", "10.01")
    assert "no price the previous business day" in (visibility(unpriced, CHECKS) or "")
    # Spikes and distorted crosses are out of every tolerance.
    assert visibility(SPIKE, CHECKS) is None and visibility(CROSS, CHECKS) is None


def test_recall_time_to_detect_and_misses_per_kind() -> None:
    kinds = score(_observed(), CHECKS)["kinds"]
    spike, stale, cross = (
        kinds["VENDOR_PRICE_SPIKE"],
        kinds["VENDOR_STALE_PRICE"],
        kinds["FX_CROSS_INCONSISTENT"],
    )
    assert (spike["injected"], spike["detectable"], spike["detected"], spike["recall"]) == (1, 1, 1, 1.0)
    assert spike["quarantined"] == 1
    assert spike["time_to_detect_business_days"]["max"] == 0
    assert spike["detected_by"] == {"price.vendor_divergence.equity": 1}
    assert (stale["injected"], stale["undetectable"], stale["detectable"], stale["detected"]) == (2, 1, 1, 0)
    assert stale["recall"] == 0.0
    [missed] = stale["missed"]
    assert missed["fault_id"] == "F2"
    assert missed["what_dq_did"] == [
        "v-2: price.stale passed: EQ-B vendor_b 50.00 is fresh",
        "nothing flagged on EQ-B that day",
    ]
    [invisible] = stale["undetectable_faults"]
    assert invisible["fault_id"] == "F3" and not invisible["flagged_anyway"]
    assert invisible["other_move"] == pytest.approx(0.0005)
    assert (cross["detected"], cross["quarantined"]) == (1, 0)
    assert cross["time_to_detect_business_days"]["max"] == 1  # seen on the 7th, applied on the 6th
    assert kinds["PRIMARY_PRICE_SPIKE"]["recall"] is None


def test_precision_counts_issues_behind_which_a_fault_stands() -> None:
    result = score(_observed(), CHECKS)
    issues = result["issues"]
    # dq-1 is true (its first sighting is about F1; its next day's update changes nothing); dq-2
    # flagged the right primary next to the spike; dq-4 had nothing behind it; dq-5 is the day after
    # a fault on its subject.
    assert issues["price"] == {
        "issues": 4,
        "true": 1,
        "false": 3,
        "collateral": 1,
        "after_a_fault": 1,
        "no_fault": 1,
        "precision": 0.25,
    }
    assert issues["fx"]["precision"] == 1.0 and issues["all"]["issues"] == 5
    assert issues["by_check"]["price.spike.equity"] == {
        "issues": 2,
        "true": 0,
        "false": 2,
        "collateral": 0,
        "after_a_fault": 1,
        "no_fault": 1,
    }
    assert [e["issue_id"] for e in issues["false_examples"]["price.spike.equity"]] == ["dq-4", "dq-5"]
    aims = result["aims"]
    assert not aims["price_recall_at_least_99_percent"] and aims["fx_recall_at_least_99_percent"]
    assert not aims["price_precision_at_least_95_percent"] and not aims["detected_on_the_day"]


# ---------------------------------------------------------------- a real replay

SEED, START, REPLAY_DAYS, FAULT_RATE = 13, dt.date(2020, 2, 3), 60, 5.0


def test_a_replayed_run_scores_as_its_issues_and_faults_say() -> None:
    observed = observe(SEED, START, REPLAY_DAYS, FAULT_RATE)
    result = score(observed, CHECKS)
    faults = observed.faults
    assert {f.kind for f in faults} == set(DQ_KINDS)  # each kind occurred: the checks below mean something
    by_event = {}
    for s in observed.sightings:
        by_event.setdefault(s.caused_by[0], []).append(s)
    missed_ids = set()
    for kind, row in result["kinds"].items():
        mine = [f for f in faults if f.kind == kind]
        assert row["injected"] == len(mine) == row["detectable"] + row["undetectable"]
        assert row["recall"] == (row["detected"] / row["detectable"] if row["detectable"] else None)
        missed_ids |= {m["fault_id"] for m in row["missed"]}
        # A fault called undetectable is one no check flagged, and only stale repeats can be one.
        assert not any(u["flagged_anyway"] for u in row["undetectable_faults"])
        assert kind == "VENDOR_STALE_PRICE" or row["undetectable"] == 0
        if kind != "VENDOR_STALE_PRICE" and row["detected"]:
            assert row["time_to_detect_business_days"]["max"] == 0  # spikes and crosses: the same day
    undetectable_ids = {u["fault_id"] for row in result["kinds"].values() for u in row["undetectable_faults"]}
    for fault in faults:
        if fault.fault_id in undetectable_ids:
            continue
        # Detected exactly when an issue names the fault's own event, flagging its vendor's value.
        named = [s for e in fault.event_ids for s in by_event.get(e, [])]
        assert all(s.subject == fault.subject and s.vendor == fault.vendor for s in named)
        assert (fault.fault_id in missed_ids) == (not named), fault
    # Precision: every issue is true or false, and a true one is about a fault.
    for family in ("price", "fx", "all"):
        row = result["issues"][family]
        assert row["true"] + row["false"] == row["issues"]
        assert row["false"] == row["collateral"] + row["after_a_fault"] + row["no_fault"]
        assert row["precision"] == (row["true"] / row["issues"] if row["issues"] else None)
    true_issues = {s.issue_id for s in observed.sightings for f in faults if s.caused_by[0] in f.event_ids}
    assert result["issues"]["all"]["true"] == len(true_issues)
