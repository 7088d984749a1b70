"""EventStreamClient against a real in-process grpc.aio server with market's StreamEvents semantics."""

from __future__ import annotations

import asyncio
import pathlib
from collections.abc import AsyncIterator, Sequence

import grpc.aio
import pytest
from opentelemetry import trace
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from opsuite.market.v1 import market_pb2
from services.common import telemetry
from services.common.channels import PLAINTEXT
from services.common.cursor import FileCursorStore, MemoryCursorStore
from services.common.stream_client import ApplyFailed, CursorTooOld, EventStreamClient

from .fake_market import FakeMarket, make_event, start_server

TIMEOUT = 20.0


class Recorder:
    """An `apply` that records the seqs it saw, as batches and in order."""

    def __init__(self) -> None:
        self.seqs: list[int] = []
        self.calls: list[list[int]] = []

    async def __call__(self, events: Sequence[market_pb2.MarketEvent]) -> None:
        self.calls.append([event.envelope.seq for event in events])
        self.seqs.extend(event.envelope.seq for event in events)


@pytest.fixture
async def market() -> AsyncIterator[tuple[FakeMarket, grpc.aio.Server, int]]:
    servicer = FakeMarket([make_event(seq) for seq in range(1, 101)])
    server, port = await start_server(servicer)
    yield servicer, server, port
    await server.stop(None)


async def _run(client: EventStreamClient) -> asyncio.Task[None]:
    return asyncio.create_task(client.run())


async def test_applies_every_event_in_order_and_saves_the_cursor(
    market: tuple[FakeMarket, grpc.aio.Server, int], tmp_path: pathlib.Path
) -> None:
    servicer, _, port = market
    cursor = FileCursorStore(tmp_path / "cursor")
    recorder = Recorder()
    client = EventStreamClient(
        f"127.0.0.1:{port}", cursor, recorder, service="recon", security=PLAINTEXT, max_batch_size=16
    )
    task = await _run(client)
    await client.wait_for_seq(100, TIMEOUT)
    assert recorder.seqs == list(range(1, 101))
    assert cursor.load() == 100
    assert client.applied_seq == 100
    assert client.lag == 0

    # Live following: events appended after subscribing arrive too.
    await servicer.append(*(make_event(seq) for seq in range(101, 111)))
    await client.wait_for_seq(110, TIMEOUT)
    assert recorder.seqs == list(range(1, 111))
    assert client.connected
    assert servicer.requests[0].from_seq == 1
    assert servicer.requests[0].max_batch_size == 16

    await client.stop()
    assert task.done() and task.exception() is None
    assert not client.connected
    assert client.reconnects == 0


async def test_resumes_after_the_cursor_without_gap_or_duplicate(
    market: tuple[FakeMarket, grpc.aio.Server, int], tmp_path: pathlib.Path
) -> None:
    _, _, port = market
    cursor = FileCursorStore(tmp_path / "cursor")
    cursor.save(37)  # as if a previous run applied 1..37 and then stopped
    recorder = Recorder()
    client = EventStreamClient(f"127.0.0.1:{port}", cursor, recorder, service="ledger", security=PLAINTEXT)
    assert client.applied_seq == 37
    task = await _run(client)
    await client.wait_for_seq(100, TIMEOUT)
    await client.stop()
    await task
    assert recorder.seqs == list(range(38, 101))


async def test_filtered_events_still_advance_the_cursor(tmp_path: pathlib.Path) -> None:
    events = [
        make_event(1, "price.tick"),
        make_event(2, "trade.fill", mandate_id="M1"),
        make_event(3, "fx.rate"),
    ]
    events += [make_event(4, "trade.fill", mandate_id="M2"), make_event(5, "price.tick")]
    servicer = FakeMarket(events)
    server, port = await start_server(servicer)
    try:
        cursor = MemoryCursorStore()
        recorder = Recorder()
        client = EventStreamClient(
            f"127.0.0.1:{port}",
            cursor,
            recorder,
            service="ledger",
            security=PLAINTEXT,
            kinds=["trade."],
            mandate_ids=["M2"],
        )
        task = await _run(client)
        await client.wait_for_seq(5, TIMEOUT)
        await client.stop()
        await task
    finally:
        await server.stop(None)
    assert recorder.seqs == [4]
    assert cursor.load() == 5
    assert list(servicer.requests[0].filter.kinds) == ["trade."]


