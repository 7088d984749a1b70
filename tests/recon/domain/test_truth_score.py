"""The truth scorer (services/scoring/recon_truth.py): over the pure replay of 120 simulated business
days at eight times the default fault rate, and on small hand-made runs for its rules.

The replay (recon's domain, book vs custodian) finds every due fault of each kind on the day it shows
and closes every corrected one's breaks at the correction's day end; precision is at least 95 %.
The invariant checks are exercised on hand-worked cash figures, one held and one violated each.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from services.scoring.recon_replay import observe
from services.scoring.recon_truth import (
    CUSTODIAN_KINDS,
    RECON_KINDS,
    SETTLEMENT_KINDS,
    BreakView,
    CashDay,
    FaultView,
    JournalView,
    Observed,
    check_invariants,
    direct_breaks,
    render,
    score,
)

D = Decimal
START = dt.date(2019, 1, 2)


@pytest.fixture(scope="module")
def result() -> dict[str, Any]:
    return score(observe(7, START, 120, fault_rate=8.0))


def test_every_due_fault_is_found_on_the_day_it_shows(result: dict[str, Any]) -> None:
    kinds = result["kinds"]
    for kind in RECON_KINDS:
        row = kinds[kind]
        assert row["due"] >= 1, (kind, row)  # something to find, so the recall is not vacuous
        assert row["recall"] == 1.0, (kind, row["missed"])
        assert row["time_to_detect_business_days"]["max"] == 0, (kind, row)
    print("\n" + render(result))


def test_corrected_faults_are_resolved_at_the_correction_day_end(result: dict[str, Any]) -> None:
    for kind in CUSTODIAN_KINDS + SETTLEMENT_KINDS:
        row = result["kinds"][kind]
        assert row["corrected_but_still_open"] == [], kind
        assert row["time_to_resolve_after_correction_business_days"]["max"] == 0, (kind, row)


def test_precision_and_grouping(result: dict[str, Any]) -> None:
    breaks = result["breaks"]
    assert breaks["precision"] >= 0.95, result["false_breaks"]
    assert breaks["grouped_under_one"] > 0  # position and cash breaks are children of a trade break
    assert breaks["top_level"] == breaks["total"] - sum(row["children"] for row in breaks["by_kind"].values())
    assert result["invariants"] == {"checked": False}  # no ledger in the replay


# ---------------------------------------------------------------- the scorer's rules, by hand

DAYS = [dt.date(2024, 3, d) for d in (11, 12, 13, 14, 15)]


def fault(kind: str = "CUSTODIAN_DROP_TRADE", **changes: Any) -> FaultView:
    fields: dict[str, Any] = {
        "fault_id": "FLT-1", "kind": kind, "mandate_id": "M", "instrument_id": "AAPL", "fill_id": "F1",
        "applied_date": DAYS[0], "corrected_date": DAYS[2], "event_ids": ("mkt-1",), "correction_event_ids": ("mkt-9",),
    }  # fmt: skip
    return FaultView(**{**fields, **changes})


def brk(break_id: str, scope: str = "TRADE", **changes: Any) -> BreakView:
    fields: dict[str, Any] = {
        "break_id": break_id, "mandate_id": "M", "kind": "MISSING_AT_CUSTODIAN", "comparison": "BOOK_VS_CUSTODIAN",
        "scope": scope, "status": "RESOLVED", "instrument_id": "AAPL", "currency": "USD", "fill_id": "",
        "cash_flow_id": "", "parent_break_id": "", "first_seen": DAYS[0], "last_seen": DAYS[1],
        "resolved_on": DAYS[2], "resolved_by": "", "caused_by": (), "escalated": False,
    }  # fmt: skip
    return BreakView(**{**fields, **changes})


def observed(faults: list[FaultView], breaks: list[BreakView], **changes: Any) -> Observed:
    return Observed(
        source="test", seed=1, fault_rate=1.0, days=DAYS, faults=faults, breaks=breaks,
        settle_dates={"F1": DAYS[1]}, instrument_currency={"AAPL": "USD"}, **changes,
    )  # fmt: skip


def test_a_fault_is_named_by_a_trade_break_on_its_fill_or_a_cash_flow_break_with_its_events() -> None:
    trade = brk("B1", fill_id="F1")
    other_fill = brk("B2", fill_id="F2")
    flow = brk("B3", scope="CASH_FLOW", caused_by=("mkt-7", "mkt-9"))
    resolved_by = brk("B4", scope="CASH_FLOW", resolved_by="mkt-1")
    assert direct_breaks(fault(), [trade, other_fill, flow, resolved_by]) == [trade, flow, resolved_by]
    # a value date the custodian has not booked yet: its mandate and instrument on its pay date
    late = fault("CORPORATE_ACTION_DATE_MISMATCH", fill_id="", event_ids=(), correction_event_ids=())
    unbooked = brk("B5", scope="CASH_FLOW", instrument_id="AAPL")
    assert direct_breaks(late, [unbooked, brk("B6", scope="CASH_FLOW", first_seen=DAYS[1])]) == [unbooked]


def test_recall_timing_and_precision_count_by_hand() -> None:
    # A settlement fault shows on its settle date (DAYS[1]) and was found a day later; a drop on
    # DAYS[0] at once, closed the day it was corrected. A child of the drop's break counts as matched;
    # an unrelated cash break on another currency does not.
    settle = fault("SETTLEMENT_FAIL", fault_id="FLT-2", applied_date=DAYS[0], corrected_date=DAYS[3])
    breaks = [
        brk("B1", fill_id="F1", first_seen=DAYS[0], resolved_on=DAYS[2]),
        brk("B2", scope="CASH", parent_break_id="B1"),
        brk("B3", scope="CASH", currency="EUR", first_seen=DAYS[3], resolved_on=None),
    ]
    result = score(observed([fault(), settle], breaks))
    drop, fail = result["kinds"]["CUSTODIAN_DROP_TRADE"], result["kinds"]["SETTLEMENT_FAIL"]
    assert (drop["due"], drop["found"], drop["recall"]) == (1, 1, 1.0)
    assert drop["time_to_detect_business_days"]["max"] == 0
    assert drop["time_to_resolve_after_correction_business_days"]["max"] == 0
    # B1 names the fill of both faults: found on DAYS[0], 1 business day before the settle date
    assert fail["time_to_detect_business_days"]["max"] == -1
    # closed on DAYS[2], corrected DAYS[3]: -1
    assert fail["time_to_resolve_after_correction_business_days"]["max"] == -1
    assert (result["breaks"]["matched"], result["breaks"]["false"], result["breaks"]["top_level"]) == (
        2,
        1,
        2,
    )
    assert result["breaks"]["precision"] == pytest.approx(2 / 3)
    assert result["open_per_mandate"]["M"]["open_at_end"] == 1


def test_a_settlement_fault_settling_after_the_run_is_in_flight() -> None:
    result = score(observed([fault("SETTLEMENT_DELAY", fill_id="F9")], []))
    row = result["kinds"]["SETTLEMENT_DELAY"]
    assert (row["injected"], row["due"], row["in_flight_at_end"], row["recall"]) == (1, 0, 1, None)


def cash(day: int, custodian: str, ledger: str, suspense: str) -> CashDay:
    return CashDay(DAYS[day], "M", "USD", D(custodian), D(ledger), D(suspense))


def lvc(first: int, resolved: int | None) -> BreakView:
    return brk(
        "L1", scope="CASH", comparison="LEDGER_VS_CUSTODIAN", kind="CASH_MISMATCH",
        first_seen=DAYS[first], resolved_on=None if resolved is None else DAYS[resolved],
    )  # fmt: skip


def journal(day: int, cash_leg: str) -> JournalView:
    return JournalView("J", "k", "L1", "M", "USD", DAYS[day], D(cash_leg))


def test_the_invariants_hold_for_suspense_that_follows_its_break() -> None:
    # A manual fee of 2,500.00 makes the ledger 2,500.00 short; posted on day 3, reversed on day 4 once
    # the fee is reversed: custodian - (ledger + suspense) = 2,500.00 while held, the cash agrees after.
    run = observed(
        [],
        [lvc(0, 4)],
        cash=[
            cash(0, "10000.00", "7500.00", "0"),
            cash(3, "10000.00", "10000.00", "-2500.00"),
            cash(4, "10000.00", "10000.00", "0"),
        ],
        journals=[journal(3, "2500.00"), journal(4, "-2500.00")],
    )
    checked = check_invariants(run)
    assert checked["suspense_never_exceeds_its_break"] and checked["suspense_never_moves_cash_away"]
    assert (checked["cash_items_holding_suspense"], checked["toward"]) == (1, 2)


def test_suspense_larger_than_its_difference_or_of_the_other_sign_is_caught() -> None:
    # holds 3,000.00 of a 2,500.00 difference: too much; holds -100.00 of +2,500.00: the wrong sign
    too_much = cash(3, "10000.00", "10500.00", "-3000.00")
    wrong_sign = cash(3, "10000.00", "7400.00", "100.00")
    for item in (too_much, wrong_sign):
        checked = check_invariants(observed([], [lvc(0, None)], cash=[item]))
        assert not checked["suspense_never_exceeds_its_break"], item
    # suspense with no open ledger-vs-custodian break on its key
    orphan = check_invariants(observed([], [lvc(0, 2)], cash=[cash(3, "10000.00", "10000.00", "-2500.00")]))
    assert orphan["orphaned"] and not orphan["suspense_never_exceeds_its_break"]


def test_a_journal_that_moves_cash_away_from_the_custodian_is_caught() -> None:
    # The audit's case: the ledger already agreed (10,000.00), and a posting moved it 40.00 away.
    run = observed(
        [], [lvc(0, None)], cash=[cash(3, "10000.00", "10040.00", "-40.00")], journals=[journal(3, "40.00")]
    )
    checked = check_invariants(run)
    assert not checked["suspense_never_moves_cash_away"] and checked["away"]
