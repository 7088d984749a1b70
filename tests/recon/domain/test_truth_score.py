"""Recon scored against market's ground truth over 60 simulated business days (services/scoring/recon_truth.py).

The default fault rate, seed 7, from 2019-01-02: every custodian fault that occurs is found
at the first day-end check after it happened, and no timing difference becomes a false
break. Price typos are included: recon compares each custodian trade's price with the
fill's (services/recon/domain/trades.py). Precision is printed, not asserted: at this
rate and length it is 1.0, but a break whose only fault link is a later effect would be
a finding to read, not a regression by itself.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import pytest

from services.recon.domain.config import ReconConfig
from services.recon.domain.tolerances import Tolerance
from services.scoring.recon_truth import (
    CUSTODIAN_KINDS,
    NOT_RECONS,
    RECON_KINDS,
    reconcile_run,
    score,
    score_run,
)

DAYS = 60
SEED = 7
START = dt.date(2019, 1, 2)


@pytest.fixture(scope="module")
def result() -> dict[str, Any]:
    return score(DAYS, SEED, START)


def test_every_custodian_fault_is_found_within_one_day_end_check(result: dict[str, Any]) -> None:
    kinds = result["kinds"]
    occurred = [k.value for k in CUSTODIAN_KINDS if kinds[k.value]["injected"]]
    assert len(occurred) >= 2, kinds  # the window holds faults to find, so the recall is not vacuous
    report = {k: (kinds[k]["found_within_one_check"], kinds[k]["injected"]) for k in occurred}
    assert all(kinds[k]["in_flight_at_end"] == 0 for k in occurred), report
    assert all(kinds[k]["recall"] == 1.0 for k in occurred), report
    assert all(kinds[k]["recall_within_one_check"] == 1.0 for k in occurred), report
    print(
        f"\nprecision {result['breaks']['precision']:.3f} over {result['breaks']['total']} breaks; {report}"
    )


def test_no_false_breaks_from_timing_differences(result: dict[str, Any]) -> None:
    # Timing items were there to misjudge: settlements lag every fill by a day or two.
    assert result["run"]["differences_by_outcome"]["TIMING"] > 100
    assert result["breaks"]["false_from_timing"] == 0, result["false_breaks"]
    assert result["aim"]["no_false_breaks_from_timing"]


def test_settlement_faults_are_found_once_they_show(result: dict[str, Any]) -> None:
    # Found, but never at the trade date's check: a late settlement shows only after its settle date.
    for kind in ("SETTLEMENT_DELAY", "SETTLEMENT_FAIL"):
        row = result["kinds"][kind]
        assert row["injected"] > row["in_flight_at_end"], row
        assert row["recall"] == 1.0, (kind, result["missed"])
        assert row["found_within_one_check"] == 0, row


def test_price_and_fx_faults_are_listed_as_not_recons(result: dict[str, Any]) -> None:
    assert set(result["not_recons"]) == {k.value for k in NOT_RECONS}
    assert set(result["kinds"]) == {k.value for k in RECON_KINDS}
    assert sum(result["not_recons"].values()) > 0
    assert not {m["kind"] for m in result["missed"]} & set(result["not_recons"])


def test_the_scorer_counts_false_breaks_from_timing_when_recon_ignores_pending_settlements() -> None:
    # A recon that knew no pending settlements breaks on every settlement lag; the scorer must say so.
    blind = score_run(reconcile_run(10, SEED, START, explain_pending=False))
    assert blind["breaks"]["false_from_timing"] > 0
    assert not blind["aim"]["no_false_breaks_from_timing"]
    assert blind["breaks"]["precision"] < 1.0


def test_price_typos_are_found_by_the_trade_price_check_alone() -> None:
    # With a price tolerance wide enough to pass any typo, recon no longer names the fill, so the scorer
    # must report the price typos missed (their later cash breaks are still matched, through the clean twin).
    loose = dataclasses.replace(ReconConfig.default(), price_tolerance=Tolerance.symmetric(relative="100"))
    blind = score_run(reconcile_run(DAYS, SEED, START, config=loose))
    row = blind["kinds"]["CUSTODIAN_PRICE_TYPO"]
    assert row["injected"] > 0
    assert row["found"] == 0, row
    assert blind["breaks"]["false"] == 0
