"""A live day goes out in two parts (services/market/runtime.py): its events up to the custodian's
statements at the opening, its close (clock.day_end) two thirds of a slot later. Until the close
goes out nothing shows it: not the stream (from the in-memory tail or, for a subscriber catching up,
from the event log, which already holds the whole day), not GetClock's head, not GetSnapshot. A stop
in between closes the day at once, so what was published is whole days.

The clock runs at 0.4 business days a second: the first day opens 2.5 s after the start and closes
1.67 s later, the margin the checks in between have."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import grpc.aio
import pytest

from opsuite.market.v1 import market_pb2 as pb
from opsuite.market.v1 import market_pb2_grpc
from services.common.eventlog import open_event_log
from services.market.fred import load_macro
from services.market.runtime import CLOSE_AFTER_SLOT, ClockSettings, MarketRuntime
from services.market.server import MAX_BATCH, MarketServicer, register
from services.market.sim.engine import SimConfig
from tests.support.refusals import refusal

START = dt.date(2020, 3, 2)
SPEED = 0.4


@pytest.fixture
async def live(tmp_path: Path) -> AsyncIterator[tuple[MarketRuntime, market_pb2_grpc.MarketServiceStub]]:
    runtime = MarketRuntime(
        SimConfig(seed=7, start=START, days=2),
        load_macro(START),
        open_event_log(None, tmp_path),
        ClockSettings(SPEED),
        retention_events=100_000,
    )
    await runtime.start()
    server = grpc.aio.server()
    register(server, MarketServicer(runtime))
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            yield runtime, market_pb2_grpc.MarketServiceStub(channel)
    finally:
        await server.stop(None)
        await runtime.stop()
        runtime.event_log.close()


def test_the_close_is_the_part_of_a_day_from_its_opening_to_2359() -> None:
    # 08:00 to 23:59 is 15 h 59 min of the day's 24 h.
    assert CLOSE_AFTER_SLOT == (15 * 60 + 59) / (24 * 60)


async def _kinds_up_to(stub: market_pb2_grpc.MarketServiceStub, head: int) -> list[str]:
    """Every event from seq 1 up to head, read in batches of 25 (a subscriber catching up)."""
    call = stub.StreamEvents(pb.StreamEventsRequest(from_seq=1, max_batch_size=25), timeout=10)
    kinds: list[str] = []
    try:
        async for batch in call:
            kinds += [e.envelope.kind for e in batch.events]
            assert batch.last_seq <= head, "the stream went beyond the head"
            if batch.last_seq == head:
                return kinds
    finally:
        call.cancel()
    raise AssertionError("the stream ended before the head")


async def test_a_live_day_closes_after_its_trading_and_nothing_shows_the_close_before(
    live: tuple[MarketRuntime, market_pb2_grpc.MarketServiceStub],
) -> None:
    runtime, stub = live
    call = stub.StreamEvents(pb.StreamEventsRequest(from_seq=1, max_batch_size=MAX_BATCH), timeout=30)
    batches = aiter(call)
    try:
        trading = await anext(batches)
        kinds = [e.envelope.kind for e in trading.events]
        assert kinds[0] == "market.regime" and kinds[-1] == "custodian.statement"
        assert "clock.day_end" not in kinds and trading.head_seq == trading.last_seq
        head = trading.last_seq
        # Between the opening and the close: the head is the trading's last event for every reader.
        clock = await stub.GetClock(pb.GetClockRequest())
        assert clock.head_seq == head and not clock.HasField("sim_date")  # no day has ended yet
        await refusal(
            stub.GetSnapshot(pb.GetSnapshotRequest(as_of_seq=head + 1)), grpc.StatusCode.OUT_OF_RANGE
        )
        assert runtime.event_log.head("market") == head + 1  # the log holds the whole day already
        assert await _kinds_up_to(stub, head) == kinds  # from the in-memory tail
        runtime.hub.reset_head(head)  # as if the tail had moved on: a reader catching up reads the log
        assert await _kinds_up_to(stub, head) == kinds
        # The close goes out on its own, then the next day's trading.
        close = await anext(batches)
        assert [(e.envelope.seq, e.envelope.kind) for e in close.events] == [(head + 1, "clock.day_end")]
        assert (await stub.GetClock(pb.GetClockRequest())).sim_date.day == START.day
        assert "clock.day_end" not in [e.envelope.kind for e in (await anext(batches)).events]
    finally:
        call.cancel()


async def test_a_stop_between_the_opening_and_the_close_closes_the_day(
    live: tuple[MarketRuntime, market_pb2_grpc.MarketServiceStub],
) -> None:
    runtime, stub = live
    call = stub.StreamEvents(pb.StreamEventsRequest(from_seq=1, max_batch_size=MAX_BATCH), timeout=30)
    try:
        trading = await anext(aiter(call))
    finally:
        call.cancel()
    assert runtime.hub.head_seq == trading.last_seq
    await runtime.stop()
    assert runtime.hub.head_seq == runtime.event_log.head("market") == trading.last_seq + 1
    assert runtime.published.date == START
