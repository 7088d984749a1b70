"""The follower runtime every stream-following service uses, against an in-process market."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable, Sequence

import grpc
import grpc.aio
import pytest
from grpc_health.v1 import health_pb2
from grpc_health.v1.health import aio as health_aio

from opsuite.market.v1 import market_pb2
from services.common.channels import PLAINTEXT
from services.common.convert import timestamp_to_proto
from services.common.follower import Follower, fetch_reference
from services.common.serve import HealthControl

from .fake_market import FakeMarket, make_event, start_server
from .test_stream_client import TIMEOUT, peer_unavailable

DAY_ONE = dt.datetime(2020, 1, 2, 21, 0, tzinfo=dt.UTC)


def dated_event(seq: int) -> market_pb2.MarketEvent:
    # Ten events a simulated day, from 2020-01-02: seq 25 falls on 2020-01-04.
    event = make_event(seq)
    event.envelope.sim_time.CopyFrom(timestamp_to_proto(DAY_ONE + dt.timedelta(days=(seq - 1) // 10)))
    return event


class Consumer:
    """Keeps what it applied in memory; the cursor is what it committed."""

    def __init__(self, committed: list[int]) -> None:
        self.committed = committed
        self.applied: list[int] = []

    def load(self) -> int:
        return self.committed[-1] if self.committed else 0

    def save(self, seq: int) -> None:
        self.committed.append(seq)

    def apply(self, events: Sequence[market_pb2.MarketEvent]) -> None:
        self.applied.extend(e.envelope.seq for e in events)


def _health() -> tuple[HealthControl, health_aio.HealthServicer]:
    servicer = health_aio.HealthServicer()
    return HealthControl(servicer, ["opsuite.test.v1.Test"]), servicer


async def _serving(servicer: health_aio.HealthServicer) -> int:
    reply = await servicer.Check(health_pb2.HealthCheckRequest(service=""), None)
    return int(reply.status)


async def _wait(condition: Callable[[], bool], what: str) -> None:
    try:
        async with asyncio.timeout(TIMEOUT):
            while not condition():
                await asyncio.sleep(0.01)
    except TimeoutError:
        raise AssertionError(f"timed out waiting for {what}") from None


async def test_follows_to_the_head_then_serves_and_reports_its_progress() -> None:
    server, port = await start_server(FakeMarket([dated_event(seq) for seq in range(1, 26)]))
    health, servicer = _health()
    committed: list[int] = []
    follower = Follower(
        service="test",
        market_addr=f"127.0.0.1:{port}",
        security=PLAINTEXT,
        make_consumer=lambda: Consumer(committed),
    )
    try:
        follower.start(health, head_at_start=25)
        await _wait(lambda: health.readiness.serving, "SERVING")
        assert await _serving(servicer) == health_pb2.HealthCheckResponse.SERVING
        progress = follower.progress()
        assert (progress.applied_seq, progress.market_head_seq, progress.lag) == (25, 25, 0)
        assert progress.simulated_date == dt.date(2020, 1, 4)
        assert health.readiness.reason == ""
    finally:
        await follower.stop()
        await server.stop(None)


async def test_a_consumer_that_cannot_be_built_is_retried_with_backoff_until_it_can() -> None:
    server, port = await start_server(FakeMarket([dated_event(seq) for seq in range(1, 11)]))
    health, _ = _health()
    attempts: list[int] = []
    committed: list[int] = []

    def make() -> Consumer:
        attempts.append(1)
        if len(attempts) <= 2:
            raise OSError("database is down")  # what reading the stored cursor raises in an outage
        return Consumer(committed)

    follower = Follower(
        service="test",
        market_addr=f"127.0.0.1:{port}",
        security=PLAINTEXT,
        make_consumer=make,
        restart_initial_s=0.01,
    )
    try:
        follower.start(health, head_at_start=10)
        await _wait(lambda: health.readiness.serving, "SERVING after two failed builds")
        assert len(attempts) == 3
        assert follower.restarts == 2
        assert committed[-1] == 10
    finally:
        await follower.stop()
        await server.stop(None)


async def test_a_cursor_market_no_longer_retains_is_not_serving_with_the_reason() -> None:
    server, port = await start_server(
        FakeMarket([dated_event(seq) for seq in range(500, 510)], oldest_seq=500)
    )
    health, servicer = _health()
    follower = Follower(
        service="test",
        market_addr=f"127.0.0.1:{port}",
        security=PLAINTEXT,
        make_consumer=lambda: Consumer([10]),
    )
    try:
        follower.start(health, head_at_start=509)
        await _wait(lambda: "retains" in health.readiness.reason, "the reason")
        assert not health.readiness.serving
        assert await _serving(servicer) == health_pb2.HealthCheckResponse.NOT_SERVING
        assert health.readiness.reason == (
            "market no longer retains the events after seq 10 (its oldest is 500); "
            "rebuild this service's data from a fresh run"
        )
    finally:
        await follower.stop()
        await server.stop(None)


class RestoringMarket(FakeMarket):
    """A market restarting: UNAVAILABLE for its first `refusals` calls, then its reference data."""

    def __init__(self, refusals: int) -> None:
        super().__init__()
        self.refusals = refusals
        self.calls = 0

    async def _refuse_at_first(self, context: grpc.aio.ServicerContext) -> None:
        self.calls += 1
        if self.calls <= self.refusals:
            await context.abort(grpc.StatusCode.UNAVAILABLE, "market is restoring its run from the event log")

    async def ListMandates(
        self, request: market_pb2.ListMandatesRequest, context: grpc.aio.ServicerContext
    ) -> market_pb2.ListMandatesResponse:
        await self._refuse_at_first(context)
        return market_pb2.ListMandatesResponse()

    async def ListInstruments(
        self, request: market_pb2.ListInstrumentsRequest, context: grpc.aio.ServicerContext
    ) -> market_pb2.ListInstrumentsResponse:
        return market_pb2.ListInstrumentsResponse()

    async def GetClock(
        self, request: market_pb2.GetClockRequest, context: grpc.aio.ServicerContext
    ) -> market_pb2.Clock:
        return market_pb2.Clock(head_seq=7)


async def test_fetching_the_reference_waits_out_a_market_that_is_restoring() -> None:
    market = RestoringMarket(refusals=2)
    server, port = await start_server(market)
    try:
        reference = await asyncio.wait_for(
            fetch_reference(f"127.0.0.1:{port}", security=PLAINTEXT, retry_initial_s=0.01, retry_max_s=0.02),
            TIMEOUT,
        )
    finally:
        await server.stop(None)
    assert market.calls == 3
    assert reference.clock.head_seq == 7


async def test_fetching_the_reference_does_not_retry_what_retrying_cannot_fix() -> None:
    class Broken(RestoringMarket):
        async def GetClock(
            self, request: market_pb2.GetClockRequest, context: grpc.aio.ServicerContext
        ) -> market_pb2.Clock:
            await context.abort(grpc.StatusCode.PERMISSION_DENIED, "no")
            raise AssertionError("unreachable")

    server, port = await start_server(Broken(refusals=0))
    try:
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await asyncio.wait_for(
                fetch_reference(f"127.0.0.1:{port}", security=PLAINTEXT, retry_initial_s=0.01), TIMEOUT
            )
    finally:
        await server.stop(None)
    assert raised.value.code() == grpc.StatusCode.PERMISSION_DENIED


class DayEndConsumer:
    """Like recon: applies into memory, commits state and cursor only at day ends (every 10th seq),
    and a day end asks a peer, which fails once while it restarts (at seq 20)."""

    def __init__(self, store: dict[str, list[int]], peer_down: list[bool]) -> None:
        self.store = store
        self.peer_down = peer_down
        self.state = list(store["state"])  # restored as of the last day end

    def load(self) -> int:
        return self.store["cursor"][0]

    def save(self, seq: int) -> None:
        """Nothing between day ends."""

    def apply(self, events: Sequence[market_pb2.MarketEvent]) -> None:
        for event in events:
            seq = event.envelope.seq
            self.state.append(seq)
            if seq % 10 == 0:
                if seq == 20 and self.peer_down[0]:
                    self.peer_down[0] = False
                    raise peer_unavailable()
                self.store["state"], self.store["cursor"] = list(self.state), [seq]


async def test_a_peer_failing_during_a_day_end_rebuilds_the_consumer_and_applies_each_event_once() -> None:
    server, port = await start_server(FakeMarket([dated_event(seq) for seq in range(1, 31)]))
    health, _ = _health()
    store: dict[str, list[int]] = {"state": [], "cursor": [0]}
    follower = Follower(
        service="test",
        market_addr=f"127.0.0.1:{port}",
        security=PLAINTEXT,
        make_consumer=lambda: DayEndConsumer(store, peer_down=peer_down),
        restart_initial_s=0.01,
    )
    peer_down = [True]
    try:
        follower.start(health, head_at_start=30)
        await _wait(lambda: store["cursor"] == [30], "the last day end committed")
        assert follower.restarts == 1
        # Rebuilt from the day end at seq 10, so seqs 11-20 went in once, not twice.
        assert store["state"] == list(range(1, 31))
    finally:
        await follower.stop()
        await server.stop(None)


async def test_market_hears_of_the_last_day_end_committed_not_of_a_batch_held_in_memory() -> None:
    # A consumer committing only at day ends (every 10th seq, like recon, reporting and dq) has
    # applied 25 events but committed 20: acknowledging 25 would let market's retention trim events
    # 21-25, which a restart must read again.
    market = FakeMarket([dated_event(seq) for seq in range(1, 26)])
    acknowledged: list[int] = []

    class Acknowledging(FakeMarket):
        async def AcknowledgeEvents(
            self, request: market_pb2.AcknowledgeEventsRequest, context: grpc.aio.ServicerContext
        ) -> market_pb2.AcknowledgeEventsResponse:
            acknowledged.append(request.applied_seq)
            return market_pb2.AcknowledgeEventsResponse()

    servicer = Acknowledging(market.events)
    server, port = await start_server(servicer)
    health, _ = _health()
    store: dict[str, list[int]] = {"state": [], "cursor": [0]}

    class DayEnds(DayEndConsumer):
        @property
        def cursor(self) -> int:
            return self.store["cursor"][0]

    follower = Follower(
        service="test",
        market_addr=f"127.0.0.1:{port}",
        security=PLAINTEXT,
        make_consumer=lambda: DayEnds(store, [False]),
    )
    try:
        follower.start(health, head_at_start=25)
        await _wait(lambda: follower.committed_seq == 25, "every batch applied")
        await _wait(lambda: bool(acknowledged), "an acknowledgement")
        assert acknowledged == [20] and follower.durable_seq == 20
    finally:
        await follower.stop()
        await server.stop(None)
