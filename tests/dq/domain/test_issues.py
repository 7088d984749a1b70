"""The issue lifecycle (raise, update, resolve by itself, acknowledge) and the quarantine with the
last good value."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest

from services.dq.domain.config import Check, load_checks
from services.dq.domain.issues import ChangeKind, IssueBook, IssueStatus
from services.dq.domain.results import CheckResult, SubjectKind

D = Decimal
CHECKS = load_checks()
DIVERGENCE = CHECKS.get("price.vendor_divergence.equity")
STALE = CHECKS.get("price.stale")
CURVE = CHECKS.get("price.vs_curve.government")


def _day(n: int) -> dt.date:
    return dt.date(2020, 3, 1) + dt.timedelta(days=n)


def _at(n: int) -> dt.datetime:
    return dt.datetime.combine(_day(n), dt.time(16), tzinfo=dt.UTC)


def _price(
    check: Check, n: int, price: str, ok: bool, vendor: str = "vendor_b", subject: str = "US-A"
) -> CheckResult:
    return check.result(
        success=ok,
        subject=subject,
        subject_kind=SubjectKind.INSTRUMENT,
        vendor=vendor,
        observed=D(price),
        reference=D("100.00"),
        deviation=float(D(price) / 100 - 1),
        threshold=0.005,
        value_date=_day(n),
        caused_by=(f"v-{n}", f"p-{n}"),
        message=f"{subject} {vendor} {price}",
    )


def test_a_failure_opens_an_issue_that_later_failures_update_and_a_pass_resolves() -> None:
    book = IssueBook()
    assert book.apply(_price(DIVERGENCE, 0, "100.10", True), _at(0)) == []
    [raised] = book.apply(_price(DIVERGENCE, 1, "115.00", False), _at(1))
    assert raised.kind is ChangeKind.RAISED and raised.change_seq == 1
    issue = raised.issue
    assert (issue.issue_id, issue.status, issue.first_seen, issue.quarantined) == (
        "dq-1",
        IssueStatus.OPEN,
        _at(1),
        True,
    )
    [entry] = book.quarantine()
    assert (entry.rejected_value, entry.last_good_value, entry.last_good_date) == (
        D("115.00"),
        D("100.10"),
        _day(0),
    )
    assert entry.issue_ids == ("dq-1",) and entry.event_id == "v-1" and entry.since == _at(1)

    [updated] = book.apply(_price(DIVERGENCE, 2, "116.00", False), _at(2))
    assert updated.kind is ChangeKind.UPDATED and updated.change_seq == 2
    assert (
        updated.issue.issue_id == "dq-1"
        and updated.issue.first_seen == _at(1)
        and updated.issue.last_seen == _at(2)
    )
    assert updated.issue.occurrences == 2 and [e.observed for e in updated.issue.evidence] == [
        D("115.00"),
        D("116.00"),
    ]
    [entry] = book.quarantine()
    assert (entry.rejected_value, entry.rejected_date, entry.last_good_value) == (
        D("116.00"),
        _day(2),
        D("100.10"),
    )

    [resolved] = book.apply(_price(DIVERGENCE, 3, "101.00", True), _at(3))
    assert resolved.kind is ChangeKind.RESOLVED and resolved.change_seq == 3
    assert resolved.issue.status is IssueStatus.RESOLVED
    assert (resolved.issue.resolved_at, resolved.issue.resolved_by) == (_at(3), "v-3")
    assert book.open_issues() == () and book.quarantine() == ()
    assert book.last_good("US-A", "vendor_b") == (D("101.00"), _day(3))


def test_issues_are_keyed_by_check_subject_and_vendor() -> None:
    book = IssueBook()
    changes = book.apply_all(
        [
            _price(DIVERGENCE, 1, "115.00", False),
            _price(DIVERGENCE, 1, "101.00", False, vendor="primary"),
            _price(DIVERGENCE, 1, "50.00", False, subject="US-B"),
            _price(STALE, 1, "115.00", False),
        ],
        _at(1),
    )
    assert [c.issue.issue_id for c in changes] == ["dq-1", "dq-2", "dq-3", "dq-4"]
    # A pass for vendor_b resolves only vendor_b's divergence issue.
    [resolved] = book.apply(_price(DIVERGENCE, 2, "100.00", True), _at(2))
    assert resolved.issue.issue_id == "dq-1"
    assert [i.issue_id for i in book.open_issues()] == ["dq-2", "dq-3", "dq-4"]


def test_acknowledge() -> None:
    book = IssueBook()
    book.apply(_price(DIVERGENCE, 1, "115.00", False), _at(1))
    change = book.acknowledge("dq-1")
    assert change.kind is ChangeKind.UPDATED and change.issue.acknowledged and change.change_seq == 2
    assert book.get("dq-1") == change.issue
    with pytest.raises(KeyError, match="no open issue 'dq-9'"):
        book.acknowledge("dq-9")


def test_a_value_that_passed_one_check_and_failed_a_critical_one_is_not_a_good_value() -> None:
    book = IssueBook()
    book.apply(_price(CURVE, 0, "100.00", True, vendor="primary"), _at(0))
    # Day 1: the stale check passes 92.00 first, then the curve check rejects it.
    book.apply(_price(STALE, 1, "92.00", True, vendor="primary"), _at(1))
    assert book.last_good("US-A", "primary") == (D("92.00"), _day(1))
    book.apply(_price(CURVE, 1, "92.00", False, vendor="primary"), _at(1))
    assert book.last_good("US-A", "primary") == (D("100.00"), _day(0))
    # A later check passing the same rejected value does not make it good again.
    book.apply(_price(DIVERGENCE, 1, "92.00", True, vendor="primary"), _at(1))
    [entry] = book.quarantine()
    assert entry.last_good_value == D("100.00") and book.last_good("US-A", "primary") == (
        D("100.00"),
        _day(0),
    )


def test_a_value_quarantined_by_two_issues_is_released_when_both_resolve() -> None:
    book = IssueBook()
    book.apply(_price(DIVERGENCE, 1, "115.00", False, vendor="primary"), _at(1))
    book.apply(_price(CURVE, 1, "115.00", False, vendor="primary"), _at(1))
    assert book.quarantine()[0].issue_ids == ("dq-1", "dq-2")
    book.apply(_price(DIVERGENCE, 2, "100.00", True, vendor="primary"), _at(2))
    assert book.quarantine()[0].issue_ids == ("dq-2",)
    book.apply(_price(CURVE, 2, "100.00", True, vendor="primary"), _at(2))
    assert book.quarantine() == ()


def test_a_warning_opens_an_issue_without_quarantine() -> None:
    book = IssueBook()
    [raised] = book.apply(_price(STALE, 1, "100.00", False), _at(1))
    assert not raised.issue.quarantined and book.quarantine() == ()


def test_a_holdings_pass_without_a_vendor_resolves_whichever_feed_was_blamed() -> None:
    check = CHECKS.get("holdings.book_vs_custodian")

    def holdings(ok: bool, vendor: str) -> CheckResult:
        return check.result(
            success=ok,
            subject="M1",
            subject_kind=SubjectKind.MANDATE,
            vendor=vendor,
            value_date=_day(1),
            caused_by=("s-1",),
            message="M1",
            unexpected_count=0 if ok else 1,
            sample=[]
            if ok
            else [{"instrument_id": "US-B", "book": "50", "custodian": "40", "suspect": "custodian"}],
        )

    book = IssueBook()
    [raised] = book.apply(holdings(False, "custodian"), _at(1))
    assert raised.issue.subject == "M1" and raised.issue.vendor == "custodian"
    assert raised.issue.unexpected_count == 1
    assert raised.issue.unexpected_sample == ("instrument_id=US-B book=50 custodian=40 suspect=custodian",)
    [resolved] = book.apply(holdings(True, ""), _at(2))
    assert resolved.issue.issue_id == raised.issue.issue_id and resolved.kind is ChangeKind.RESOLVED


def test_the_book_round_trips_through_json() -> None:
    book = IssueBook()
    book.apply(_price(DIVERGENCE, 0, "100.10", True), _at(0))
    book.apply(_price(DIVERGENCE, 1, "115.00", False), _at(1))
    book.apply(_price(STALE, 1, "115.00", False), _at(1))
    book.acknowledge("dq-2")
    restored = IssueBook.restore(json.loads(json.dumps(book.to_json())))
    assert restored.open_issues() == book.open_issues()
    assert restored.quarantine() == book.quarantine()
    assert restored.last_good("US-A", "vendor_b") == book.last_good("US-A", "vendor_b")
    # Both go on the same way: the next change and id follow on.
    later = _price(DIVERGENCE, 2, "100.20", True)
    assert restored.apply(later, _at(2)) == book.apply(later, _at(2))
    new = _price(DIVERGENCE, 3, "120.00", False, subject="US-C")
    assert (
        restored.apply(new, _at(3))[0].issue.issue_id == book.apply(new, _at(3))[0].issue.issue_id == "dq-3"
    )
