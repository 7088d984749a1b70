"""Unknown ids and values in market's requests, through a real in-process server and client: an id
this run does not have is NOT_FOUND naming the ones it has, a value outside a filter's vocabulary
is INVALID_ARGUMENT naming the allowed ones, and neither changes anything."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc
import grpc.aio
import pytest

from opsuite.common.v1 import common_pb2
from opsuite.market.v1 import market_pb2 as pb
from opsuite.market.v1 import market_pb2_grpc
from services.common.eventlog import open_event_log
from services.market.fred import load_macro
from services.market.runtime import ClockSettings, MarketRuntime
from services.market.server import MarketServicer, register
from services.market.sim.engine import SimConfig
from tests.support.refusals import refusal

START = dt.date(2020, 3, 2)
MANDATES = "BAL-USD, EQ-EUR, INC-GBP, FI-USD, EQ-JPY"


@pytest.fixture
async def stub(tmp_path: Path) -> AsyncIterator[market_pb2_grpc.MarketServiceStub]:
    runtime = MarketRuntime(
        SimConfig(seed=7, start=START, days=3),
        load_macro(START),
        open_event_log(None, tmp_path),
        ClockSettings(None),
        retention_events=100_000,
    )
    await runtime.start()  # three days as fast as possible, so a stream has events to send
    server = grpc.aio.server()
    # Fault injection on: the InjectFault tests below reach the checks of its targets.
    register(server, MarketServicer(runtime, allow_fault_injection=True))
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            yield market_pb2_grpc.MarketServiceStub(channel)
    finally:
        await server.stop(None)
        await runtime.stop()
        runtime.event_log.close()


async def refused(call: Any, code: grpc.StatusCode) -> tuple[str, dict[str, str], str]:
    """(message, field -> description, ErrorInfo reason) of a call that must fail with `code`."""
    said = await refusal(call, code)
    return said.message, said.violations, said.reason


async def first_batch(
    stub: market_pb2_grpc.MarketServiceStub, request: pb.StreamEventsRequest
) -> pb.EventBatch:
    call = stub.StreamEvents(request, timeout=10)
    try:
        async for batch in call:
            return batch
    finally:
        call.cancel()
    raise AssertionError("the stream ended without a batch")


async def test_an_unknown_event_kind_in_the_stream_filter_is_refused_with_the_kinds(
    stub: market_pb2_grpc.MarketServiceStub,
) -> None:
    request = pb.StreamEventsRequest(filter=pb.EventFilter(kinds=["trade.fill", "trades"]))
    message, violations, reason = await refused(first_batch(stub, request), grpc.StatusCode.INVALID_ARGUMENT)
    assert violations == {"filter.kinds[1]": "'trades' is not the start of any event kind"}
    assert reason == "INVALID_ARGUMENT"
    assert message.startswith("filter.kinds[1]: 'trades' is not the start of any event kind; the kinds are ")
    assert "trade.fill" in message and "clock.day_end" in message and "custodian.statement" in message


async def test_a_kind_prefix_that_starts_real_kinds_is_accepted(
    stub: market_pb2_grpc.MarketServiceStub,
) -> None:
    # The filter keeps kinds by prefix ("trade." keeps trade.fill and trade.confirmation): no refusal.
    batch = await first_batch(
        stub, pb.StreamEventsRequest(filter=pb.EventFilter(kinds=["trade.", "custodian"]))
    )
    assert all(e.envelope.kind.startswith(("trade.", "custodian")) for e in batch.events)


async def test_an_unknown_mandate_in_the_stream_filter_is_not_found(
    stub: market_pb2_grpc.MarketServiceStub,
) -> None:
    request = pb.StreamEventsRequest(filter=pb.EventFilter(mandate_ids=["BAL-USD", "NOPE"]))
    message, violations, reason = await refused(first_batch(stub, request), grpc.StatusCode.NOT_FOUND)
    assert message == f"unknown mandate 'NOPE'; known: {MANDATES}"
    assert violations == {"filter.mandate_ids[1]": "unknown mandate"}
    assert reason == "MANDATE_NOT_FOUND"


async def test_get_snapshot_of_an_unknown_mandate_names_the_known_ones(
    stub: market_pb2_grpc.MarketServiceStub,
) -> None:
    message, violations, _ = await refused(
        stub.GetSnapshot(pb.GetSnapshotRequest(mandate_id="NOPE")), grpc.StatusCode.NOT_FOUND
    )
    assert message == f"unknown mandate 'NOPE'; known: {MANDATES}"
    assert violations == {"mandate_id": "unknown mandate"}


async def test_list_injected_faults_of_an_unknown_mandate_or_kind_is_refused(
    stub: market_pb2_grpc.MarketServiceStub,
) -> None:
    message, violations, _ = await refused(
        stub.ListInjectedFaults(pb.ListInjectedFaultsRequest(mandate_id="NOPE")), grpc.StatusCode.NOT_FOUND
    )
    assert message == f"unknown mandate 'NOPE'; known: {MANDATES}"
    _, violations, reason = await refused(
        stub.ListInjectedFaults(pb.ListInjectedFaultsRequest(kind=99)), grpc.StatusCode.INVALID_ARGUMENT
    )
    assert reason == "INVALID_ENUM"
    assert violations["kind"].startswith("99 is not one of FAULT_KIND_")


async def test_inject_fault_on_an_unknown_target_is_not_found_and_injects_nothing(
    stub: market_pb2_grpc.MarketServiceStub,
) -> None:
    message, violations, reason = await refused(
        stub.InjectFault(pb.InjectFaultRequest(kind=pb.FAULT_KIND_CUSTODIAN_DROP_TRADE, mandate_id="NOPE")),
        grpc.StatusCode.NOT_FOUND,
    )
    assert (message, violations, reason) == (
        f"unknown mandate 'NOPE'; known: {MANDATES}",
        {"mandate_id": "unknown mandate"},
        "MANDATE_NOT_FOUND",
    )
    # 54 instruments do not fit in a message: the nearest ids, and where the rest are listed.
    message, violations, reason = await refused(
        stub.InjectFault(
            pb.InjectFaultRequest(kind=pb.FAULT_KIND_VENDOR_PRICE_SPIKE, instrument_id="US-NWS")
        ),
        grpc.StatusCode.NOT_FOUND,
    )
    assert message.startswith("unknown instrument 'US-NWS'; nearest: US-NWSF")
    assert message.endswith("; ListInstruments lists all 54")
    assert (violations, reason) == ({"instrument_id": "unknown instrument"}, "INSTRUMENT_NOT_FOUND")
    # Nothing was injected (the seeded faults keep coming while the clock runs: only on-demand count).
    listed = await stub.ListInjectedFaults(pb.ListInjectedFaultsRequest(page_size=1000))
    assert [f.fault_id for f in listed.faults if f.on_demand] == []


async def test_list_instruments_with_an_unknown_currency_or_class_names_the_allowed_ones(
    stub: market_pb2_grpc.MarketServiceStub,
) -> None:
    _, violations, _ = await refused(
        stub.ListInstruments(pb.ListInstrumentsRequest(currency="CHF")), grpc.StatusCode.INVALID_ARGUMENT
    )
    assert violations == {"currency": "'CHF' is not one of EUR, GBP, JPY, USD"}
    _, violations, _ = await refused(
        stub.ListInstruments(pb.ListInstrumentsRequest(asset_class=42)), grpc.StatusCode.INVALID_ARGUMENT
    )
    assert violations["asset_class"].startswith("42 is not one of ASSET_CLASS_EQUITY")
    # The known values still filter as before.
    bonds = await stub.ListInstruments(
        pb.ListInstrumentsRequest(
            currency="USD", asset_class=common_pb2.ASSET_CLASS_GOVERNMENT_BOND, page_size=100
        )
    )
    assert bonds.instruments and all(i.instrument_id.startswith("UST-") for i in bonds.instruments)


async def test_an_unknown_confirmation_says_where_the_ids_are(
    stub: market_pb2_grpc.MarketServiceStub,
) -> None:
    message, violations, reason = await refused(
        stub.GetConfirmation(pb.GetConfirmationRequest(confirmation_id="CNF-nope")), grpc.StatusCode.NOT_FOUND
    )
    assert message == (
        "no confirmation or fill 'CNF-nope' in this run; their ids (CNF-..., FIL-...) are on the "
        "trade.confirmation and trade.fill events of StreamEvents"
    )
    assert (violations, reason) == ({"confirmation_id": "unknown id"}, "CONFIRMATION_NOT_FOUND")
