"""Catching up from the event log's blocks, through a real market process over gRPC.

A market that resumes its run holds nothing of it in memory: every event it logged before the
restart is served from the log's pre-framed blocks (one a day), the days after from the in-memory
tail. The events are compared with `opsuite simulate`'s (the deterministic content) and, for the
days logged before the restart, with what the first process served, byte for byte.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path

import grpc
import pytest
from google.protobuf import json_format

from opsuite.market.v1 import market_pb2, market_pb2_grpc
from tests.market.process.conftest import SEED, market_env, without_traceparent
from tests.market.process.test_stream import _simulate
from tests.support.processes import ServiceProcess, finished_market

FIRST_DAYS, ALL_DAYS = 6, 11


def _expected(tmp_path: Path, days: int) -> list[market_pb2.MarketEvent]:
    lines = _simulate(tmp_path, f"expected-{days}.jsonl", SEED, days).read_text().splitlines()
    return [json_format.Parse(line, market_pb2.MarketEvent()) for line in lines]


def _batches(
    address: str, from_seq: int, max_batch_size: int, head: int, kinds: Sequence[str] = ()
) -> list[market_pb2.EventBatch]:
    """Every batch from from_seq until the one that reaches head."""
    request = market_pb2.StreamEventsRequest(
        from_seq=from_seq, max_batch_size=max_batch_size, filter=market_pb2.EventFilter(kinds=list(kinds))
    )
    with grpc.insecure_channel(address) as channel:
        call = market_pb2_grpc.MarketServiceStub(channel).StreamEvents(request, timeout=60)
        batches = []
        for batch in call:
            batches.append(batch)
            if batch.last_seq >= head:
                break
        call.cancel()
    return batches


def _head(market: ServiceProcess) -> int:
    with grpc.insecure_channel(market.address) as channel:
        return market_pb2_grpc.MarketServiceStub(channel).GetClock(market_pb2.GetClockRequest()).head_seq


def _day_end_seqs(events: Sequence[market_pb2.MarketEvent]) -> list[int]:
    return [e.envelope.seq for e in events if e.envelope.kind == "clock.day_end"]


def _check_catch_up(market: ServiceProcess, expected: list[market_pb2.MarketEvent]) -> None:
    head = _head(market)
    assert head == len(expected)
    ends = _day_end_seqs(expected)
    cases = [
        (1, 0),  # the default batch size (256), across every day
        (ends[1] - 40, 37),  # inside the third day's block, batches crossing day ends
        (ends[FIRST_DAYS - 1] - 5, 100),  # the last events in the log, then the in-memory tail
        (ends[0] + 1, 10_000),  # a day's first event, everything in a few large batches
        (head, 1),  # the last event alone
    ]
    for from_seq, size in cases:
        batches = _batches(market.address, from_seq, size, head)
        events = [e for b in batches for e in b.events]
        assert all(len(b.events) <= (size or 256) for b in batches)
        assert all(b.last_seq == b.events[-1].envelope.seq for b in batches)
        assert [e.envelope.seq for e in events] == list(range(from_seq, head + 1))
        assert [without_traceparent(e) for e in events] == [
            without_traceparent(e) for e in expected[from_seq - 1 :]
        ], (from_seq, size)
    # A follower's filter over the log: only its kinds, and the cursor moves past the others.
    batches = _batches(market.address, 1, 50, head, kinds=["trade.", "clock."])
    kept = [e for b in batches for e in b.events]
    assert [without_traceparent(e) for e in kept] == [
        without_traceparent(e) for e in expected if e.envelope.kind.startswith(("trade.", "clock."))
    ]
    assert batches[-1].last_seq == head
    assert all(len(b.events) <= 50 for b in batches)


def test_a_resumed_market_serves_its_logged_days_from_blocks(tmp_path: Path) -> None:
    data = tmp_path / "data"
    first = finished_market(data, market_env(OPSUITE_DAYS=str(FIRST_DAYS)))
    try:
        logged_head = _head(first)
        served_before = [e for b in _batches(first.address, 1, 0, logged_head) for e in b.events]
    finally:
        assert first.stop() == 0
    with sqlite3.connect(data / "eventlog.sqlite3") as conn:
        blocks = conn.execute("SELECT first_seq, last_seq FROM blocks ORDER BY last_seq").fetchall()
    conn.close()
    ends = _day_end_seqs(served_before)
    assert blocks == list(zip([1] + [e + 1 for e in ends[:-1]], ends, strict=True))  # a block a day

    resumed = finished_market(data, market_env(OPSUITE_DAYS=str(ALL_DAYS)))
    try:
        assert '"resumed the run"' in resumed.log_text()
        expected = _expected(tmp_path, ALL_DAYS)
        _check_catch_up(resumed, expected)
        # What the log serves is what the first process served, trace context and all.
        again = [e for b in _batches(resumed.address, 1, 0, logged_head) for e in b.events]
        assert [e.SerializeToString() for e in again[:logged_head]] == [
            e.SerializeToString() for e in served_before
        ]
    finally:
        assert resumed.stop() == 0


@pytest.mark.parametrize("restarts", [1, 2])
def test_a_data_directory_from_before_blocks_resumes(tmp_path: Path, restarts: int) -> None:
    """An event log written before blocks existed (schema 1, no blocks table): market migrates it,
    serves its days from the records and the days after from blocks; after a second restart, both
    from the log."""
    data = tmp_path / "data"
    first = finished_market(data, market_env(OPSUITE_DAYS=str(FIRST_DAYS)))
    assert first.stop() == 0
    with sqlite3.connect(data / "eventlog.sqlite3") as conn:
        conn.execute("DROP TABLE blocks")
        conn.execute("PRAGMA user_version = 1")
    conn.close()
    expected = _expected(tmp_path, ALL_DAYS)
    for _ in range(restarts):
        market = finished_market(data, market_env(OPSUITE_DAYS=str(ALL_DAYS)))
        try:
            _check_catch_up(market, expected)
        finally:
            assert market.stop() == 0
    with sqlite3.connect(data / "eventlog.sqlite3") as conn:
        first_block = conn.execute("SELECT min(first_seq) FROM blocks").fetchone()[0]
    conn.close()
    assert first_block == _day_end_seqs(expected)[FIRST_DAYS - 1] + 1
