"""Faults on demand, and a subscriber that survives a market restart without gap or duplicate."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path

import grpc
import pytest
from google.protobuf import json_format

from opsuite.common.v1 import common_pb2
from opsuite.market.v1 import market_pb2, market_pb2_grpc
from services.cli.registry import free_port
from services.common.channels import PLAINTEXT
from services.common.cursor import FileCursorStore
from services.common.stream_client import EventStreamClient
from tests.market.process.conftest import market_env, read_events, without_traceparent
from tests.market.process.test_stream import _simulate
from tests.support.processes import start_service
from tests.support.waiting import wait_until


def test_dropped_trade_on_demand_is_booked_late_by_the_custodian_and_survives_a_restart(
    tmp_path: Path,
) -> None:
    env = market_env(
        OPSUITE_SPEED="4", OPSUITE_DAYS="12", OPSUITE_FAULT_RATE="0", OPSUITE_ALLOW_FAULT_INJECTION="true"
    )
    address = f"127.0.0.1:{free_port('127.0.0.1')}"
    market = start_service("market", tmp_path / "data", env, address=address)
    market.wait_serving()
    with grpc.insecure_channel(address) as channel:
        stub = market_pb2_grpc.MarketServiceStub(channel)
        mandate = stub.ListMandates(market_pb2.ListMandatesRequest()).mandates[0].mandate_id
        fault = stub.InjectFault(
            market_pb2.InjectFaultRequest(kind=market_pb2.FAULT_KIND_CUSTODIAN_DROP_TRADE, mandate_id=mandate)
        )
        assert fault.status == market_pb2.FAULT_STATUS_PENDING and fault.on_demand
        events = read_events(stub, from_seq=1, day_ends=12)
    assert market.stop() == 0

    market = start_service("market", tmp_path / "data", env, address=address)
    market.wait_serving()
    with grpc.insecure_channel(address) as channel:
        stub = market_pb2_grpc.MarketServiceStub(channel)
        faults = stub.ListInjectedFaults(market_pb2.ListInjectedFaultsRequest()).faults
        # The replayed run applies the same fault to the same fill.
        assert [(f.fault_id, f.kind, f.on_demand) for f in faults] == [
            (fault.fault_id, market_pb2.FAULT_KIND_CUSTODIAN_DROP_TRADE, True)
        ]
        applied = faults[0]
        assert applied.status == market_pb2.FAULT_STATUS_APPLIED and applied.mandate_id == mandate
        replayed = read_events(stub, from_seq=1, day_ends=12)
    assert market.stop() == 0
    assert [e.SerializeToString() for e in replayed] == [e.SerializeToString() for e in events]

    fills = {
        e.fill.fill_id: e for e in events if e.envelope.kind == "trade.fill" and e.fill.mandate_id == mandate
    }
    booked = {
        e.custodian_trade.fill_id: e
        for e in events
        if e.envelope.kind == "custodian.trade" and e.custodian_trade.mandate_id == mandate
    }
    # Every fill of the mandate reached the custodian on its trade date (fault rate 0 means no
    # other fault) but the dropped one, which the custodian booked late: on the fault's corrected date.
    assert set(booked) == set(fills) and applied.fill_id in fills and applied.HasField("corrected_date")
    for fill_id, booking in booked.items():
        day = booking.envelope.sim_time.ToDatetime().date()
        trade_date = fills[fill_id].fill.trade_date
        if fill_id == applied.fill_id:
            corrected = applied.corrected_date
            assert (day.year, day.month, day.day) == (corrected.year, corrected.month, corrected.day)
            assert (corrected.year, corrected.month, corrected.day) > (
                trade_date.year,
                trade_date.month,
                trade_date.day,
            )
            assert booking.envelope.event_id == applied.correction_event_ids[0]
            assert list(booking.envelope.caused_by) == [fills[fill_id].envelope.event_id]
        else:
            assert (day.year, day.month, day.day) == (trade_date.year, trade_date.month, trade_date.day)


def _ymd(date: common_pb2.Date) -> tuple[int, int, int]:
    return (date.year, date.month, date.day)


def test_a_bad_print_on_demand_hits_the_named_instruments_next_primary_price(tmp_path: Path) -> None:
    """InjectFault(PRIMARY_PRICE_SPIKE, instrument_id) waits for the next business day, then that
    day's price.tick of the instrument carries the bad print: ListInjectedFaults names that event.
    vendor_b disagrees with it that day (it prices off the true price) and agrees again the next."""
    days = 8
    env = market_env(
        OPSUITE_SPEED="4",
        OPSUITE_DAYS=str(days),
        OPSUITE_FAULT_RATE="0",
        OPSUITE_ALLOW_FAULT_INJECTION="true",
    )
    market = start_service("market", tmp_path / "data", env)
    market.wait_serving()
    try:
        with grpc.insecure_channel(market.address) as channel:
            stub = market_pb2_grpc.MarketServiceStub(channel)
            before = stub.GetClock(market_pb2.GetClockRequest()).business_days_elapsed
            fault = stub.InjectFault(
                market_pb2.InjectFaultRequest(
                    kind=market_pb2.FAULT_KIND_PRIMARY_PRICE_SPIKE, instrument_id="US-NWSF"
                )
            )
            after = stub.GetClock(market_pb2.GetClockRequest()).business_days_elapsed
            assert fault.status == market_pb2.FAULT_STATUS_PENDING and fault.on_demand
            assert fault.instrument_id == "US-NWSF" and not fault.event_ids
            events = read_events(stub, from_seq=1, day_ends=days)
            [applied] = stub.ListInjectedFaults(
                market_pb2.ListInjectedFaultsRequest(kind=market_pb2.FAULT_KIND_PRIMARY_PRICE_SPIKE)
            ).faults
    finally:
        assert market.stop() == 0
    assert after < days, "the run ended before the request: nothing left to hit"
    assert (applied.fault_id, applied.status, applied.instrument_id) == (
        fault.fault_id,
        market_pb2.FAULT_STATUS_APPLIED,
        "US-NWSF",
    )
    assert not applied.HasField("corrected_date") and not applied.correction_event_ids
    dates = [_ymd(e.day_end.date) for e in events if e.envelope.kind == "clock.day_end"]
    # The request was taken while the clock stood between `before` and `after` days elapsed:
    # the next business day is the one after it.
    assert before <= dates.index(_ymd(applied.applied_date)) <= after
    by_id = {e.envelope.event_id: e for e in events}
    [event_id] = applied.event_ids
    tick = by_id[event_id]
    assert tick.envelope.kind == "price.tick" and tick.price.instrument_id == "US-NWSF"
    assert _ymd(tick.price.price_date) == _ymd(applied.applied_date)

    def price(kind: str, date: tuple[int, int, int]) -> Decimal:
        [found] = [
            Decimal(e.price.price.value)
            for e in events
            if e.envelope.kind == kind
            and e.price.instrument_id == "US-NWSF"
            and _ymd(e.price.price_date) == date
        ]
        return found

    day = _ymd(applied.applied_date)
    assert Decimal("0.07") < abs(price("price.tick", day) / price("price.vendor", day) - 1) < Decimal("0.27")
    following = dates.index(day) + 1
    if following < len(dates):
        next_day = dates[following]
        assert abs(price("price.tick", next_day) / price("price.vendor", next_day) - 1) < Decimal("0.0025")


async def test_subscriber_resumes_after_market_restart_without_gap_or_duplicate(tmp_path: Path) -> None:
    days = 30
    env = market_env(OPSUITE_SPEED="25", OPSUITE_DAYS=str(days))
    address = f"127.0.0.1:{free_port('127.0.0.1')}"
    market = start_service("market", tmp_path / "data", env, address=address)
    await asyncio.to_thread(market.wait_serving)

    applied: list[market_pb2.MarketEvent] = []

    def apply(events: Sequence[market_pb2.MarketEvent]) -> None:
        applied.extend(events)

    client = EventStreamClient(
        address,
        FileCursorStore(tmp_path / "cursor"),
        apply,
        service="test-subscriber",
        security=PLAINTEXT,
        backoff_max_s=0.5,
    )
    runner = asyncio.create_task(client.run())
    try:
        await client.wait_for_seq(300, timeout=60)
        assert await asyncio.to_thread(market.stop) == 0
        market = start_service("market", tmp_path / "data", env, address=address)
        await asyncio.to_thread(market.wait_serving)

        def day_ends() -> int:
            return sum(1 for e in applied if e.envelope.kind == "clock.day_end")

        with grpc.insecure_channel(address) as channel:
            stub = market_pb2_grpc.MarketServiceStub(channel)
            while day_ends() < days:
                head = stub.GetClock(market_pb2.GetClockRequest()).head_seq
                await client.wait_for_seq(min(head, client.applied_seq + 1), timeout=60)
        assert client.reconnects >= 1
    finally:
        await client.stop()
        runner.cancel()
        assert await asyncio.to_thread(market.stop) == 0

    seqs = [e.envelope.seq for e in applied]
    assert seqs == list(range(1, len(seqs) + 1))
    # The restarted market continued the very same run: compare with a run that never stopped.
    lines = (
        _simulate(tmp_path, "uninterrupted.jsonl", int(env["OPSUITE_SEED"]), days=days)
        .read_text()
        .splitlines()
    )
    assert len(lines) == len(applied)
    for line, event in zip(lines, applied, strict=True):
        assert without_traceparent(json_format.Parse(line, market_pb2.MarketEvent())) == without_traceparent(
            event
        )


def test_a_data_directory_holding_another_run_is_refused_with_a_reason(tmp_path: Path) -> None:
    first = start_service("market", tmp_path / "data", market_env(OPSUITE_DAYS="2"))
    first.wait_serving()
    assert first.stop() == 0
    other = start_service("market", tmp_path / "data", market_env(OPSUITE_DAYS="2", OPSUITE_SEED="12"))
    assert other.process.wait(timeout=60) == 1
    assert other.stop() == 1
    log = other.log_text()
    assert (
        "The data directory holds another run (seed 11, not 12), so market cannot resume it: "
        "`opsuite up --fresh` deletes the previous run, or point OPSUITE_DATA_DIR somewhere else."
    ) in log


def test_a_restarting_market_answers_unavailable_until_its_run_is_restored(tmp_path: Path) -> None:
    """A finished run of 250 days restored after a restart: the first call, made as soon as market
    listens (restoring 35,000 events takes most of a second), is UNAVAILABLE with the reason, never
    the half-restored clock (head 0, not running) it answered before; once SERVING, the whole run."""
    env = {"OPSUITE_SEED": "3", "OPSUITE_START": "2019-01-02", "OPSUITE_DAYS": "250", "OPSUITE_SPEED": "max"}
    first = start_service("market", tmp_path / "market", env)
    first.wait_serving()
    with grpc.insecure_channel(first.address) as channel:
        stub = market_pb2_grpc.MarketServiceStub(channel)
        wait_until(lambda: not stub.GetClock(market_pb2.GetClockRequest()).running, what="the last day")
        head = stub.GetClock(market_pb2.GetClockRequest()).head_seq
    assert first.stop() == 0
    second = start_service("market", tmp_path / "market", env)
    try:
        assert second.wait_listening(), second.log_text()
        with grpc.insecure_channel(second.address) as channel:
            stub = market_pb2_grpc.MarketServiceStub(channel)
            with pytest.raises(grpc.RpcError) as refused:
                stub.GetClock(market_pb2.GetClockRequest(), timeout=30)
            assert refused.value.code() == grpc.StatusCode.UNAVAILABLE
            assert "restoring its run from the event log" in refused.value.details()
            second.wait_serving()
            assert stub.GetClock(market_pb2.GetClockRequest()).head_seq == head
    finally:
        second.stop()
