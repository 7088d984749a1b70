"""A real grpc.aio server on port 0, in process, serving ReconServicer over a store filled through
the domain (tests/recon/store/scenario.py), and a real client."""

from __future__ import annotations

import contextlib
import datetime as dt
import pathlib
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import grpc
import grpc.aio
import pytest

from opsuite.recon.v1 import recon_pb2_grpc
from services.recon.server import ReconServicer, register
from services.recon.store import ReconStore, open_store
from tests.recon.store.scenario import MON, MONDAY, TUE, TUESDAY, check
from tests.support.refusals import refusal

SIM_NOW = dt.datetime(2024, 3, 12, 14, 0, tzinfo=dt.UTC)


@dataclass
class Served:
    stub: recon_pb2_grpc.ReconServiceStub
    store: ReconStore
    servicer: ReconServicer


@contextlib.asynccontextmanager
async def serving(store: ReconStore, **options: Any) -> AsyncIterator[Served]:
    servicer = ReconServicer(store, sim_clock=lambda: SIM_NOW, **options)
    server = grpc.aio.server()
    names = register(server, servicer)
    assert names == ["opsuite.recon.v1.ReconService"]
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            yield Served(recon_pb2_grpc.ReconServiceStub(channel), store, servicer)
    finally:
        await server.stop(None)
        servicer.close()


@pytest.fixture
def filled_store(tmp_path: pathlib.Path) -> Iterator[ReconStore]:
    """Monday's and Tuesday's checks: AAPL (escalated), SAP and MSFT open; USD cash auto-resolved."""
    store = open_store(tmp_path)
    check(store, MON, MONDAY)
    check(store, TUE, TUESDAY)
    yield store
    store.close()


@pytest.fixture
async def served(filled_store: ReconStore) -> AsyncIterator[Served]:
    async with serving(filled_store) as s:
        yield s


ServeFactory = Callable[..., contextlib.AbstractAsyncContextManager[Served]]


@pytest.fixture
def serve(filled_store: ReconStore) -> ServeFactory:
    """serve(run_check=..., lineage=...) serves the filled store with those options."""
    return lambda **options: serving(filled_store, **options)


async def refused(call: Any, code: grpc.StatusCode) -> tuple[str, dict[str, str], dict[str, str]]:
    """(message, field -> description, ErrorInfo metadata) of a call that must fail with `code`."""
    said = await refusal(call, code)
    return said.message, said.violations, said.metadata
