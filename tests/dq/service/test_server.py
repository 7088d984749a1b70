"""DqService over a store the real consumer filled: every RPC's answers, filters, paging and refusals.

Figures come from the simulated run (tests/dq/service/conftest.py): through 2020-03-27 dq raised 50
issues (8 of them positions the custodian had booked wrong, corrected since); at that day end four are
open (US-PLSN and US-SUMT: vendor_b repeated its price while the
primary and the peers moved, a critical mismatch and a stale warning each) and two prices quarantined.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from decimal import Decimal
from typing import Any

import grpc

from opsuite.common.v1 import common_pb2
from opsuite.dq.v1 import dq_pb2 as pb
from services.common.convert import date_to_proto
from services.common.market_events import PriceQuote
from services.dq.store import IssueFilter
from services.market.codec import event_to_proto
from tests.dq.service.conftest import FILLED_DAYS, Served, fill, run
from tests.support.refusals import refusal

DAY = dt.date(2020, 3, 27)
WAIT_S = 10.0  # a deadline for a message that must come, not a pause


def _date(value: common_pb2.Date) -> dt.date:
    return dt.date(value.year, value.month, value.day)


async def test_open_issues_are_the_days_two_stale_vendor_prints_newest_first(served: Served) -> None:
    reply = await served.stub.ListIssues(pb.ListIssuesRequest(status=pb.ISSUE_STATUS_OPEN))
    issues = list(reply.issues)
    assert [(i.instrument_id, i.kind, i.vendor) for i in issues] == [
        ("US-PLSN", pb.ISSUE_KIND_PRICE_STALE, "vendor_b"),
        ("US-PLSN", pb.ISSUE_KIND_PRICE_VENDOR_MISMATCH, "vendor_b"),
        ("US-SUMT", pb.ISSUE_KIND_PRICE_STALE, "vendor_b"),
        ("US-SUMT", pb.ISSUE_KIND_PRICE_VENDOR_MISMATCH, "vendor_b"),
    ]
    numbers = [int(i.issue_id.removeprefix("dq-")) for i in issues]
    assert numbers == sorted(numbers, reverse=True)
    assert {_date(i.value_date) for i in issues} == {DAY}
    mismatch = issues[1]
    assert (
        mismatch.severity == pb.SEVERITY_CRITICAL
        and mismatch.quarantined
        and mismatch.rule == "vendor_divergence"
    )
    # observed - reference, exactly as dq saw the two vendors' prices.
    assert Decimal(mismatch.difference.value) == Decimal(mismatch.observed_value.value) - Decimal(
        mismatch.reference_value.value
    )
    assert mismatch.caused_by and all(e.startswith("mkt-") for e in mismatch.caused_by)


async def test_filters_narrow_and_pages_cover_everything_once(served: Served) -> None:
    everything = (await served.stub.ListIssues(pb.ListIssuesRequest(page_size=1000))).issues
    assert len(everything) == 50 and not any(i.status == pb.ISSUE_STATUS_ACKNOWLEDGED for i in everything)
    paged: list[str] = []
    token = ""
    while True:
        page = await served.stub.ListIssues(pb.ListIssuesRequest(page_size=5, page_token=token))
        paged += [i.issue_id for i in page.issues]
        if not (token := page.next_page_token):
            break
    assert paged == [i.issue_id for i in everything]
    critical = (await served.stub.ListIssues(pb.ListIssuesRequest(min_severity=pb.SEVERITY_CRITICAL))).issues
    assert critical and all(i.severity == pb.SEVERITY_CRITICAL for i in critical)
    assert len(critical) == sum(i.severity == pb.SEVERITY_CRITICAL for i in everything)
    fx = (await served.stub.ListIssues(pb.ListIssuesRequest(kinds=[pb.ISSUE_KIND_FX_TRIANGULATION]))).issues
    assert (
        fx
        and {i.currency_pair for i in fx} <= {"EURGBP", "EURJPY", "GBPJPY"}
        and {i.vendor for i in fx} == {"cross"}
    )
    one = (await served.stub.ListIssues(pb.ListIssuesRequest(instrument_id="US-PLSN"))).issues
    assert one and {i.instrument_id for i in one} == {"US-PLSN"}
    request = pb.ListIssuesRequest()
    request.dates.start.CopyFrom(date_to_proto(DAY))
    assert {i.issue_id for i in (await served.stub.ListIssues(request)).issues} == {
        i.issue_id for i in everything if _date(i.value_date) >= DAY
    }


async def test_bad_list_requests_say_which_field(served: Served) -> None:
    said = await refusal(
        served.stub.ListIssues(pb.ListIssuesRequest(page_token="x1")), grpc.StatusCode.INVALID_ARGUMENT
    )
    assert "page_token" in said.violations
    said = await refusal(
        served.stub.ListIssues(pb.ListIssuesRequest(kinds=[pb.IssueKind.ValueType(99)])),
        grpc.StatusCode.INVALID_ARGUMENT,
    )
    assert said.violations == {"kinds[0]": "99 is not an IssueKind"}
    said = await refusal(
        served.stub.ListIssues(pb.ListIssuesRequest(instrument_id="NOPE")), grpc.StatusCode.NOT_FOUND
    )
    assert "NOPE" in said.message
    request = pb.ListIssuesRequest()
    request.dates.start.CopyFrom(date_to_proto(DAY))
    request.dates.end.CopyFrom(date_to_proto(DAY - dt.timedelta(days=1)))
    said = await refusal(served.stub.ListIssues(request), grpc.StatusCode.INVALID_ARGUMENT)
    assert "dates" in said.violations


async def test_acknowledging_an_open_issue_shows_at_once_and_refuses_the_unknown_and_the_resolved(
    served: Served,
) -> None:
    open_issues = (await served.stub.ListIssues(pb.ListIssuesRequest(status=pb.ISSUE_STATUS_OPEN))).issues
    target = open_issues[0].issue_id
    acknowledged = await served.stub.AcknowledgeIssue(pb.AcknowledgeIssueRequest(issue_id=target))
    assert (acknowledged.issue_id, acknowledged.status) == (target, pb.ISSUE_STATUS_ACKNOWLEDGED)
    listed = (await served.stub.ListIssues(pb.ListIssuesRequest(status=pb.ISSUE_STATUS_ACKNOWLEDGED))).issues
    assert [i.issue_id for i in listed] == [target]
    still_open = (await served.stub.ListIssues(pb.ListIssuesRequest(status=pb.ISSUE_STATUS_OPEN))).issues
    assert target not in {i.issue_id for i in still_open} and len(still_open) == len(open_issues) - 1
    said = await refusal(
        served.stub.AcknowledgeIssue(pb.AcknowledgeIssueRequest(issue_id="dq-999")), grpc.StatusCode.NOT_FOUND
    )
    assert said.message == "no issue 'dq-999'; ListIssues names them"
    resolved = (
        await served.stub.ListIssues(pb.ListIssuesRequest(status=pb.ISSUE_STATUS_RESOLVED, page_size=1))
    ).issues[0]
    said = await refusal(
        served.stub.AcknowledgeIssue(pb.AcknowledgeIssueRequest(issue_id=resolved.issue_id)),
        grpc.StatusCode.FAILED_PRECONDITION,
    )
    assert "resolved" in said.message
    await refusal(
        served.stub.AcknowledgeIssue(pb.AcknowledgeIssueRequest()), grpc.StatusCode.INVALID_ARGUMENT
    )


async def test_an_acknowledgement_reaches_the_issues_change_feed_at_the_next_day_end(served: Served) -> None:
    target = (
        (await served.stub.ListIssues(pb.ListIssuesRequest(status=pb.ISSUE_STATUS_OPEN))).issues[0].issue_id
    )
    await served.stub.AcknowledgeIssue(pb.AcknowledgeIssueRequest(issue_id=target))
    head = served.store.head()
    # A restarted dq (the state as of the stored day end) checks the next day.
    consumer = await asyncio.to_thread(fill, served.store, 0)
    world = run()
    await consumer.apply([event_to_proto(e) for e in world.days[FILLED_DAYS].events])
    changes = served.store.changes_after(head, 100)
    acknowledged = [c for c in changes if c.issue.issue_id == target]
    assert acknowledged and acknowledged[0].issue.acknowledged


async def test_the_quarantine_now_and_as_of_a_date(served: Served) -> None:
    now = await served.stub.GetQuarantine(pb.GetQuarantineRequest())
    assert [(e.instrument_id, e.vendor) for e in now.entries] == [
        ("US-PLSN", "vendor_b"),
        ("US-SUMT", "vendor_b"),
    ]
    assert all(_date(e.rejected_date) == DAY and e.HasField("last_good_value") for e in now.entries)
    assert now.as_of_seq == served.store.load()[0]
    request = pb.GetQuarantineRequest(as_of_date=date_to_proto(DAY))
    assert [e.instrument_id for e in (await served.stub.GetQuarantine(request)).entries] == [
        "US-PLSN",
        "US-SUMT",
    ]
    # A day with a bad primary print, rejected and since resolved, is still what that day rejected.
    primary = [
        i
        for i in (await served.stub.ListIssues(pb.ListIssuesRequest(page_size=1000))).issues
        if i.vendor == "primary"
    ]
    assert primary
    day = _date(primary[0].value_date)
    rejected = (
        await served.stub.GetQuarantine(pb.GetQuarantineRequest(as_of_date=date_to_proto(day)))
    ).entries
    assert primary[0].instrument_id in {e.instrument_id for e in rejected if e.vendor == "primary"}
    later = pb.GetQuarantineRequest(as_of_date=date_to_proto(DAY + dt.timedelta(days=3)))
    said = await refusal(served.stub.GetQuarantine(later), grpc.StatusCode.OUT_OF_RANGE)
    assert said.reason == "NOT_CHECKED_YET" and said.metadata == {"as_of_date": DAY.isoformat()}
    # Before the first day dq checked there is no answer either ("nothing rejected" would be a guess).
    before = pb.GetQuarantineRequest(as_of_date=date_to_proto(dt.date(2020, 1, 31)))
    said = await refusal(served.stub.GetQuarantine(before), grpc.StatusCode.OUT_OF_RANGE)
    assert said.reason == "NOT_CHECKED" and said.violations == {
        "as_of_date": "a day from 2020-02-03 to 2020-03-27"
    }


async def test_status_counts_each_check_and_says_critical_while_something_is_quarantined(
    served: Served,
) -> None:
    status = await served.stub.GetStatus(pb.GetStatusRequest())
    assert _date(status.as_of_date) == DAY and status.applied_seq == served.store.load()[0]
    assert (status.open_issue_count, status.quarantined_count, status.health) == (4, 2, "critical")
    by_severity = {c.severity: c.count for c in status.open_by_severity}
    assert by_severity[pb.SEVERITY_CRITICAL] == 2 and by_severity[pb.SEVERITY_WARNING] == 2
    checks = {c.check: c for c in status.checks}
    assert set(checks) == {c.check_id for c in served.context.checks.checks}
    stale = checks["price.stale"]
    # Every failing evaluation counts, including those that updated an open issue.
    stored = served.store.issues(IssueFilter(), 0, 1000)
    assert stale.failed_count == sum(i.occurrences for i in stored if i.check_id == "price.stale")
    assert stale.open_issue_count == 2 and stale.checked_count > stale.failed_count
    families = {f.family: f for f in status.families}
    assert list(families) == ["fx", "holdings", "price", "reference"]
    assert (families["price"].status, families["price"].open_issue_count) == ("critical", 4)
    assert families["price"].failed_count == sum(
        c.failed_count for n, c in checks.items() if n.startswith("price.")
    )
    assert (families["fx"].status, families["holdings"].status, families["reference"].status) == ("ok",) * 3
    said = await refusal(
        served.stub.GetStatus(pb.GetStatusRequest(mandate_id="NOPE")), grpc.StatusCode.NOT_FOUND
    )
    assert "BAL-USD" in said.message
    holdings = await served.stub.GetStatus(pb.GetStatusRequest(mandate_id="BAL-USD"))
    assert {c.check.split(".")[0] for c in holdings.checks} == {"holdings"} and holdings.open_issue_count == 0


async def test_checks_are_listed_from_their_source_and_page(served: Served) -> None:
    listed = await served.stub.ListChecks(pb.ListChecksRequest())
    assert listed.source == "defaults"
    assert [c.check_id for c in listed.checks] == [c.check_id for c in served.context.checks.checks]
    first = await served.stub.ListChecks(pb.ListChecksRequest(page_size=2))
    assert len(first.checks) == 2 and first.next_page_token == "2"
    divergence = next(c for c in listed.checks if c.check_id == "price.vendor_divergence.equity")
    assert divergence.rule == "vendor_divergence" and divergence.severity == pb.SEVERITY_CRITICAL
    assert divergence.subject == "asset_class=EQUITY" and "tolerance" in divergence.thresholds


async def test_check_prices_vets_without_recording(served: Served) -> None:
    head = served.store.head()
    official = next(
        e.payload
        for e in run().days[FILLED_DAYS - 1].events
        if isinstance(e.payload, PriceQuote)
        and e.kind == "price.tick"
        and e.payload.instrument_id == "US-NWSF"
    )
    asked = pb.CheckPricesRequest(
        prices=[
            pb.PriceToCheck(
                instrument_id="US-NWSF", price=common_pb2.Decimal(value=str(official.price)), vendor="primary"
            ),
            pb.PriceToCheck(instrument_id="US-NWSF", price=common_pb2.Decimal(value="0"), vendor="primary"),
        ]
    )
    reply = await served.stub.CheckPrices(asked)
    assert [v.accepted for v in reply.verdicts] == [True, False]
    assert (reply.accepted_count, reply.rejected_count) == (1, 1)
    assert pb.ISSUE_KIND_PRICE_NON_POSITIVE in {i.kind for i in reply.verdicts[1].issues}
    assert served.store.head() == head  # nothing recorded
    said = await refusal(
        served.stub.CheckPrices(
            pb.CheckPricesRequest(
                prices=[pb.PriceToCheck(instrument_id="NOPE", price=common_pb2.Decimal(value="1"))]
            )
        ),
        grpc.StatusCode.NOT_FOUND,
    )
    assert "prices[0].instrument_id" in said.violations
    bad_vendor = pb.PriceToCheck(instrument_id="US-NWSF", price=common_pb2.Decimal(value="1"), vendor="x")
    said = await refusal(
        served.stub.CheckPrices(pb.CheckPricesRequest(prices=[bad_vendor])), grpc.StatusCode.INVALID_ARGUMENT
    )
    assert said.violations == {"prices[0].vendor": "'x' is not primary or vendor_b"}
    old = pb.PriceToCheck(
        instrument_id="US-NWSF",
        price=common_pb2.Decimal(value="1"),
        price_date=date_to_proto(dt.date(2020, 2, 3)),
    )
    await refusal(served.stub.CheckPrices(pb.CheckPricesRequest(prices=[old])), grpc.StatusCode.OUT_OF_RANGE)
    far = pb.PriceToCheck(
        instrument_id="US-NWSF",
        price=common_pb2.Decimal(value="1"),
        price_date=date_to_proto(dt.date(9999, 12, 31)),
    )
    said = await refusal(
        served.stub.CheckPrices(pb.CheckPricesRequest(prices=[far])), grpc.StatusCode.OUT_OF_RANGE
    )
    assert "prices[0].price_date" in said.violations


async def test_check_prices_with_none_given_vets_the_latest_price_of_each_instrument_from_each_vendor(
    served: Served,
) -> None:
    reply = await served.stub.CheckPrices(pb.CheckPricesRequest())
    day = run().days[FILLED_DAYS - 1]
    published = {
        (e.payload.instrument_id, e.payload.vendor): e.payload.price
        for e in day.events
        if isinstance(e.payload, PriceQuote)
    }
    vetted = {(v.price.instrument_id, v.price.vendor): Decimal(v.price.price.value) for v in reply.verdicts}
    assert vetted == published
    assert {_date(v.price.price_date) for v in reply.verdicts} == {DAY}
    # The day's two stale vendor_b prints are rejected again; the rest of the day's prices pass.
    rejected = sorted(v.price.instrument_id for v in reply.verdicts if not v.accepted)
    assert rejected == ["US-PLSN", "US-SUMT"] and reply.rejected_count == 2


async def _next(call: Any) -> pb.IssueChange:
    message = await asyncio.wait_for(call.read(), WAIT_S)
    assert isinstance(message, pb.IssueChange), "the watch ended"
    return message


async def test_a_watch_from_zero_sends_the_open_issues_then_the_next_day_ends_changes(served: Served) -> None:
    call = served.stub.WatchIssues(pb.WatchIssuesRequest())
    head = served.store.head()
    current = [await _next(call) for _ in range(4)]
    assert {c.kind for c in current} == {pb.ISSUE_CHANGE_KIND_CURRENT} and {
        c.change_seq for c in current
    } == {head}
    # The next day end, committed from a worker thread as the follower does: the four resolve.
    consumer = await asyncio.to_thread(fill, served.store, 0)
    events = [event_to_proto(e) for e in run().days[FILLED_DAYS].events]
    await consumer.apply(events)
    live = [await _next(call) for _ in range(served.store.head() - head)]
    assert [c.change_seq for c in live] == list(range(head + 1, served.store.head() + 1))
    resolved = {c.issue.issue_id for c in live if c.kind == pb.ISSUE_CHANGE_KIND_RESOLVED}
    assert {c.issue.issue_id for c in current} <= resolved
    call.cancel()
    # Resuming past the head is refused with where to resume from.
    said = await refusal(
        _first(served.stub.WatchIssues(pb.WatchIssuesRequest(after_change_seq=10**6))),
        grpc.StatusCode.OUT_OF_RANGE,
    )
    assert said.reason == "CURSOR_AHEAD"


async def _first(call: Any) -> Any:
    return await call.read()
