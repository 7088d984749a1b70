"""UpdateBreak's audit trail and refusals, RunCheck, through a real server and client."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Sequence

import grpc

from opsuite.recon.v1 import recon_pb2 as pb
from services.common.limits import MAX_NAME_CHARS, MAX_TEXT_CHARS
from services.recon.domain.breaks import break_id_for
from services.recon.domain.records import CheckRun
from services.recon.store import ChangeKind
from tests.recon.service.conftest import SIM_NOW, Served, ServeFactory, refused
from tests.recon.store.scenario import MONDAY, TUESDAY, USD_FUND, WED, check

AAPL = break_id_for(MONDAY[0].item_key, 1)
SAP = break_id_for(MONDAY[2].item_key, 1)
USD_CASH = break_id_for(MONDAY[1].item_key, 1)


async def test_update_records_each_action_with_who_and_when(served: Served) -> None:
    head = served.store.head()
    detail = await served.stub.UpdateBreak(
        pb.UpdateBreakRequest(
            break_id=AAPL,
            actor="ana",
            assignee="bo",
            comment="asked the custodian",
            status=pb.BREAK_STATUS_INVESTIGATING,
        )
    )
    assert (detail.record.assignee, detail.record.status) == ("bo", pb.BREAK_STATUS_INVESTIGATING)
    assert detail.record.updated_at.ToDatetime(tzinfo=dt.UTC) == SIM_NOW
    opened, escalated, assigned, moved, commented = detail.history
    assert (opened.kind, escalated.kind) == (pb.ACTION_KIND_OPENED, pb.ACTION_KIND_ESCALATED)
    assert (assigned.kind, assigned.assignee, assigned.actor) == (pb.ACTION_KIND_ASSIGNED, "bo", "ana")
    assert (moved.kind, moved.from_status, moved.to_status) == (
        pb.ACTION_KIND_STATUS_CHANGED,
        pb.BREAK_STATUS_OPEN,
        pb.BREAK_STATUS_INVESTIGATING,
    )
    assert (commented.kind, commented.comment) == (pb.ACTION_KIND_COMMENTED, "asked the custodian")
    for action in (assigned, moved, commented):
        assert action.actor == "ana" and action.sim_time.ToDatetime(tzinfo=dt.UTC) == SIM_NOW
        assert action.at.ToDatetime(tzinfo=dt.UTC) > SIM_NOW  # wall-clock time, not simulated
    # One change in the feed, named by the latest action.
    [change] = served.store.change_feed(head, 10)
    assert change.change_seq == head + 1 and change.kind is ChangeKind.UPDATED
    assert change.action is not None and change.action.action_id == commented.action_id
    assert change.record.assignee == "bo"
    # Unassign, then resolve: the resolution is a RESOLVED change.
    unassigned = await served.stub.UpdateBreak(pb.UpdateBreakRequest(break_id=AAPL, actor="bo", assignee=""))
    assert unassigned.record.assignee == "" and unassigned.history[-1].kind == pb.ACTION_KIND_ASSIGNED
    done = await served.stub.UpdateBreak(
        pb.UpdateBreakRequest(
            break_id=AAPL, actor="bo", status=pb.BREAK_STATUS_RESOLVED, comment="custodian fixed it"
        )
    )
    assert done.record.status == pb.BREAK_STATUS_RESOLVED and done.record.HasField("resolved_at")
    assert served.store.change_feed(head + 2, 10)[0].kind is ChangeKind.RESOLVED


async def test_update_refusals_change_nothing(served: Served) -> None:
    await served.stub.UpdateBreak(pb.UpdateBreakRequest(break_id=SAP, actor="ana", assignee="bo"))
    before = (served.store.head(), served.store.counts(), served.store.get_break(SAP))

    async def update_refused(
        code: grpc.StatusCode, **fields: object
    ) -> tuple[str, dict[str, str], dict[str, str]]:
        return await refused(served.stub.UpdateBreak(pb.UpdateBreakRequest(**fields)), code)  # type: ignore[arg-type]

    invalid = grpc.StatusCode.INVALID_ARGUMENT
    _, violations, _ = await update_refused(invalid, break_id=SAP, actor="  ", comment="x")
    assert set(violations) == {"actor"}
    _, violations, _ = await update_refused(invalid, break_id=SAP, actor="ana")
    assert set(violations) == {"assignee", "comment", "status"}
    _, violations, _ = await update_refused(invalid, actor="ana", comment="x")
    assert set(violations) == {"break_id"}
    _, violations, _ = await update_refused(invalid, break_id=SAP, actor="ana", status=42)
    assert set(violations) == {"status"}
    _, violations, _ = await update_refused(invalid, break_id=SAP, actor="ana", assignee="bo")
    assert violations == {"assignee": "already assigned to bo"}
    _, violations, _ = await update_refused(invalid, break_id=SAP, actor="ana", status=pb.BREAK_STATUS_OPEN)
    assert violations == {"status": "already OPEN"}
    message, violations, _ = await update_refused(
        grpc.StatusCode.NOT_FOUND, break_id="BRK-x", actor="ana", comment="x"
    )
    assert "BRK-x" in message and "break_id" in violations
    # The USD cash break resolved itself on Tuesday: it cannot be reopened or assigned.
    message, _, metadata = await update_refused(
        grpc.StatusCode.FAILED_PRECONDITION, break_id=USD_CASH, actor="ana", status=pb.BREAK_STATUS_OPEN
    )
    assert "RESOLVED -> OPEN is not allowed" in message and "next check opens a new break" in message
    assert metadata == {"break_id": USD_CASH, "status": "RESOLVED"}
    message, _, _ = await update_refused(
        grpc.StatusCode.FAILED_PRECONDITION, break_id=USD_CASH, actor="ana", assignee="bo", comment="mine"
    )
    assert "cannot be assigned" in message
    # Free text past its limit (a 1 MB comment filled recon's memory and its replies): refused, with
    # the limit, one character past it; at the limit it would be accepted (the check is len > limit).
    _, violations, _ = await update_refused(
        invalid, break_id=SAP, actor="a" * (MAX_NAME_CHARS + 1), comment="c" * (MAX_TEXT_CHARS + 1)
    )
    assert violations == {
        "actor": f"at most {MAX_NAME_CHARS:,} characters, got {MAX_NAME_CHARS + 1:,}",
        "comment": f"at most {MAX_TEXT_CHARS:,} characters, got {MAX_TEXT_CHARS + 1:,}",
    }
    assert (served.store.head(), served.store.counts(), served.store.get_break(SAP)) == before
    # A comment on a closed break is allowed: it is history, not a move.
    closed = await served.stub.UpdateBreak(
        pb.UpdateBreakRequest(break_id=USD_CASH, actor="ana", comment="noted")
    )
    assert closed.history[-1].comment == "noted" and closed.record.status == pb.BREAK_STATUS_RESOLVED
    longest = await served.stub.UpdateBreak(
        pb.UpdateBreakRequest(break_id=USD_CASH, actor="a" * MAX_NAME_CHARS, comment="c" * MAX_TEXT_CHARS)
    )
    assert longest.history[-1].comment == "c" * MAX_TEXT_CHARS


async def test_run_check_without_a_checker_is_refused(served: Served) -> None:
    message, _, _ = await refused(
        served.stub.RunCheck(pb.RunCheckRequest()), grpc.StatusCode.FAILED_PRECONDITION
    )
    assert "no checker configured" in message


async def test_run_check_calls_the_checker_and_returns_its_runs(serve: ServeFactory) -> None:
    asked: list[str | None] = []

    async def run_check(mandate: str | None) -> Sequence[CheckRun]:
        asked.append(mandate)
        store = served.store
        await asyncio.to_thread(check, store, WED, TUESDAY)
        return [r for r in store.latest_runs() if mandate is None or r.mandate_id == mandate]

    async with serve(run_check=run_check) as served:
        everything = await served.stub.RunCheck(pb.RunCheckRequest())
        assert {(r.mandate_id, r.as_of_date.day) for r in everything.runs} == {
            ("BAL-USD", 13),
            ("GRO-EUR", 13),
        }
        assert len(everything.runs) == 4
        one = await served.stub.RunCheck(pb.RunCheckRequest(mandate_id=USD_FUND))
        assert {r.mandate_id for r in one.runs} == {USD_FUND}
        _, violations, _ = await refused(
            served.stub.RunCheck(pb.RunCheckRequest(comparison=99)), grpc.StatusCode.INVALID_ARGUMENT
        )
        assert set(violations) == {"comparison"}
    assert asked == [None, USD_FUND]


async def test_run_check_while_recon_drains_is_unavailable_and_runs_nothing(serve: ServeFactory) -> None:
    asked: list[str | None] = []

    async def run_check(mandate: str | None) -> Sequence[CheckRun]:
        asked.append(mandate)
        return []

    async with serve(run_check=run_check) as served:
        served.servicer.close()  # shutdown began (on_draining)
        message, _, _ = await refused(served.stub.RunCheck(pb.RunCheckRequest()), grpc.StatusCode.UNAVAILABLE)
    assert "recon is shutting down" in message and "retry RunCheck" in message
    assert asked == []


async def test_writing_a_break_off_hands_it_to_the_write_off_poster(serve: ServeFactory) -> None:
    written: list[str] = []

    async def write_off(break_id: str) -> None:
        written.append(break_id)

    async with serve(write_off=write_off) as s:
        (first, second, *_) = s.store.open_breaks()
        await s.stub.UpdateBreak(
            pb.UpdateBreakRequest(break_id=first.break_id, actor="ana", comment="looking")
        )
        assert written == []  # only a write-off posts anything
        detail = await s.stub.UpdateBreak(
            pb.UpdateBreakRequest(break_id=second.break_id, actor="ana", status=pb.BREAK_STATUS_WRITTEN_OFF)
        )
        assert written == [second.break_id]
        assert detail.record.status == pb.BREAK_STATUS_WRITTEN_OFF


async def test_list_breaks_filters_the_items_to_work_and_a_parents_children(served: Served) -> None:
    everything = (await served.stub.ListBreaks(pb.ListBreaksRequest(page_size=100))).breaks
    top = (await served.stub.ListBreaks(pb.ListBreaksRequest(top_level_only=True))).breaks
    assert [b.break_id for b in top] == [b.break_id for b in everything if not b.parent_break_id]
    none = await served.stub.ListBreaks(pb.ListBreaksRequest(parent_break_id=everything[0].break_id))
    assert list(none.breaks) == []
    _, violations, _ = await refused(
        served.stub.ListBreaks(pb.ListBreaksRequest(parent_break_id="B" * 300)),
        grpc.StatusCode.INVALID_ARGUMENT,
    )
    assert "parent_break_id" in violations
