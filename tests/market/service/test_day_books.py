"""Market keeps every day end's books the log still keeps (services/market/daybooks.py), not only
the recent ones: a follower that starts late (recon checking years of day ends) gets each day's
books, where before it got OUT_OF_RANGE past 520 day ends and skipped them, raising no breaks.

The expected books are the simulation's own day-end snapshots, encoded as GetSnapshot encodes them."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import grpc.aio
import pytest

from opsuite.market.v1 import market_pb2 as pb
from opsuite.market.v1 import market_pb2_grpc
from services.common.eventlog import open_event_log
from services.market import codec
from services.market.daybooks import IN_MEMORY, DayBooks
from services.market.fred import load_macro
from services.market.runtime import ClockSettings, MarketRuntime
from services.market.server import MarketServicer, register
from services.market.sim.engine import SimConfig, Simulation
from tests.market.conftest import Run

START = dt.date(2020, 3, 2)
RUN_DAYS = IN_MEMORY + 12  # a dozen day ends older than the ones kept in memory


def test_every_day_end_is_kept_in_memory_or_in_the_file_and_answers_the_same(
    real_run: Run, tmp_path: Path
) -> None:
    books = DayBooks(tmp_path / "day_books.sqlite", in_memory=5)
    for day in real_run.days:
        books.remember(day.snapshot)
    assert books.count == len(real_run.days) == 60
    for day in real_run.days:
        seq = day.snapshot.as_of_seq
        assert books.at(seq) == codec.snapshot_to_proto(day.snapshot), day.date
        # A seq inside the next day asks for this day's end.
        assert books.at(seq + 1).as_of_seq in (seq, seq + 1)
    mandate = real_run.days[0].snapshot.internal_books[1].mandate_id
    oldest = real_run.days[0].snapshot
    assert books.at(oldest.as_of_seq, mandate) == codec.snapshot_to_proto(oldest, mandate_id=mandate)
    assert books.at(0) == codec.snapshot_to_proto(real_run.days[-1].snapshot)
    assert books.at(oldest.as_of_seq - 1) is None
    books.close()


def test_day_ends_older_than_the_kept_log_are_forgotten(real_run: Run) -> None:
    books = DayBooks(None, in_memory=3)
    for day in real_run.days[:10]:
        books.remember(day.snapshot)
    sixth = real_run.days[5].snapshot.as_of_seq
    books.forget_before(sixth)
    assert books.oldest_seq == sixth
    assert books.at(sixth - 1) is None
    assert books.at(sixth) == codec.snapshot_to_proto(real_run.days[5].snapshot)
    assert books.count == 5


def test_a_new_start_replaces_the_previous_file(real_run: Run, tmp_path: Path) -> None:
    """The file is a cache of what replay rebuilds: a start never answers from a previous run's."""
    path = tmp_path / "day_books.sqlite"
    first = DayBooks(path, in_memory=1)
    for day in real_run.days[:4]:
        first.remember(day.snapshot)
    first.close()
    second = DayBooks(path, in_memory=1)
    assert second.count == 0 and second.at(real_run.days[0].snapshot.as_of_seq) is None
    second.close()


@pytest.fixture
async def stub(tmp_path: Path) -> AsyncIterator[market_pb2_grpc.MarketServiceStub]:
    runtime = MarketRuntime(
        SimConfig(seed=7, start=START, days=RUN_DAYS),
        load_macro(START),
        open_event_log(None, tmp_path),
        ClockSettings(None),
        retention_events=1_000_000,
        day_books_path=tmp_path / "market" / "day_books.sqlite",
    )
    await runtime.start()
    server = grpc.aio.server()
    register(server, MarketServicer(runtime))
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = market_pb2_grpc.MarketServiceStub(channel)
            # The clock's task ends after the run's last day: every day end is then remembered.
            assert runtime._task is not None
            await asyncio.wait_for(runtime._task, timeout=120)
            yield stub
    finally:
        await server.stop(None)
        await runtime.stop()
        runtime.event_log.close()
        runtime.day_books.close()


async def test_get_snapshot_answers_every_day_end_of_the_run(
    stub: market_pb2_grpc.MarketServiceStub,
) -> None:
    expected = Simulation(SimConfig(seed=7, start=START, days=RUN_DAYS), load_macro(START))
    answered = 0
    while (day := expected.step()) is not None:
        seq = day.snapshot.as_of_seq
        assert await stub.GetSnapshot(pb.GetSnapshotRequest(as_of_seq=seq)) == codec.snapshot_to_proto(
            day.snapshot
        ), day.date
        answered += 1
    assert answered == RUN_DAYS
