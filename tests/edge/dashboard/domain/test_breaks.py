"""The breaks panel's figures from the open breaks a watch reported."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

from services.edge.dashboard.domain.breaks import BreakItem, OpenBreaks, bucket_key, summarize


def brk(break_id: str, **fields: object) -> BreakItem:
    base = BreakItem(
        break_id=break_id,
        mandate_id="BAL-USD",
        kind="price mismatch",
        status="open",
        comparison="book vs custodian",
        age_business_days=0,
        aging_bucket="0-1",
        escalated=False,
        escalation_reason="",
        base_amount=Decimal("100.00"),
        currency="USD",
        amount=Decimal("100.00"),
        description="",
        parent_break_id="",
        first_seen=dt.date(2020, 1, 2),
        instrument_id="",
        suspense_amount=None,
        suspense_journal_id="",
    )
    return dataclasses.replace(base, **fields)  # type: ignore[arg-type]


def test_a_watch_keeps_open_breaks_and_drops_closed_ones() -> None:
    book = OpenBreaks()
    book.apply(5, brk("BRK-a"))
    book.apply(5, brk("BRK-b", status="investigating"))
    book.apply(6, brk("BRK-a", age_business_days=2, aging_bucket="2-3"))
    book.apply(7, brk("BRK-b", status="resolved"))
    assert [(i.break_id, i.aging_bucket) for i in book.items()] == [("BRK-a", "2-3")]
    assert book.last_change_seq == 7
    book.apply(3, brk("BRK-c", status="written off"))  # never open here: nothing to drop
    assert len(book) == 1 and book.last_change_seq == 7
    book.reset()
    assert len(book) == 0 and book.last_change_seq == 0


def test_buckets_sort_by_the_age_they_start_at() -> None:
    assert sorted(["8+", "2-3", "0-1", "10-20", "4-7", "other"], key=bucket_key) == [
        "0-1",
        "2-3",
        "4-7",
        "8+",
        "10-20",
        "other",
    ]


def test_counts_by_mandate_bucket_and_kind_children_grouped_under_their_parent() -> None:
    items = [
        # The trade break of a dropped fill and two children it explains.
        brk("BRK-t", kind="missing at custodian", age_business_days=4, aging_bucket="4-7", escalated=True),
        brk("BRK-p", kind="quantity mismatch", parent_break_id="BRK-t", age_business_days=1),
        brk("BRK-c", kind="cash mismatch", parent_break_id="BRK-t", age_business_days=1),
        # Another mandate's break whose parent has closed: an item of its own.
        brk("BRK-e", mandate_id="EQ-EUR", kind="cash mismatch", parent_break_id="BRK-gone", currency="EUR"),
        brk("BRK-closed", status="resolved"),
    ]
    s = summarize(items, buckets=["0-1", "2-3", "4-7", "8+"])
    assert s.buckets == ("0-1", "2-3", "4-7", "8+")
    assert (s.total, s.top_level, s.escalated) == (4, 2, 1)
    assert [(m.mandate_id, m.by_bucket, m.total, m.top_level, m.escalated) for m in s.by_mandate] == [
        ("BAL-USD", (2, 0, 1, 0), 3, 1, 1),
        ("EQ-EUR", (1, 0, 0, 0), 1, 1, 0),
    ]
    assert s.bucket_totals == (3, 0, 1, 0)
    # Most first, then by name.
    assert [(k.kind, k.total, k.top_level, k.escalated) for k in s.by_kind] == [
        ("cash mismatch", 2, 1, 0),
        ("missing at custodian", 1, 1, 1),
        ("quantity mismatch", 1, 0, 0),
    ]
    assert [(r.item.break_id, r.children) for r in s.rows] == [("BRK-t", 2), ("BRK-e", 0)]
    assert s.rows_left_out == 0


def test_rows_oldest_first_then_largest_then_by_id_up_to_the_limit() -> None:
    items = [
        brk("BRK-1", age_business_days=1, base_amount=Decimal("5")),
        brk("BRK-2", age_business_days=3, base_amount=Decimal("-1")),
        brk("BRK-3", age_business_days=1, base_amount=Decimal("-50")),
        brk("BRK-4", age_business_days=1, base_amount=None),
        brk("BRK-0", age_business_days=1, base_amount=None),
    ]
    s = summarize(items, limit=4)
    assert [r.item.break_id for r in s.rows] == ["BRK-2", "BRK-3", "BRK-1", "BRK-0"]
    assert s.rows_left_out == 1


def test_a_bucket_only_the_breaks_carry_is_shown_and_no_breaks_is_all_zero() -> None:
    s = summarize([brk("BRK-x", aging_bucket="20+")], buckets=["0-1"])
    assert s.buckets == ("0-1", "20+")
    empty = summarize([])
    assert (empty.total, empty.top_level, empty.escalated, empty.rows, empty.buckets) == (0, 0, 0, (), ())
