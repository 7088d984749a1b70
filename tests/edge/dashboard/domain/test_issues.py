"""dq's open issues and quarantine as the data quality panel shows them."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

from services.edge.dashboard.domain.issues import (
    IssueItem,
    OpenIssues,
    QuarantineRow,
    newest,
    severity_counts,
)


def issue(issue_id: str, **fields: object) -> IssueItem:
    base = IssueItem(
        issue_id=issue_id,
        kind="price spike",
        severity="warning",
        status="open",
        subject="US-NWSF",
        message="",
        value_date=dt.date(2020, 1, 2),
        detected_at=dt.datetime(2020, 1, 2, 16, tzinfo=dt.UTC),
        quarantined=False,
        trace_id="",
    )
    return dataclasses.replace(base, **fields)  # type: ignore[arg-type]


def test_open_and_acknowledged_issues_are_kept_resolved_ones_dropped() -> None:
    book = OpenIssues()
    book.apply(1, issue("dq-1"))
    book.apply(2, issue("dq-2", status="acknowledged"))
    book.apply(3, issue("dq-1", status="resolved"))
    assert [i.issue_id for i in book.items()] == ["dq-2"]
    assert book.get("dq-2") is not None and book.get("dq-1") is None
    assert book.last_change_seq == 3
    book.reset()
    assert book.items() == [] and book.last_change_seq == 0


def test_counts_list_every_severity_most_severe_first() -> None:
    items = [
        issue("a", severity="critical"),
        issue("b"),
        issue("c"),
        issue("d", status="resolved", severity="info"),
    ]
    assert severity_counts(items) == (("critical", 1), ("warning", 2), ("info", 0))


def test_newest_most_severe_first_then_newest_then_by_id() -> None:
    t = dt.datetime(2020, 1, 2, tzinfo=dt.UTC)
    items = [
        issue("dq-1", severity="warning", detected_at=t),
        issue("dq-2", severity="warning", detected_at=t + dt.timedelta(days=1)),
        issue("dq-3", severity="critical", detected_at=t),
        issue("dq-4", severity="info", detected_at=None),
        issue("dq-0", severity="warning", detected_at=t),
        issue("dq-9", status="resolved", severity="critical"),
    ]
    assert [i.issue_id for i in newest(items, 10)] == ["dq-3", "dq-2", "dq-0", "dq-1", "dq-4"]
    assert [i.issue_id for i in newest(items, 2)] == ["dq-3", "dq-2"]


def test_a_quarantined_value_against_its_last_good_one() -> None:
    row = QuarantineRow(
        "US-NWSF", "price", "primary", Decimal("115"), None, Decimal("100"), None, "dq-1", "mkt-9"
    )
    assert row.change == Decimal("0.15")
    assert dataclasses.replace(row, last_good=None).change is None
    assert dataclasses.replace(row, last_good=Decimal(0)).change is None
