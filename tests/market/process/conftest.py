"""A real market process for the end-to-end tests, and helpers to read its stream."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest

from opsuite.market.v1 import market_pb2, market_pb2_grpc
from tests.support.processes import ServiceProcess, start_service

SEED = 11
START = "2020-02-03"
DAYS = 25


def market_env(**extra: str) -> dict[str, str]:
    return {
        "OPSUITE_SEED": str(SEED),
        "OPSUITE_START": START,
        "OPSUITE_DAYS": str(DAYS),
        "OPSUITE_SPEED": "max",
        **extra,
    }


@pytest.fixture(scope="module")
def market_settings() -> dict[str, str]:
    """What a module's market is started with besides market_env(): none, so InjectFault is refused
    (market's default); a module that injects faults overrides this fixture to say so."""
    return {}


@pytest.fixture(scope="module")
def market(
    tmp_path_factory: pytest.TempPathFactory, market_settings: dict[str, str]
) -> Iterator[ServiceProcess]:
    """One market per test module, run to the end of its days; stopped with SIGTERM afterwards."""
    service = start_service("market", tmp_path_factory.mktemp("market"), market_env(**market_settings))
    try:
        service.wait_serving()
        yield service
    finally:
        service.stop()


@pytest.fixture(scope="module")
def stub(market: ServiceProcess) -> Iterator[market_pb2_grpc.MarketServiceStub]:
    with grpc.insecure_channel(market.address) as channel:
        yield market_pb2_grpc.MarketServiceStub(channel)


def read_events(
    stub: market_pb2_grpc.MarketServiceStub,
    *,
    from_seq: int = 0,
    day_ends: int = DAYS,
    max_batch_size: int = 0,
    timeout: float = 120.0,
) -> list[market_pb2.MarketEvent]:
    """Events from from_seq until the given number of clock.day_end events has arrived."""
    request = market_pb2.StreamEventsRequest(from_seq=from_seq, max_batch_size=max_batch_size)
    call = stub.StreamEvents(request, timeout=timeout)
    events: list[market_pb2.MarketEvent] = []
    seen_day_ends = 0
    try:
        for batch in call:
            events.extend(batch.events)
            seen_day_ends += sum(1 for e in batch.events if e.envelope.kind == "clock.day_end")
            if seen_day_ends >= day_ends:
                return events
    finally:
        call.cancel()
    raise AssertionError(f"the stream ended after {seen_day_ends} day ends")


def without_traceparent(event: market_pb2.MarketEvent) -> bytes:
    """The deterministic content of an event: everything but the runtime trace context."""
    copy = market_pb2.MarketEvent()
    copy.CopyFrom(event)
    copy.envelope.traceparent = ""
    return copy.SerializeToString(deterministic=True)


def data_dir_of(service: ServiceProcess) -> Path:
    return service.log_path.parent