async def test_reconnects_when_market_restarts_on_the_same_port(
    market: tuple[FakeMarket, grpc.aio.Server, int],
) -> None:
    servicer, server, port = market
    recorder = Recorder()
    client = EventStreamClient(
        f"127.0.0.1:{port}",
        MemoryCursorStore(),
        recorder,
        service="dq",
        security=PLAINTEXT,
        max_batch_size=10,
        backoff_initial_s=0.05,
        backoff_max_s=0.2,
    )
    task = await _run(client)
    await client.wait_for_seq(100, TIMEOUT)

    await server.stop(None)
    await servicer.append(*(make_event(seq) for seq in range(101, 151)))
    # A new server object on the same port: market restarted.
    restarted, same_port = await start_server(servicer, f"127.0.0.1:{port}")
    try:
        assert same_port == port
        await client.wait_for_seq(150, TIMEOUT)
        await client.stop()
        await task
    finally:
        await restarted.stop(None)
    assert recorder.seqs == list(range(1, 151))
    assert client.reconnects >= 1
    assert servicer.requests[-1].from_seq == 101


async def test_cursor_older_than_retention_raises_cursor_too_old() -> None:
    servicer = FakeMarket([make_event(seq) for seq in range(500, 510)], oldest_seq=500)
    server, port = await start_server(servicer)
    try:
        client = EventStreamClient(
            f"127.0.0.1:{port}", MemoryCursorStore(10), Recorder(), service="recon", security=PLAINTEXT
        )
        with pytest.raises(CursorTooOld) as caught:
            await asyncio.wait_for(client.run(), TIMEOUT)
    finally:
        await server.stop(None)
    assert caught.value.oldest_seq == 500
    assert caught.value.from_seq == 11
    # Waiting on a client whose run() failed does not hang.
    with pytest.raises(RuntimeError, match="stopped at seq 10"):
        await client.wait_for_seq(11, TIMEOUT)


async def test_stop_while_market_is_down_returns(tmp_path: pathlib.Path) -> None:
    servicer = FakeMarket()
    server, port = await start_server(servicer)
    await server.stop(None)
    client = EventStreamClient(
        f"127.0.0.1:{port}",
        MemoryCursorStore(),
        Recorder(),
        service="recon",
        security=PLAINTEXT,
        backoff_initial_s=0.05,
    )
    task = await _run(client)
    # Poll a condition, not a clock: at least one failed attempt was made.
    async with asyncio.timeout(TIMEOUT):
        while client.reconnects < 1:
            await asyncio.sleep(0.01)
    await asyncio.wait_for(client.stop(), TIMEOUT)
    assert task.done() and task.exception() is None


async def test_apply_spans_are_children_of_the_events_traceparent(spans: InMemorySpanExporter) -> None:
    producer = telemetry.tracer("test.market")
    with producer.start_as_current_span("tick day 1") as day1:
        traceparent1 = telemetry.current_traceparent()
    with producer.start_as_current_span("tick day 2") as day2:
        traceparent2 = telemetry.current_traceparent()
    events = [
        make_event(1, "price.tick", traceparent=traceparent1),
        make_event(2, "fx.rate", traceparent=traceparent1),
    ]
    events += [make_event(3, "trade.fill", traceparent=traceparent2), make_event(4, "clock.day_end")]
    servicer = FakeMarket(events)
    server, port = await start_server(servicer)
    consumer = telemetry.tracer("test.recon")

    calls: list[list[int]] = []

    def apply(group: Sequence[market_pb2.MarketEvent]) -> None:  # a plain function works too
        calls.append([event.envelope.seq for event in group])
        with consumer.start_as_current_span("recon.check"):
            pass

    try:
        client = EventStreamClient(
            f"127.0.0.1:{port}", MemoryCursorStore(), apply, service="recon", security=PLAINTEXT
        )
        task = await _run(client)
        await client.wait_for_seq(4, TIMEOUT)
        await client.stop()
        await task
    finally:
        await server.stop(None)

    # One apply call (and span) per run of consecutive events sharing a traceparent.
    assert calls == [[1, 2], [3], [4]]
    finished = spans.get_finished_spans()
    applied = [span for span in finished if span.name.startswith("apply ")]
    assert [span.name for span in applied] == ["apply price.tick", "apply trade.fill", "apply clock.day_end"]
    first, second, untraced = applied
    assert first.kind == trace.SpanKind.CONSUMER
    assert first.parent is not None and first.parent.span_id == day1.get_span_context().span_id
    assert first.context.trace_id == day1.get_span_context().trace_id
    assert dict(first.attributes or {})["opsuite.events.count"] == 2
    assert (first.attributes or {})["opsuite.seq.first"] == 1
    assert (first.attributes or {})["opsuite.seq.last"] == 2
    assert second.parent is not None and second.parent.span_id == day2.get_span_context().span_id
    assert untraced.parent is None
    # The service's own work inside apply is a child of the apply span.
    checks = [span for span in finished if span.name == "recon.check"]
    assert [check.parent.span_id for check in checks if check.parent] == [s.context.span_id for s in applied]


