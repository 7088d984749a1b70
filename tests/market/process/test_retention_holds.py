"""Retention never strands a declared follower, probed as an operator would with grpcurl: a market
keeping 300 events holds everything for a follower that has not acknowledged, trims to what it
acknowledged, refuses an undeclared follower and a seq past the head, and remembers positions
across a restart."""

from __future__ import annotations

import json
from pathlib import Path

import grpc

from opsuite.market.v1 import market_pb2, market_pb2_grpc
from tests.market.process.conftest import market_env
from tests.market.process.test_grpcurl import grpcurl
from tests.support.processes import ServiceProcess, start_service
from tests.support.waiting import wait_until

ENV = market_env(OPSUITE_DAYS="10", OPSUITE_RETENTION_EVENTS="300", OPSUITE_MARKET_FOLLOWERS="audit")


def _clock(market: ServiceProcess) -> dict[str, object]:
    return dict(json.loads(grpcurl(market, "opsuite.market.v1.MarketService/GetClock").stdout))


def _finished(market: ServiceProcess) -> dict[str, object]:
    found: dict[str, object] = {}

    def done() -> bool:
        # Replaced, not updated: JSON leaves `running` out once it is false, so an earlier answer's
        # `running: true` would otherwise stay (it did, whenever the first poll caught the run going).
        found.clear()
        found.update(_clock(market))
        return not found.get("running", False)

    wait_until(done, timeout=120, what="market to simulate its 10 days")
    return found


def _acknowledge(market: ServiceProcess, follower: str, seq: int) -> tuple[int, str]:
    result = grpcurl(
        market,
        "opsuite.market.v1.MarketService/AcknowledgeEvents",
        flags=("-d", json.dumps({"follower": follower, "applied_seq": seq})),
        check=False,
    )
    return result.returncode, result.stdout + result.stderr


def test_a_declared_follower_holds_events_until_it_acknowledges_them(tmp_path: Path) -> None:
    market = start_service("market", tmp_path, ENV)
    try:
        market.wait_serving()
        clock = _finished(market)
        assert "head_seq" in clock, clock
        head = int(str(clock["head_seq"]))
        assert head > 1_000  # ten days of ~150 events, far more than the 300 kept
        # "audit" has not acknowledged anything: every event is kept for it.
        assert clock["oldest_seq"] == "1"
        assert clock["followers"] == [{"follower": "audit"}]

        code, out = _acknowledge(market, "audit", 1_000)
        assert code == 0, out
        # Kept: the events after 1,000 audit has not applied, more than the last 300.
        assert json.loads(out) == {"oldest_seq": "1001", "head_seq": str(head)}
        with grpc.insecure_channel(market.address) as channel:
            call = market_pb2_grpc.MarketServiceStub(channel).StreamEvents(
                market_pb2.StreamEventsRequest(from_seq=1_001, max_batch_size=10), timeout=30
            )
            assert next(iter(call)).events[0].envelope.seq == 1_001
            call.cancel()

        code, out = _acknowledge(market, "nobody", 5)
        assert code != 0 and "FailedPrecondition" in out
        assert (
            "'nobody' is not a declared follower (declared: audit); add it to OPSUITE_MARKET_FOLLOWERS" in out
        )
        code, out = _acknowledge(market, "audit", head + 1)
        assert code != 0 and "InvalidArgument" in out
        assert f"applied_seq {head + 1} is past market's head, seq {head}" in out
        assert _clock(market)["oldest_seq"] == "1001"  # the refusals changed nothing
    finally:
        assert market.stop() == 0

    again = start_service("market", tmp_path, ENV)
    try:
        again.wait_serving()
        clock = _clock(again)
        assert clock["followers"] == [{"follower": "audit", "applied_seq": "1000"}]
        assert clock["oldest_seq"] == "1001"
        # Caught up, audit releases everything but the last 300 events.
        code, out = _acknowledge(again, "audit", head)
        assert code == 0, out
        assert json.loads(out)["oldest_seq"] == str(head - 299)
    finally:
        assert again.stop() == 0
