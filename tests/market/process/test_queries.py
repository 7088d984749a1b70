"""Unary RPCs of market against a real process: reference data, snapshot, clock, confirmations, bad input."""

from __future__ import annotations

import io
import json

import grpc
import pytest
from pypdf import PdfReader

from opsuite.common.v1 import common_pb2
from opsuite.market.v1 import market_pb2, market_pb2_grpc
from services.common.status import details_of, status_from_error
from tests.market.process.conftest import DAYS, read_events
from tests.market.process.test_grpcurl import grpcurl
from tests.support.processes import ServiceProcess


@pytest.fixture(scope="module")
def market_settings() -> dict[str, str]:
    # This module injects a fault (through grpcurl) and checks InjectFault's refusals of bad requests.
    return {"OPSUITE_ALLOW_FAULT_INJECTION": "true"}


@pytest.fixture(scope="module")
def all_events(stub: market_pb2_grpc.MarketServiceStub) -> list[market_pb2.MarketEvent]:
    return read_events(stub)


def _violations(error: grpc.RpcError) -> dict[str, str]:
    bad_request, _ = details_of(status_from_error(error))
    assert bad_request is not None, f"no BadRequest details in {error}"
    return {v.field: v.description for v in bad_request.field_violations}


def test_instruments_cover_asset_classes_and_currencies(stub: market_pb2_grpc.MarketServiceStub) -> None:
    everything = stub.ListInstruments(market_pb2.ListInstrumentsRequest(page_size=1000)).instruments
    assert len(everything) >= 40
    assert {i.asset_class for i in everything} >= {
        common_pb2.ASSET_CLASS_EQUITY,
        common_pb2.ASSET_CLASS_GOVERNMENT_BOND,
        common_pb2.ASSET_CLASS_CORPORATE_BOND,
    }
    assert {i.currency for i in everything} >= {"USD", "EUR", "GBP", "JPY"}
    # Paging visits every instrument once, in the same order.
    paged, token = [], ""
    while True:
        page = stub.ListInstruments(market_pb2.ListInstrumentsRequest(page_size=7, page_token=token))
        assert len(page.instruments) <= 7
        paged.extend(page.instruments)
        token = page.next_page_token
        if not token:
            break
    assert [i.instrument_id for i in paged] == [i.instrument_id for i in everything]
    bonds = stub.ListInstruments(
        market_pb2.ListInstrumentsRequest(asset_class=common_pb2.ASSET_CLASS_GOVERNMENT_BOND)
    ).instruments
    assert bonds and all(b.coupons_per_year and b.maturity_date.year for b in bonds)


def test_mandates(stub: market_pb2_grpc.MarketServiceStub) -> None:
    mandates = stub.ListMandates(market_pb2.ListMandatesRequest()).mandates
    assert len(mandates) >= 4
    assert {m.base_currency for m in mandates} >= {"USD", "EUR", "GBP"}
    for mandate in mandates:
        assert mandate.benchmark and mandate.sector_targets and mandate.lot_method in {"FIFO", "AVERAGE"}
        assert (
            mandate.initial_capital.amount.value and mandate.initial_capital.currency == mandate.base_currency
        )


def test_clock_after_the_last_day(stub: market_pb2_grpc.MarketServiceStub, all_events: list) -> None:
    clock = stub.GetClock(market_pb2.GetClockRequest())
    assert clock.business_days_elapsed == DAYS
    assert clock.head_seq == all_events[-1].envelope.seq
    assert not clock.running
    assert clock.mode == market_pb2.CLOCK_MODE_MAX
    assert clock.data_source == "snapshot"
    assert clock.regime
    last_day = all_events[-1].day_end.date
    assert (clock.sim_date.year, clock.sim_date.month, clock.sim_date.day) == (
        last_day.year,
        last_day.month,
        last_day.day,
    )


def test_snapshot_agrees_with_the_stream(stub: market_pb2_grpc.MarketServiceStub, all_events: list) -> None:
    day_ends = [e for e in all_events if e.envelope.kind == "clock.day_end"]
    middle = day_ends[len(day_ends) // 2]
    # Asking for a seq inside the next day gives the snapshot at this day's end.
    snapshot = stub.GetSnapshot(market_pb2.GetSnapshotRequest(as_of_seq=middle.envelope.seq + 5))
    assert snapshot.as_of_seq == middle.envelope.seq
    day_prices = {
        e.price.instrument_id: e.price.price.value
        for e in all_events
        if e.envelope.kind == "price.tick" and e.envelope.seq < middle.envelope.seq
    }
    snapshot_prices = {p.instrument_id: p.price.value for p in snapshot.prices if p.vendor == "primary"}
    assert snapshot_prices == day_prices
    assert len(snapshot.internal_books) >= 4 and len(snapshot.custodian_books) >= 4
    latest = stub.GetSnapshot(market_pb2.GetSnapshotRequest())
    assert latest.as_of_seq == day_ends[-1].envelope.seq
    # The custodian's statement event of the last day is the custodian book of the snapshot.
    statements = {
        e.custodian_statement.book.mandate_id: e.custodian_statement.book
        for e in all_events
        if e.envelope.kind == "custodian.statement" and e.envelope.seq > day_ends[-2].envelope.seq
    }
    for book in latest.custodian_books:
        expected = statements[book.mandate_id]
        assert {p.instrument_id: p.quantity.value for p in book.positions} == {
            p.instrument_id: p.quantity.value for p in expected.positions
        }
    one = stub.GetSnapshot(market_pb2.GetSnapshotRequest(mandate_id=latest.internal_books[0].mandate_id))
    assert [b.mandate_id for b in one.internal_books] == [latest.internal_books[0].mandate_id]


def test_confirmation_document(stub: market_pb2_grpc.MarketServiceStub, all_events: list) -> None:
    confirmation = next(e.confirmation for e in all_events if e.envelope.kind == "trade.confirmation")
    fill = next(
        e.fill
        for e in all_events
        if e.envelope.kind == "trade.fill" and e.fill.fill_id == confirmation.fill_id
    )
    document = stub.GetConfirmation(
        market_pb2.GetConfirmationRequest(confirmation_id=confirmation.confirmation_id)
    )
    assert document.confirmation == confirmation
    assert document.pdf.startswith(b"%PDF")
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(document.pdf)).pages)
    assert confirmation.confirmation_id in text
    by_fill = stub.GetConfirmation(market_pb2.GetConfirmationRequest(confirmation_id=fill.fill_id))
    assert by_fill.confirmation.confirmation_id == confirmation.confirmation_id


