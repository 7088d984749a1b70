"""GetReconciliation's rule (domain/overview.py): each mandate's standing from the stored runs,
open breaks and timing items, without a server."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

from services.recon.domain.overview import overview
from services.recon.domain.records import (
    Break,
    BreakKind,
    BucketCount,
    CheckRun,
    Comparison,
    Scope,
    TimingItem,
)
from tests.recon import builders
from tests.recon.builders import CONFIG

DAY = dt.date(2024, 3, 13)
AT = dt.datetime(2024, 3, 13, 23, 59, tzinfo=dt.UTC)
BVC, BVL = Comparison.BOOK_VS_CUSTODIAN, Comparison.BOOK_VS_LEDGER
AGING = CONFIG.aging  # buckets 0-1, 2-3, 4-7, 8+


def a_run(mandate: str, comparison: Comparison, day: dt.date = DAY) -> CheckRun:
    return CheckRun(
        f"RUN-{mandate}-{comparison}-{day}",
        mandate,
        comparison,
        day,
        10,
        "day_end",
        AT,
        AT,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
    )


def a_break(n: int, mandate: str, bucket: str, base: str, *, escalated: bool = False) -> Break:
    """An open cash break in `bucket` with a base-currency difference of `base` USD."""
    return builders.a_break(
        f"BRK-{n}",
        mandate,
        kind=BreakKind.CASH_MISMATCH,
        scope=Scope.CASH,
        base_currency="USD",
        base_amount_difference=Decimal(base),
        aging_bucket=bucket,
        escalated=escalated,
    )


def a_timing_item(n: int, mandate: str) -> TimingItem:
    return TimingItem(
        f"TIM-{n}", mandate, BVC, Scope.CASH, "", "USD", f"FIL-{n}", None, Decimal("5"), DAY, DAY
    )


def test_nothing_known_is_an_empty_overview_without_a_date() -> None:
    assert overview([], [], [], AGING) == overview((), (), (), AGING)
    empty = overview([], [], [], AGING)
    assert (empty.as_of_date, empty.mandates) == (None, ())


def test_each_mandate_gets_its_own_runs_breaks_and_timing_items_in_id_order() -> None:
    runs = [a_run("M-B", BVC), a_run("M-A", BVC), a_run("M-A", BVL)]
    breaks = [a_break(1, "M-B", "0-1", "-10.00"), a_break(2, "M-A", "2-3", "4.00")]
    items = [a_timing_item(1, "M-A")]
    standing = overview(runs, breaks, items, AGING)
    assert [m.mandate_id for m in standing.mandates] == ["M-A", "M-B"]
    a, b = standing.mandates
    assert a.latest_runs == (runs[1], runs[2]) and b.latest_runs == (runs[0],)
    assert a.open_breaks == (breaks[1],) and b.open_breaks == (breaks[0],)
    assert a.timing_items == (items[0],) and b.timing_items == ()


def test_a_mandate_with_only_a_break_or_only_a_timing_item_is_listed() -> None:
    # No run stored for either (runs pruned, or a check still to come): they are still shown.
    standing = overview([], [a_break(1, "M-X", "8+", "1.00")], [a_timing_item(1, "M-Y")], AGING)
    assert [m.mandate_id for m in standing.mandates] == ["M-X", "M-Y"]
    assert standing.as_of_date is None


def test_the_overview_is_as_of_the_latest_run() -> None:
    earlier, later = DAY - dt.timedelta(days=1), DAY
    standing = overview([a_run("M-A", BVC, later), a_run("M-B", BVC, earlier)], [], [], AGING)
    assert standing.as_of_date == later


def test_buckets_list_every_bucket_with_counts_and_absolute_base_amounts() -> None:
    breaks = [
        a_break(1, "M-A", "0-1", "-10.00"),
        a_break(2, "M-A", "0-1", "2.50"),
        a_break(3, "M-A", "8+", "-1.00", escalated=True),
        a_break(4, "M-B", "4-7", "7.00", escalated=True),
    ]
    a, b = overview([], breaks, [], AGING).mandates
    # M-A: 0-1 holds |-10.00| + |2.50| = 12.50 over 2 breaks; 8+ holds 1.00; the others are empty.
    assert a.buckets == (
        BucketCount("0-1", 2, Decimal("12.50"), "USD"),
        BucketCount("2-3", 0, Decimal(0), "USD"),
        BucketCount("4-7", 0, Decimal(0), "USD"),
        BucketCount("8+", 1, Decimal("1.00"), "USD"),
    )
    # Only M-B's own break counts in its buckets.
    assert [c.count for c in b.buckets] == [0, 0, 1, 0]
    assert (a.escalated_count, b.escalated_count) == (1, 1)


def test_escalated_counts_only_escalated_breaks() -> None:
    breaks = [a_break(n, "M-A", "0-1", "1.00", escalated=n % 2 == 0) for n in range(1, 6)]
    [a] = overview([], breaks, [], AGING).mandates
    assert a.escalated_count == 2  # breaks 2 and 4


def test_iterators_are_read_once_each() -> None:
    # The store may hand over generators: the overview must not exhaust one before using it.
    runs = (r for r in [a_run("M-A", BVC)])
    breaks = (b for b in [a_break(1, "M-A", "0-1", "1.00")])
    items = (t for t in [a_timing_item(1, "M-A")])
    [a] = overview(runs, breaks, items, AGING).mandates
    assert (len(a.latest_runs), len(a.open_breaks), len(a.timing_items)) == (1, 1, 1)
    assert dataclasses.asdict(a)["escalated_count"] == 0
