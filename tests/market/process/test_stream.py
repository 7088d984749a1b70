"""StreamEvents against a real market process: order, resume, filters, retention, determinism."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import grpc
import pytest
from google.protobuf import json_format

from opsuite.market.v1 import market_pb2, market_pb2_grpc
from services.common.status import details_of, status_from_error
from tests.market.process.conftest import DAYS, SEED, START, market_env, read_events, without_traceparent
from tests.support.processes import ROOT, ServiceProcess, start_service
from tests.support.waiting import wait_until


@pytest.fixture(scope="module")
def all_events(stub: market_pb2_grpc.MarketServiceStub) -> list[market_pb2.MarketEvent]:
    return read_events(stub)


def test_stream_is_ordered_gap_free_and_ends_each_day(all_events: list[market_pb2.MarketEvent]) -> None:
    seqs = [e.envelope.seq for e in all_events]
    assert seqs == list(range(1, len(seqs) + 1))
    assert [e.envelope.event_id for e in all_events[:3]] == ["mkt-1", "mkt-2", "mkt-3"]
    times = [e.envelope.sim_time.ToNanoseconds() for e in all_events]
    assert times == sorted(times)
    assert all_events[-1].envelope.kind == "clock.day_end"
    kinds = {e.envelope.kind for e in all_events}
    assert {
        "market.regime",
        "price.tick",
        "price.vendor",
        "fx.rate",
        "trade.fill",
        "trade.confirmation",
    } <= kinds
    assert {"custodian.trade", "custodian.settlement", "custodian.statement"} <= kinds
    # Every event names its kind in the envelope and carries the matching payload.
    for event in all_events:
        assert event.WhichOneof("payload") is not None
        assert event.envelope.source == "market"
        assert event.envelope.traceparent.startswith("00-")


def test_resume_after_cursor_has_no_gap_and_no_duplicate(
    stub: market_pb2_grpc.MarketServiceStub, all_events: list[market_pb2.MarketEvent]
) -> None:
    cut = len(all_events) // 3
    day_ends_after = sum(1 for e in all_events[cut:] if e.envelope.kind == "clock.day_end")
    resumed = read_events(stub, from_seq=cut + 1, day_ends=day_ends_after)
    assert [e.SerializeToString() for e in resumed] == [e.SerializeToString() for e in all_events[cut:]]


def test_small_batches_carry_the_same_events(
    stub: market_pb2_grpc.MarketServiceStub, all_events: list[market_pb2.MarketEvent]
) -> None:
    request = market_pb2.StreamEventsRequest(from_seq=1, max_batch_size=7)
    call = stub.StreamEvents(request, timeout=60)
    received: list[market_pb2.MarketEvent] = []
    for batch in call:
        assert len(batch.events) <= 7
        assert batch.last_seq == batch.events[-1].envelope.seq
        assert batch.head_seq >= batch.last_seq
        received.extend(batch.events)
        if len(received) >= 200:
            call.cancel()
            break
    assert [e.SerializeToString() for e in received[:200]] == [
        e.SerializeToString() for e in all_events[:200]
    ]


def test_filters_keep_kinds_and_mandates(
    stub: market_pb2_grpc.MarketServiceStub, all_events: list[market_pb2.MarketEvent]
) -> None:
    mandate = next(e.envelope.mandate_id for e in all_events if e.envelope.kind == "trade.fill")
    request = market_pb2.StreamEventsRequest(
        from_seq=1, filter=market_pb2.EventFilter(kinds=["trade.", "clock."], mandate_ids=[mandate])
    )
    call = stub.StreamEvents(request, timeout=60)
    received: list[market_pb2.MarketEvent] = []
    for batch in call:
        received.extend(batch.events)
        if batch.last_seq >= all_events[-1].envelope.seq:
            call.cancel()
            break
    expected = [
        e
        for e in all_events
        if e.envelope.kind.startswith(("trade.", "clock."))
        and (not e.envelope.mandate_id or e.envelope.mandate_id == mandate)
    ]
    assert expected and any(e.envelope.kind == "trade.fill" for e in expected)
    assert [e.envelope.seq for e in received] == [e.envelope.seq for e in expected]


def test_same_seed_gives_the_same_events_in_another_process(
    tmp_path: Path, all_events: list[market_pb2.MarketEvent]
) -> None:
    other = start_service("market", tmp_path / "other", market_env())
    try:
        other.wait_serving()
        with grpc.insecure_channel(other.address) as channel:
            again = read_events(market_pb2_grpc.MarketServiceStub(channel))
    finally:
        assert other.stop() == 0
    assert [without_traceparent(e) for e in again] == [without_traceparent(e) for e in all_events]
    # Trace context is runtime telemetry: a new process traces under new ids.
    assert again[0].envelope.traceparent != all_events[0].envelope.traceparent


def _simulate(tmp_path: Path, name: str, seed: int, days: int = DAYS) -> Path:
    out = tmp_path / name
    subprocess.run(
        [sys.executable, "-m", "services.cli", "simulate", "--seed", str(seed), "--start", START,
         "--days", str(days), "--out", str(out)],
        cwd=ROOT, check=True, capture_output=True, env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
    )  # fmt: skip
    return out


def test_simulate_writes_the_served_stream_byte_for_byte(
    tmp_path: Path, all_events: list[market_pb2.MarketEvent]
) -> None:
    first, second = _simulate(tmp_path, "a.jsonl", SEED), _simulate(tmp_path, "b.jsonl", SEED)
    assert first.read_bytes() == second.read_bytes()
    lines = first.read_text().splitlines()
    assert len(lines) == len(all_events)
    for line, event in zip(lines, all_events, strict=True):
        parsed = json_format.Parse(line, market_pb2.MarketEvent())
        assert without_traceparent(parsed) == without_traceparent(event)
    assert json.loads(lines[0])["envelope"]["seq"] in ("1", 1)
    other_seed = _simulate(tmp_path, "c.jsonl", SEED + 1)
    assert other_seed.read_bytes() != first.read_bytes()


def test_cursor_older_than_retention_is_out_of_range(tmp_path: Path) -> None:
    small = start_service("market", tmp_path / "small", market_env(OPSUITE_RETENTION_EVENTS="400"))
    try:
        small.wait_serving()
        with grpc.insecure_channel(small.address) as channel:
            stub = market_pb2_grpc.MarketServiceStub(channel)
            clock = wait_until(
                lambda: (c := stub.GetClock(market_pb2.GetClockRequest())) and not c.running and c,
                what="the market to finish its days",
            )
            assert clock.oldest_seq == clock.head_seq - 400 + 1
            with pytest.raises(grpc.RpcError) as raised:
                next(iter(stub.StreamEvents(market_pb2.StreamEventsRequest(from_seq=1), timeout=10)))
            assert raised.value.code() == grpc.StatusCode.OUT_OF_RANGE
            assert f"oldest retained seq {clock.oldest_seq}" in raised.value.details()
            _, info = details_of(status_from_error(raised.value))
            assert info is not None and info.metadata["oldest_seq"] == str(clock.oldest_seq)
            # From the oldest retained seq (or 0) the stream works, from disk as well as memory.
            for from_seq in (clock.oldest_seq, 0):
                call = stub.StreamEvents(market_pb2.StreamEventsRequest(from_seq=from_seq), timeout=10)
                first = next(iter(call))
                call.cancel()
                assert first.events[0].envelope.seq == clock.oldest_seq
    finally:
        assert small.stop() == 0


def test_market_stops_gracefully_with_a_stream_open(tmp_path: Path, market: ServiceProcess) -> None:
    live = start_service("market", tmp_path / "live", market_env(OPSUITE_SPEED="5", OPSUITE_DAYS="0"))
    live.wait_serving()
    with grpc.insecure_channel(live.address) as channel:
        call = market_pb2_grpc.MarketServiceStub(channel).StreamEvents(
            market_pb2.StreamEventsRequest(), timeout=60
        )
        first = next(iter(call))
        assert first.events
        assert live.stop() == 0
        # The open stream ends at once instead of hanging until the grace period, and not as if it
        # were complete: UNAVAILABLE (retryable), naming the seq to resume from.
        remaining = []
        with pytest.raises(grpc.RpcError) as ended:
            for batch in call:
                remaining.append(batch)
        assert ended.value.code() == grpc.StatusCode.UNAVAILABLE, ended.value.details()
        resume = (remaining[-1] if remaining else first).last_seq + 1
        assert f"from_seq={resume}" in ended.value.details()
        assert all(b.last_seq > first.last_seq for b in remaining)
    assert '"stopped"' in live.log_text()


def test_market_on_the_redis_event_log_serves_and_resumes(tmp_path: Path, redis_url: str) -> None:
    env = market_env(OPSUITE_DAYS="6", OPSUITE_EVENTLOG_URL=redis_url)
    events: list[list[bytes]] = []
    for run in range(2):  # the second run resumes the first from Redis instead of starting over
        service = start_service("market", tmp_path / f"run{run}", env)
        try:
            service.wait_serving()
            with grpc.insecure_channel(service.address) as channel:
                stub = market_pb2_grpc.MarketServiceStub(channel)
                events.append([e.SerializeToString() for e in read_events(stub, from_seq=1, day_ends=6)])
                clock = stub.GetClock(market_pb2.GetClockRequest())
                assert clock.business_days_elapsed == 6 and clock.head_seq == len(events[-1])
        finally:
            assert service.stop() == 0
    assert events[0] == events[1]
    assert '"resumed the run"' in service.log_text()
