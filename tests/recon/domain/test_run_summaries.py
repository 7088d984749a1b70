"""Check-run summaries: counts per mandate from differences, their sum, and one CheckRun per mandate and
comparison with the breaks that run opened and resolved."""

from __future__ import annotations

import dataclasses
import datetime as dt

from services.recon.domain.breaks import Advanced
from services.recon.domain.reconcile import Counts
from services.recon.domain.records import (
    Break,
    BreakKind,
    BreakStatus,
    Comparison,
    Difference,
    Outcome,
    RunContext,
    Scope,
)
from services.recon.domain.runs import add, check_runs, counts_of
from tests.recon import builders

BVC, BVL = Comparison.BOOK_VS_CUSTODIAN, Comparison.BOOK_VS_LEDGER

DAY = dt.date(2024, 3, 13)
AT = dt.datetime(2026, 1, 1, 12, tzinfo=dt.UTC)


def found(mandate: str, outcome: Outcome, n: int) -> Difference:
    return Difference(f"key-{mandate}-{n}", BVC, Scope.TRADE, BreakKind.QUANTITY_MISMATCH, outcome, mandate)


def test_counts_per_mandate_add_exact_matches_to_the_differences() -> None:
    differences = [
        found("M1", Outcome.WITHIN_TOLERANCE, 1),
        found("M1", Outcome.TIMING, 2),
        found("M1", Outcome.BREAK, 3),
        found("M1", Outcome.BREAK, 4),
        found("M2", Outcome.BREAK, 5),
    ]
    counts = counts_of(differences, {"M1": 3, "M3": 2})
    # M1: 3 exact + 4 differences = 7 compared; matched = 3 exact + 1 within tolerance = 4; unmatched 3
    assert counts == {
        "M1": Counts(compared=7, matched=4, within_tolerance=1, timing=1, breaks=2),
        "M2": Counts(compared=1, matched=0, within_tolerance=0, timing=0, breaks=1),
        "M3": Counts(compared=2, matched=2, within_tolerance=0, timing=0, breaks=0),
    }
    assert counts["M1"].unmatched == 3
    assert counts_of(differences[:1]) == {"M1": Counts(1, 1, 1, 0, 0)}
    assert counts_of([]) == {}


def test_counts_add_field_by_field() -> None:
    assert add(Counts(1, 2, 3, 4, 5), Counts(10, 20, 30, 40, 50)) == Counts(11, 22, 33, 44, 55)


def a_break(n: int, mandate: str, comparison: Comparison) -> Break:
    return builders.a_break(f"BRK-{n}", mandate, item_key=f"item-{n}", comparison=comparison)


def test_one_check_run_per_mandate_and_comparison_with_what_it_opened_and_resolved() -> None:
    run = RunContext(
        run_id="RUN-7",
        as_of_date=DAY,
        sim_time=dt.datetime(2024, 3, 13, 23, 59, tzinfo=dt.UTC),
        at=AT,
        covered=frozenset(),
        trace_id="ab" * 16,
        as_of_seq=4,
        trigger="on_demand",
    )
    opened = (a_break(1, "M1", BVC), a_break(2, "M1", BVC), a_break(3, "M2", BVC))
    resolved = (
        dataclasses.replace(a_break(4, "M1", BVL), status=BreakStatus.RESOLVED),
        dataclasses.replace(a_break(6, "M1", BVL), status=BreakStatus.RESOLVED),
        dataclasses.replace(a_break(5, "M2", BVC), status=BreakStatus.RESOLVED),
    )
    advanced = Advanced(breaks=(), actions=(), opened=opened, resolved=resolved, changed=())
    counts = {
        ("M2", BVC): Counts(5, 1, 1, 1, 3),
        ("M1", BVL): Counts(4, 3, 0, 0, 1),
        ("M1", BVC): Counts(9, 6, 2, 1, 2),
    }
    finished = AT + dt.timedelta(seconds=3)
    runs = check_runs(run, counts, advanced, finished)
    # Sorted by (mandate, comparison); M1 BVC opened #1 and #2, M1 BVL resolved #4 and #6, M2 BVC opened #3 and
    # resolved #5. unmatched = compared - matched: 9 - 6 = 3, 4 - 3 = 1, 5 - 1 = 4.
    assert [
        (
            r.mandate_id,
            r.comparison,
            r.compared_count,
            r.matched_count,
            r.matched_within_tolerance_count,
            r.unmatched_count,
            r.timing_item_count,
            r.breaks_opened,
            r.breaks_resolved,
        )
        for r in runs
    ] == [
        ("M1", BVC, 9, 6, 2, 3, 1, 2, 0),
        ("M1", BVL, 4, 3, 0, 1, 0, 0, 2),
        ("M2", BVC, 5, 1, 1, 4, 1, 1, 1),
    ]
    for r in runs:
        assert (r.run_id, r.as_of_date, r.as_of_seq, r.trigger) == ("RUN-7", DAY, 4, "on_demand")
        assert (r.started_at, r.finished_at, r.trace_id) == (AT, finished, "ab" * 16)
