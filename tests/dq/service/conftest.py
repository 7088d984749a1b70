"""dq's servicer on a real grpc.aio server (port 0, in process) over a store the real consumer filled
from a simulated run (seed 7, 40 days from 2020-02-03, faults at five times their seeded rates, so
that there are issues, open and resolved, and quarantined prices)."""

from __future__ import annotations

import asyncio
import contextlib
import pathlib
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import grpc.aio
import pytest

from opsuite.dq.v1 import dq_pb2_grpc
from services.dq.consumer import DqConsumer
from services.dq.domain.config import load_checks
from services.dq.server import DqContext, DqServicer, register
from services.dq.store import DqStore, open_store
from services.market.codec import event_to_proto
from tests.ledger.domain.sim_runs import Run, simulated_run

SEED, DAYS, FAULT_RATE = 7, 40, 5.0
# The store is filled through Fri 2020-03-27, the 39th business day: that day's two stale vendor_b
# prints (US-PLSN, US-SUMT) are still open and quarantined at its end; every earlier issue resolved.
FILLED_DAYS = 39


def run() -> Run:
    return simulated_run(SEED, DAYS, FAULT_RATE)


def fill(store: DqStore, days: int = DAYS) -> DqConsumer:
    """The first `days` days of the run through the consumer, as the follower drives it."""
    world = run()
    consumer = DqConsumer(store, load_checks(), world.mandates, world.instruments)
    for day in world.days[:days]:
        asyncio.run(consumer.apply([event_to_proto(e) for e in day.events]))
    return consumer


@dataclass
class Served:
    stub: dq_pb2_grpc.DqServiceStub
    store: DqStore
    context: DqContext


@pytest.fixture(scope="module")
def filled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[pathlib.Path]:
    """The data directory of a store filled once for the module (tests that write copy it)."""
    directory = tmp_path_factory.mktemp("dq")
    store = open_store(directory)
    fill(store, FILLED_DAYS)
    store.close()
    yield directory


@contextlib.asynccontextmanager
async def serving(store: DqStore) -> AsyncIterator[Served]:
    world = run()
    context = DqContext(
        checks=load_checks(),
        checks_source="defaults",
        mandates={m.mandate_id: m for m in world.mandates},
        instruments={i.instrument_id: i for i in world.instruments},
    )
    servicer = DqServicer(store, context)
    server = grpc.aio.server()
    assert register(server, servicer) == ["opsuite.dq.v1.DqService"]
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            yield Served(dq_pb2_grpc.DqServiceStub(channel), store, context)
    finally:
        servicer.close()
        await server.stop(None)


@pytest.fixture
async def served(filled: pathlib.Path, tmp_path: pathlib.Path) -> AsyncIterator[Served]:
    for name in filled.iterdir():
        (tmp_path / name.name).write_bytes(name.read_bytes())
    store = open_store(tmp_path)
    async with serving(store) as s:
        yield s
    store.close()