async def test_lag_is_reported_while_applying_and_as_a_gauge(
    market: tuple[FakeMarket, grpc.aio.Server, int], metric_reader: InMemoryMetricReader
) -> None:
    _, _, port = market
    release = asyncio.Event()
    entered = asyncio.Event()

    async def slow_apply(events: Sequence[market_pb2.MarketEvent]) -> None:
        entered.set()
        await release.wait()

    client = EventStreamClient(
        f"127.0.0.1:{port}",
        MemoryCursorStore(),
        slow_apply,
        service="lag-test",
        security=PLAINTEXT,
        max_batch_size=10,
    )
    task = await _run(client)
    await asyncio.wait_for(entered.wait(), TIMEOUT)
    # Busy with the first batch of ten: all 100 events are still ahead of the cursor.
    assert (client.head_seq, client.applied_seq, client.lag) == (100, 0, 100)
    assert _gauge_value(metric_reader, "lag-test") == 100
    release.set()
    await client.wait_for_seq(100, TIMEOUT)
    assert client.lag == 0
    assert _gauge_value(metric_reader, "lag-test") == 0
    await client.stop()
    await task


def _gauge_value(reader: InMemoryMetricReader, service: str) -> int | None:
    data = reader.get_metrics_data()
    for resource_metrics in data.resource_metrics if data else ():
        for scope_metrics in resource_metrics.scope_metrics:
            for metric in scope_metrics.metrics:
                if metric.name == "opsuite.stream.lag":
                    for point in metric.data.data_points:
                        if point.attributes.get("service") == service:
                            return int(point.value)
    return None


async def test_an_error_in_apply_stops_the_client_without_retrying(
    market: tuple[FakeMarket, grpc.aio.Server, int],
) -> None:
    servicer, _, port = market

    def failing_apply(events: Sequence[market_pb2.MarketEvent]) -> None:
        raise OSError("disk full")

    cursor = MemoryCursorStore()
    client = EventStreamClient(
        f"127.0.0.1:{port}", cursor, failing_apply, service="ledger", security=PLAINTEXT
    )
    with pytest.raises(OSError, match="disk full"):
        await asyncio.wait_for(client.run(), TIMEOUT)
    assert cursor.load() == 0
    assert len(servicer.requests) == 1


def peer_unavailable() -> grpc.aio.AioRpcError:
    """What a day-end check's call to market or the ledger raises while that peer restarts."""
    return grpc.aio.AioRpcError(
        grpc.StatusCode.UNAVAILABLE, grpc.aio.Metadata(), grpc.aio.Metadata(), details="connection refused"
    )


async def test_a_peer_failing_inside_apply_is_not_taken_for_the_stream_breaking(
    market: tuple[FakeMarket, grpc.aio.Server, int],
) -> None:
    # A gRPC error raised by apply looked like the stream's own UNAVAILABLE: the client resubscribed
    # and applied again the events the consumer already held in memory (recon doubled 25 custodian
    # coupons in the full chaos run when market died during its day-end GetSnapshot).
    servicer, _, port = market
    applied: list[int] = []

    def apply_then_peer_fails(events: Sequence[market_pb2.MarketEvent]) -> None:
        for event in events:
            applied.append(event.envelope.seq)
            if event.envelope.seq == 15:
                raise peer_unavailable()

    cursor = MemoryCursorStore()
    client = EventStreamClient(
        f"127.0.0.1:{port}", cursor, apply_then_peer_fails, service="recon", security=PLAINTEXT
    )
    with pytest.raises(ApplyFailed, match=r"seq 1\.\.100 failed on a call to a peer: UNAVAILABLE") as raised:
        await asyncio.wait_for(client.run(), TIMEOUT)
    assert isinstance(raised.value.__cause__, grpc.aio.AioRpcError)
    assert applied == list(range(1, 16))  # once each: no second subscription re-applied them
    assert len(servicer.requests) == 1
    assert cursor.load() == 0