@pytest.mark.parametrize(
    ("call", "code", "field"),
    [
        (
            lambda s: s.ListInstruments(market_pb2.ListInstrumentsRequest(page_size=-1)),
            "INVALID_ARGUMENT",
            "page_size",
        ),
        (
            lambda s: s.ListMandates(market_pb2.ListMandatesRequest(page_token="x")),
            "INVALID_ARGUMENT",
            "page_token",
        ),
        (lambda s: s.InjectFault(market_pb2.InjectFaultRequest()), "INVALID_ARGUMENT", "kind"),
        (
            lambda s: s.InjectFault(
                market_pb2.InjectFaultRequest(
                    kind=market_pb2.FAULT_KIND_CUSTODIAN_DROP_TRADE, mandate_id="NOPE"
                )
            ),
            "NOT_FOUND",
            "mandate_id",
        ),
        (
            lambda s: s.GetSnapshot(market_pb2.GetSnapshotRequest(mandate_id="NOPE")),
            "NOT_FOUND",
            "mandate_id",
        ),
        (
            lambda s: s.GetSnapshot(market_pb2.GetSnapshotRequest(as_of_seq=10**12)),
            "OUT_OF_RANGE",
            "as_of_seq",
        ),
        (
            # An unknown kind number: once answered INTERNAL (naming it raised inside the handler).
            lambda s: s.InjectFault(market_pb2.InjectFaultRequest(kind=99)),
            "INVALID_ARGUMENT",
            "kind",
        ),
        (
            lambda s: s.InjectFault(market_pb2.InjectFaultRequest()),
            "INVALID_ARGUMENT",
            "kind",
        ),
        (
            lambda s: s.GetConfirmation(market_pb2.GetConfirmationRequest()),
            "INVALID_ARGUMENT",
            "confirmation_id",
        ),
        (
            lambda s: s.GetConfirmation(market_pb2.GetConfirmationRequest(confirmation_id="nope")),
            "NOT_FOUND",
            "confirmation_id",
        ),
        (
            lambda s: next(
                iter(
                    s.StreamEvents(
                        market_pb2.StreamEventsRequest(filter=market_pb2.EventFilter(mandate_ids=["NOPE"])),
                        timeout=5,
                    )
                )
            ),
            "NOT_FOUND",
            "filter.mandate_ids[0]",
        ),
        (
            lambda s: next(
                iter(s.StreamEvents(market_pb2.StreamEventsRequest(max_batch_size=10**6), timeout=5))
            ),
            "INVALID_ARGUMENT",
            "max_batch_size",
        ),
    ],
)
def test_bad_requests_are_refused_with_field_violations(
    stub: market_pb2_grpc.MarketServiceStub, call, code: str, field: str, all_events: list
) -> None:
    # all_events: the run has ended, so the faults listed change only if a bad request changed them
    # (while it runs, a seeded fault's record moves on as its days pass: a flake under load).
    faults_before = stub.ListInjectedFaults(market_pb2.ListInjectedFaultsRequest()).faults
    with pytest.raises(grpc.RpcError) as raised:
        call(stub)
    assert raised.value.code().name == code
    assert field in _violations(raised.value)
    # Bad input changes nothing.
    assert stub.ListInjectedFaults(market_pb2.ListInjectedFaultsRequest()).faults == faults_before


def test_cursor_ahead_of_the_head_is_refused(stub: market_pb2_grpc.MarketServiceStub) -> None:
    with pytest.raises(grpc.RpcError) as raised:
        next(iter(stub.StreamEvents(market_pb2.StreamEventsRequest(from_seq=10**12), timeout=5)))
    assert raised.value.code() == grpc.StatusCode.OUT_OF_RANGE
    assert "beyond the head" in raised.value.details()


def test_a_market_that_allows_faults_injects_one_asked_through_grpcurl(market: ServiceProcess) -> None:
    """OPSUITE_ALLOW_FAULT_INJECTION=true (market_settings): grpcurl's InjectFault is taken, pending
    until a next business day (this market has ended its days), and listed as on demand."""
    asked = json.loads(
        grpcurl(
            market,
            "opsuite.market.v1.MarketService/InjectFault",
            flags=("-d", '{"kind": "FAULT_KIND_CUSTODIAN_DROP_TRADE", "mandate_id": "BAL-USD"}'),
        ).stdout
    )
    assert asked["fault_id"].startswith("FLT-") and asked["on_demand"] is True
    assert asked["status"] == "FAULT_STATUS_PENDING" and asked["mandate_id"] == "BAL-USD"
    listed = json.loads(
        grpcurl(
            market, "opsuite.market.v1.MarketService/ListInjectedFaults", flags=("-d", '{"page_size": 1000}')
        ).stdout
    )
    assert asked["fault_id"] in [f["fault_id"] for f in listed["faults"] if f.get("on_demand")]
