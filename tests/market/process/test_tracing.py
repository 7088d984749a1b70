"""Tracing across processes: a subscriber's spans are children of market's span for each event."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import grpc

from opsuite.market.v1 import market_pb2, market_pb2_grpc
from tests.market.process.conftest import market_env
from tests.support.otlp import OtlpReceiver
from tests.support.processes import ROOT, start_service
from tests.support.waiting import wait_until


def test_subscriber_spans_are_children_of_market_event_spans(tmp_path: Path) -> None:
    with OtlpReceiver() as receiver:
        market = start_service(
            "market", tmp_path / "data", {**market_env(OPSUITE_DAYS="6"), **receiver.env("market")}
        )
        market.wait_serving()
        with grpc.insecure_channel(market.address) as channel:
            stub = market_pb2_grpc.MarketServiceStub(channel)
            clock = wait_until(
                lambda: (c := stub.GetClock(market_pb2.GetClockRequest())) and not c.running and c,
                what="the market to finish",
            )
        subscriber = subprocess.run(
            [sys.executable, "-m", "tests.market.process.subscriber_main", market.address,
             str(tmp_path / "cursor"), str(clock.head_seq)],
            cwd=ROOT, capture_output=True, text=True, timeout=120,
            env={"PATH": "/usr/bin:/bin", **receiver.env("subscriber")},
        )  # fmt: skip
        assert subscriber.returncode == 0, subscriber.stderr
        assert market.stop() == 0  # flushes market's remaining spans
        spans = receiver.spans

    market_spans = {s.span_id: s for s in spans if s.service == "market"}
    consumer_spans = [s for s in spans if s.service == "subscriber" and s.name.startswith("apply ")]
    fill_spans = [s for s in market_spans.values() if s.name == "trade.fill"]
    tick_spans = [s for s in market_spans.values() if s.name == "market.tick"]
    assert len(tick_spans) == 6 and fill_spans
    assert consumer_spans
    for span in consumer_spans:
        parent = market_spans.get(span.parent_span_id)
        assert parent is not None, f"{span.name} has no parent among market's spans"
        assert parent.trace_id == span.trace_id
    # Each fill's consumer span hangs under that fill's own span, in the fill's trace.
    fill_children = [s for s in consumer_spans if market_spans[s.parent_span_id].name == "trade.fill"]
    assert {market_spans[s.parent_span_id].span_id for s in fill_children} == {s.span_id for s in fill_spans}
