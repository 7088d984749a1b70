"""WatchNav through a real in-process server over a real store: each mandate's latest NAV first, then
each day end the consumer commits (from a worker thread, as it does) reaches the watch that waited for
it; a watch resumes after a seq; a cancelled watch frees its waiter; bad filters are refused naming
the field; a draining reporting ends every watch saying where to resume.

The day ends are a simulated month valued by the real DailyValuer, as reporting's consumer does."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import grpc.aio
import pytest

from opsuite.reporting.v1 import reporting_pb2 as pb
from opsuite.reporting.v1 import reporting_pb2_grpc
from services.common.convert import date_to_proto
from services.reporting.domain.daily import DailyValuer, ValuedDay
from services.reporting.ledger_view import no_ledger
from services.reporting.server import ReportingContext, ReportingServicer, register
from services.reporting.store import ReportingStore
from tests.ledger.domain.sim_runs import Run, simulated_run
from tests.support.refusals import refusal
from tests.support.waiting import wait_until

WAIT_S = 10.0  # a deadline for a message that must come, not a pause
KEPT = 8  # day ends committed before the watches start; the rest are committed while they watch


@dataclass
class Served:
    stub: reporting_pb2_grpc.ReportingServiceStub
    store: ReportingStore
    servicer: ReportingServicer
    later: list[tuple[int, list[ValuedDay]]]  # the day ends still to commit, in order

    async def commit_next(self) -> tuple[int, list[ValuedDay]]:
        seq, days = self.later.pop(0)
        await asyncio.to_thread(self.store.commit_day_end, seq, "{}", days)
        return seq, days


@pytest.fixture(scope="module")
def month() -> tuple[Run, list[tuple[int, list[ValuedDay]]]]:
    run = simulated_run(11, 14, 0.0)
    valuer = DailyValuer(run.mandates, run.instruments)
    day_ends = []
    for event in run.events():
        valued = valuer.apply(event)
        if valued:
            day_ends.append((event.seq, valued))
    return run, day_ends


@pytest.fixture
async def served(
    tmp_path: Path, month: tuple[Run, list[tuple[int, list[ValuedDay]]]]
) -> AsyncIterator[Served]:
    run, day_ends = month
    store = ReportingStore(tmp_path / "reporting.sqlite3")
    for seq, days in day_ends[:KEPT]:
        store.commit_day_end(seq, "{}", days)
    context = ReportingContext(
        {m.mandate_id: m for m in run.mandates}, {i.instrument_id: i for i in run.instruments}, no_ledger
    )
    servicer = ReportingServicer(store, context)
    server = grpc.aio.server()
    register(server, servicer)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            yield Served(
                reporting_pb2_grpc.ReportingServiceStub(channel), store, servicer, list(day_ends[KEPT:])
            )
    finally:
        servicer.close()
        await server.stop(None)
        store.close()


async def _next(call: Any) -> pb.NavChange:
    message = await asyncio.wait_for(call.read(), WAIT_S)
    assert message is not grpc.aio.EOF, "the watch ended"
    assert isinstance(message, pb.NavChange)
    return message


async def _waiting(served: Served, count: int) -> None:
    await asyncio.to_thread(
        wait_until,
        lambda: served.servicer.watchers.waiting == count,
        timeout=WAIT_S,
        what=f"{count} waiter(s)",
    )


def _mandates(days: Sequence[ValuedDay]) -> list[str]:
    return sorted(d.valuation.mandate_id for d in days)


async def test_the_latest_nav_of_each_mandate_then_each_day_end_committed_while_watching(
    served: Served,
) -> None:
    summaries = (await served.stub.ListMandates(pb.ListMandatesRequest())).mandates
    call = served.stub.WatchNav(pb.WatchNavRequest())
    current = [await _next(call) for _ in summaries]
    assert [c.mandate_id for c in current] == [s.mandate_id for s in summaries]  # one day end, by id
    for change, summary in zip(current, summaries, strict=True):
        assert change.current
        assert (change.as_of_date, change.nav.nav, change.nav.nav_per_unit) == (
            summary.nav_date,
            summary.nav,
            summary.nav_per_unit,
        )
        assert change.return_ytd == pytest.approx(summary.return_ytd, abs=0)  # ListMandates' figure
        assert change.HasField("daily_return")
    await _waiting(served, 1)
    seq, days = await served.commit_next()
    live = [await _next(call) for _ in days]
    assert {c.as_of_seq for c in live} == {seq} and not any(c.current for c in live)
    assert [c.mandate_id for c in live] == _mandates(days)
    by_id = {d.valuation.mandate_id: d for d in days}
    for change in live:
        day = by_id[change.mandate_id]
        assert change.as_of_date == date_to_proto(day.valuation.date)
        assert change.nav.nav.amount.value == str(day.valuation.nav)
        assert change.nav.nav.currency == change.base_currency == day.valuation.base_currency
        assert change.nav.units_outstanding.value == str(day.dealt.units)
        assert change.daily_return == float(day.dealt.daily_return or 0)
        assert change.net_flows.amount.value == str(day.valuation.flows)
    call.cancel()
    await _waiting(served, 0)  # the cancelled watch no longer waits


async def test_one_mandate_resumed_after_a_seq_replays_then_follows(served: Served) -> None:
    latest = await _next(served.stub.WatchNav(pb.WatchNavRequest()))
    mandate = latest.mandate_id
    first = served.store.bounds(mandate)
    assert first is not None
    history = served.store.history(mandate, *first)
    resume_after = history[-3].seq  # the last two kept day ends come again
    call = served.stub.WatchNav(pb.WatchNavRequest(mandate_id=mandate, after_seq=resume_after))
    replayed = [await _next(call) for _ in range(2)]
    assert [c.as_of_seq for c in replayed] == [p.seq for p in history[-2:]]
    assert {c.mandate_id for c in replayed} == {mandate} and not any(c.current for c in replayed)
    await _waiting(served, 2)
    seq, _ = await served.commit_next()
    change = await _next(call)
    assert (change.mandate_id, change.as_of_seq) == (mandate, seq)


async def test_bad_filters_are_refused_naming_the_field(served: Served) -> None:
    said = await refusal(
        served.stub.WatchNav(pb.WatchNavRequest(mandate_id="M" * 300)).read(),
        grpc.StatusCode.INVALID_ARGUMENT,
    )
    assert (
        set(said.violations) == {"mandate_id"} and "at most 256 characters" in said.violations["mandate_id"]
    )
    said = await refusal(
        served.stub.WatchNav(pb.WatchNavRequest(mandate_id="NOPE")).read(), grpc.StatusCode.NOT_FOUND
    )
    assert said.message.startswith("unknown mandate 'NOPE'") and said.violations == {
        "mandate_id": "unknown mandate"
    }
    head = served.store.cursor()
    said = await refusal(
        served.stub.WatchNav(pb.WatchNavRequest(after_seq=head + 1)).read(), grpc.StatusCode.OUT_OF_RANGE
    )
    assert said.violations == {"after_seq": f"at most {head}"} and said.metadata == {"head": str(head)}
    assert served.servicer.watchers.waiting == 0


async def test_a_draining_reporting_ends_each_watch_saying_where_to_resume(served: Served) -> None:
    mandates = len(served.servicer.context.mandates)
    call = served.stub.WatchNav(pb.WatchNavRequest())
    current = [await _next(call) for _ in range(mandates)][-1]
    await _waiting(served, 1)
    served.servicer.close()
    said = await refusal(call.read(), grpc.StatusCode.UNAVAILABLE)
    assert said.message == (
        f"reporting is shutting down; watch again with after_seq={current.as_of_seq} to miss nothing"
    )
    await refusal(served.stub.WatchNav(pb.WatchNavRequest()).read(), grpc.StatusCode.UNAVAILABLE)


def test_a_day_end_of_many_mandates_is_never_split_between_reads(
    tmp_path: Path, month: tuple[Run, list[tuple[int, list[ValuedDay]]]]
) -> None:
    _, day_ends = month
    store = ReportingStore(tmp_path / "reporting.sqlite3")
    try:
        for seq, days in day_ends:
            store.commit_day_end(seq, "{}", days)
        seen: list[tuple[int, str]] = []
        position, reads = 0, 0
        while True:
            until, rows = store.navs_after(position, days=3)
            seen += [(r.day.valuation.seq, r.day.valuation.mandate_id) for r in rows]
            reads += 1
            if until == position:
                break
            position = until
        expected = [(seq, d.valuation.mandate_id) for seq, days in day_ends for d in sorted(days, key=_key)]
        assert seen == expected and reads == -(-len(day_ends) // 3) + 1
    finally:
        store.close()


def _key(day: ValuedDay) -> str:
    return day.valuation.mandate_id
