"""Shutting market down with a subscriber far behind the head that is not reading: its stream ends
at once with UNAVAILABLE saying where to resume, and market exits 0 without waiting out its grace
period (set here to ten minutes, so a stream holding shutdown fails the test by its timeout)."""

from __future__ import annotations

import signal
import threading
from pathlib import Path

import grpc

from opsuite.market.v1 import market_pb2, market_pb2_grpc
from tests.support.processes import start_service
from tests.support.waiting import wait_until

WORLD = {"OPSUITE_SEED": "3", "OPSUITE_START": "2020-02-03", "OPSUITE_DAYS": "20", "OPSUITE_SPEED": "max"}


def test_a_subscriber_behind_the_head_does_not_hold_shutdown(tmp_path: Path) -> None:
    market = start_service("market", tmp_path / "market", {**WORLD, "OPSUITE_SHUTDOWN_GRACE_S": "600"})
    market.wait_serving()
    with grpc.insecure_channel(market.address) as channel:
        stub = market_pb2_grpc.MarketServiceStub(channel)
        # Far behind the head: the clock runs at full speed, so a thousand events come quickly.
        wait_until(
            lambda: stub.GetClock(market_pb2.GetClockRequest()).head_seq > 1000,
            timeout=60,
            what="1,000 events",
        )
        stream = stub.StreamEvents(market_pb2.StreamEventsRequest(from_seq=1, max_batch_size=1))
        first = next(stream)  # the stream is open; then nothing is read while market stops
        assert first.events
        ended: list[grpc.RpcError] = []
        stopped = threading.Event()

        def drain() -> None:
            stopped.wait()
            try:
                for _ in stream:
                    pass
            except grpc.RpcError as error:
                ended.append(error)

        reader = threading.Thread(target=drain)
        reader.start()
        assert market.stop(signal.SIGTERM, timeout=120) == 0
        stopped.set()
        reader.join(timeout=60)
    assert not reader.is_alive()
    [error] = ended
    assert error.code() == grpc.StatusCode.UNAVAILABLE, error.details()
    assert "shutting down" in error.details() and "from_seq" in error.details()
