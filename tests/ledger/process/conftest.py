"""A real market and a real ledger process, the ledger caught up with a finished market."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest

from opsuite.ledger.v1 import ledger_pb2_grpc
from opsuite.market.v1 import market_pb2, market_pb2_grpc
from tests.support.processes import ServiceProcess, start_service
from tests.support.waiting import wait_until

SEED = 21
START = "2020-02-03"
DAYS = 30


def world_env(**extra: str) -> dict[str, str]:
    return {
        "OPSUITE_SEED": str(SEED),
        "OPSUITE_START": START,
        "OPSUITE_DAYS": str(DAYS),
        "OPSUITE_SPEED": "max",
        **extra,
    }


def wait_finished(market: ServiceProcess) -> market_pb2.Clock:
    with grpc.insecure_channel(market.address) as channel:
        stub = market_pb2_grpc.MarketServiceStub(channel)
        return wait_until(
            lambda: (c := stub.GetClock(market_pb2.GetClockRequest())) and not c.running and c,
            what="the market to finish its days",
        )


def start_ledger(data_dir: Path, market: ServiceProcess, **extra: str) -> ServiceProcess:
    ledger = start_service(
        "ledger", data_dir, {**world_env(), "OPSUITE_MARKET_ADDR": market.address, **extra}
    )
    ledger.wait_serving()  # SERVING means caught up with market's head
    return ledger


@dataclass
class World:
    market: ServiceProcess
    ledger: ServiceProcess
    clock: market_pb2.Clock
    market_stub: market_pb2_grpc.MarketServiceStub
    ledger_stub: ledger_pb2_grpc.LedgerServiceStub


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """Market with no seeded faults run to its end, and a ledger caught up with it."""
    market = start_service("market", tmp_path_factory.mktemp("market"), world_env(OPSUITE_FAULT_RATE="0"))
    ledger: ServiceProcess | None = None
    try:
        market.wait_serving()
        clock = wait_finished(market)
        ledger = start_ledger(tmp_path_factory.mktemp("ledger"), market)
        with grpc.insecure_channel(market.address) as mc, grpc.insecure_channel(ledger.address) as lc:
            yield World(
                market,
                ledger,
                clock,
                market_pb2_grpc.MarketServiceStub(mc),
                ledger_pb2_grpc.LedgerServiceStub(lc),
            )
    finally:
        if ledger is not None:
            ledger.stop()
        market.stop()
