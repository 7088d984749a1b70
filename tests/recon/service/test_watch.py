"""WatchBreaks: the open breaks as they are, replay from a cursor, then live changes as they are
committed (by UpdateBreak or by a check in another thread), filtered by mandate and kind."""

from __future__ import annotations

import asyncio
from typing import Any

import grpc

from opsuite.recon.v1 import recon_pb2 as pb
from services.recon.domain.breaks import break_id_for
from services.recon.domain.records import BreakKind
from tests.recon.service.conftest import Served, refused
from tests.recon.store.scenario import EUR_FUND, MONDAY, TUESDAY, WED, check, diff

AAPL = break_id_for(MONDAY[0].item_key, 1)
WAIT_S = 10.0  # a deadline for a message that must come, not a pause


async def next_change(call: Any) -> pb.BreakChange:
    message = await asyncio.wait_for(call.read(), WAIT_S)
    assert message is not grpc.aio.EOF, "the watch ended"
    return message


async def test_watch_from_zero_sends_the_open_breaks_then_a_later_update(served: Served) -> None:
    call = served.stub.WatchBreaks(pb.WatchBreaksRequest())
    head = served.store.head()
    current = [await next_change(call) for _ in range(3)]
    assert {c.kind for c in current} == {pb.CHANGE_KIND_CURRENT} and {c.change_seq for c in current} == {head}
    assert sorted(c.record.instrument_id for c in current) == ["AAPL", "MSFT", "SAP"]
    # The update is made after the watch started; the watch delivers it.
    await served.stub.UpdateBreak(pb.UpdateBreakRequest(break_id=AAPL, actor="ana", assignee="bo"))
    change = await next_change(call)
    assert (change.change_seq, change.kind, change.record.break_id, change.record.assignee) == (
        head + 1,
        pb.CHANGE_KIND_UPDATED,
        AAPL,
        "bo",
    )
    assert (change.action.kind, change.action.actor) == (pb.ACTION_KIND_ASSIGNED, "ana")
    call.cancel()


async def test_watch_resumes_after_a_cursor_then_follows_a_check_from_another_thread(served: Served) -> None:
    call = served.stub.WatchBreaks(pb.WatchBreaksRequest(after_change_seq=3))
    replayed = [await next_change(call) for _ in range(4)]  # Tuesday's four changes, in order
    assert [c.change_seq for c in replayed] == [4, 5, 6, 7]
    assert [c.kind for c in replayed] == [
        pb.CHANGE_KIND_RESOLVED,
        pb.CHANGE_KIND_AGED,
        pb.CHANGE_KIND_AGED,
        pb.CHANGE_KIND_OPENED,
    ]
    # The day-end check commits from a worker thread, as the orchestrator will.
    wednesday = (*TUESDAY, diff("SIE", "5", mandate=EUR_FUND, base="900"))
    _, result = await asyncio.to_thread(check, served.store, WED, wednesday)
    live = [await next_change(call) for _ in range(len(result.changes))]
    assert (
        [c.change_seq for c in live]
        == [c.change_seq for c in result.changes]
        == list(range(8, 8 + len(live)))
    )
    assert "SIE" in {c.record.instrument_id for c in live if c.kind == pb.CHANGE_KIND_OPENED}
    call.cancel()


async def test_watch_filters_by_mandate_and_kind(served: Served) -> None:
    eur = served.stub.WatchBreaks(pb.WatchBreaksRequest(mandate_id=EUR_FUND))
    cash = served.stub.WatchBreaks(
        pb.WatchBreaksRequest(after_change_seq=7, kinds=[pb.BREAK_KIND_CASH_MISMATCH])
    )
    first = await next_change(eur)
    assert (first.kind, first.record.instrument_id) == (pb.CHANGE_KIND_CURRENT, "SAP")
    # Changes to BAL-USD breaks are skipped by the EUR watch; the next one it sees is EUR's.
    await served.stub.UpdateBreak(pb.UpdateBreakRequest(break_id=AAPL, actor="ana", comment="usd only"))
    wednesday = (
        *TUESDAY,
        diff("SIE", "5", mandate=EUR_FUND, base="900"),
        diff("USD", "3.00", scope=MONDAY[1].scope, kind=BreakKind.CASH_MISMATCH),
    )
    await asyncio.to_thread(check, served.store, WED, wednesday)
    seen_eur = [await next_change(eur) for _ in range(2)]  # SAP aged, SIE opened
    assert {c.record.mandate_id for c in seen_eur} == {EUR_FUND}
    assert {(c.kind, c.record.instrument_id) for c in seen_eur} == {
        (pb.CHANGE_KIND_AGED, "SAP"),
        (pb.CHANGE_KIND_OPENED, "SIE"),
    }
    reopened = await next_change(cash)
    assert (reopened.kind, reopened.record.currency, reopened.action.kind) == (
        pb.CHANGE_KIND_OPENED,
        "USD",
        pb.ACTION_KIND_REOPENED,
    )
    eur.cancel()
    cash.cancel()


async def test_watch_refusals(served: Served) -> None:
    message, violations, metadata = await refused(
        served.stub.WatchBreaks(pb.WatchBreaksRequest(after_change_seq=99)).read(),
        grpc.StatusCode.OUT_OF_RANGE,
    )
    assert (
        "beyond the latest change 7" in message
        and "after_change_seq" in violations
        and metadata == {"head": "7"}
    )
    _, violations, _ = await refused(
        served.stub.WatchBreaks(pb.WatchBreaksRequest(kinds=[pb.BREAK_KIND_QUANTITY_MISMATCH, 77])).read(),
        grpc.StatusCode.INVALID_ARGUMENT,
    )
    assert set(violations) == {"kinds[1]"}
