"""The wire form of the simulation's records."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
from decimal import Decimal

import grpc
import pytest

from opsuite.common.v1 import common_pb2
from opsuite.market.v1 import market_pb2
from services.common.convert import date_from_proto, decimal_to_proto
from services.common.market_events.decode import decode
from services.common.status import RequestError
from services.market import codec
from services.market.runtime import ClockState
from services.market.server import clock_to_proto
from services.market.sim.engine import SimConfig, Simulation
from services.market.sim.macro import MacroHistory
from services.market.sim.records import (
    AssetClass,
    CashFlowKind,
    CorporateActionKind,
    CorrectionKind,
    CustodianCorrection,
    CustodianTrade,
    FaultKind,
    FaultStatus,
    InjectedFault,
    RegimeState,
    SettlementState,
    Side,
    SimEvent,
    SyntheticOrigin,
)
from tests.market.conftest import REAL_START, Run, all_events


def _date(message: common_pb2.Date) -> dt.date:
    return date_from_proto(message, "date")


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Decimal("0E-8"), "0.00000000"),
        (Decimal("1E+3"), "1000"),
        (Decimal("-0.00"), "0.00"),
        (Decimal("1234.5600"), "1234.5600"),
        (Decimal("-0.01"), "-0.01"),
        (Decimal("1.5E-7"), "0.00000015"),
    ],
)
def test_decimals_are_plain_notation(value: Decimal, text: str) -> None:
    assert decimal_to_proto(value).value == text
    assert Decimal(decimal_to_proto(value).value) == value


@pytest.mark.parametrize(
    ("members", "proto_enum", "prefix"),
    [
        (Side, market_pb2.Side, "SIDE"),
        (SettlementState, market_pb2.SettlementState, "SETTLEMENT_STATE"),
        (CorporateActionKind, market_pb2.CorporateActionKind, "CORPORATE_ACTION_KIND"),
        (CashFlowKind, market_pb2.CashFlowKind, "CASH_FLOW_KIND"),
        (FaultKind, market_pb2.FaultKind, "FAULT_KIND"),
        (FaultStatus, market_pb2.FaultStatus, "FAULT_STATUS"),
        (CorrectionKind, market_pb2.CorrectionKind, "CORRECTION_KIND"),
        (AssetClass, common_pb2.AssetClass, "ASSET_CLASS"),
    ],
)
def test_every_record_enum_has_its_proto_value_and_back(members, proto_enum, prefix: str) -> None:
    names = {
        name.removeprefix(prefix + "_")
        for name in proto_enum.DESCRIPTOR.values_by_name
        if not name.endswith("UNSPECIFIED")
    }
    assert names == {m.value for m in members}


def _decimals_in(message) -> list[str]:
    out = []
    for descriptor, value in message.ListFields():
        values = value if descriptor.is_repeated else [value]
        for item in values:
            if (
                descriptor.message_type is not None
                and descriptor.message_type.full_name == "opsuite.common.v1.Decimal"
            ):
                out.append(item.value)
            elif descriptor.message_type is not None and not descriptor.message_type.GetOptions().map_entry:
                out.extend(_decimals_in(item))
    return out


def test_every_event_of_a_run_encodes_with_plain_decimals(real_run: Run) -> None:
    seen_kinds = set()
    for event in all_events(real_run):
        message = codec.event_to_proto(event)
        assert message.envelope.seq == event.seq and message.envelope.event_id == event.event_id
        assert message.envelope.source == "market" and message.envelope.kind == event.kind
        assert list(message.envelope.caused_by) == list(event.caused_by)
        assert message.envelope.mandate_id == event.mandate_id and message.envelope.traceparent == ""
        assert message.envelope.sim_time.ToDatetime(dt.UTC) == event.sim_time
        assert message.WhichOneof("payload") is not None
        for text in _decimals_in(message):
            assert "E" not in text and "e" not in text and text.strip() == text
            Decimal(text)
        seen_kinds.add(event.kind)
    assert len(seen_kinds) >= 15


def _first(result: Run, kind: str):
    return next(e for e in all_events(result) if e.kind == kind)


def test_a_fill_round_trips_exactly(real_run: Run) -> None:
    fill = _first(real_run, "trade.fill").payload
    message = codec.event_to_proto(_first(real_run, "trade.fill")).fill
    assert message.side == market_pb2.SIDE_BUY and fill.side is Side.BUY
    assert Decimal(message.quantity.value) == fill.quantity and Decimal(message.price.value) == fill.price
    assert Decimal(message.net_amount.amount.value) == fill.net_amount
    assert message.net_amount.currency == fill.currency
    assert _date(message.settle_date) == fill.settle_date
    parsed = market_pb2.MarketEvent.FromString(
        codec.event_to_proto(_first(real_run, "trade.fill")).SerializeToString()
    )
    assert parsed.fill == message


def test_bond_prices_carry_accrued_and_equities_do_not(real_run: Run) -> None:
    ticks = [e for e in real_run.days[0].events if e.kind == "price.tick"]
    equity = codec.event_to_proto(ticks[0]).price
    bond_event = next(e for e in ticks if e.payload.accrued_interest is not None)
    bond = codec.event_to_proto(bond_event).price
    assert not equity.HasField("accrued_interest") and equity.yield_pct == 0
    assert Decimal(bond.accrued_interest.value) == bond_event.payload.accrued_interest
    assert bond.yield_pct == bond_event.payload.yield_pct


def test_settlement_cash_flow_and_statement_payloads(real_run: Run) -> None:
    settlement = _first(real_run, "custodian.settlement")
    message = codec.event_to_proto(settlement).settlement
    assert message.state == market_pb2.SETTLEMENT_STATE_SETTLED
    assert Decimal(message.cash_amount.amount.value) == settlement.payload.cash_amount
    dividend = _first(real_run, "cashflow.dividend")
    flow = codec.event_to_proto(dividend).cash_flow
    assert flow.kind == market_pb2.CASH_FLOW_KIND_DIVIDEND and flow.action_id == dividend.payload.action_id
    assert Decimal(flow.quantity.value) == dividend.payload.quantity
    subscription = codec.event_to_proto(_first(real_run, "cashflow.subscription")).cash_flow
    assert not subscription.HasField("quantity") and not subscription.HasField("ex_date")
    statement = real_run.days[-1].events[-2]
    book = codec.event_to_proto(statement).custodian_statement.book
    assert {p.instrument_id: Decimal(p.quantity.value) for p in book.positions} == dict(
        statement.payload.book.positions
    )


def test_json_is_one_sorted_line_and_stable(real_run: Run) -> None:
    event = _first(real_run, "trade.fill")
    line = codec.event_to_json(codec.event_to_proto(event))
    assert "\n" not in line and line == codec.event_to_json(codec.event_to_proto(event))
    body = json.loads(line)
    assert list(body) == sorted(body)
    assert body["envelope"]["event_id"] == event.event_id and body["envelope"]["sim_time"].endswith("Z")
    assert body["fill"]["net_amount"]["amount"]["value"] == decimal_to_proto(event.payload.net_amount).value


def test_reference_data_and_faults(real_run: Run) -> None:
    sim = real_run.sim
    bond = next(i for i in sim.instruments if i.maturity is not None)
    message = codec.instrument_to_proto(bond)
    assert message.asset_class == common_pb2.ASSET_CLASS_GOVERNMENT_BOND
    assert _date(message.maturity_date) == bond.maturity
    assert Decimal(message.coupon_rate_pct.value) == bond.coupon_rate_pct
    assert not codec.instrument_to_proto(sim.instruments[0]).HasField("maturity_date")
    assert (message.isin, message.cusip) == (bond.isin, bond.cusip) and message.cusip
    japanese = codec.instrument_to_proto(sim.instrument("JP-6987"))
    assert japanese.isin.startswith("JP3") and japanese.cusip == ""
    mandate = codec.mandate_to_proto(sim.mandates[0])
    assert mandate.initial_capital.currency == sim.mandates[0].base_currency
    assert list(mandate.allowed_asset_classes) == [a.value for a in sim.mandates[0].allowed_asset_classes]
    assert len(mandate.sector_targets) == len(sim.mandates[0].sector_targets)
    fault = sim.faults()[0]
    wire = codec.fault_to_proto(fault)
    assert wire.fault_id == fault.fault_id and wire.status == market_pb2.FAULT_STATUS_APPLIED
    assert list(wire.event_ids) == list(fault.event_ids) and _date(wire.applied_date) == fault.applied_date


def test_a_corrected_fault_carries_its_correction_and_an_open_one_none() -> None:
    corrected = InjectedFault(
        fault_id="FLT-000009",
        kind=FaultKind.CUSTODIAN_PRICE_TYPO,
        status=FaultStatus.APPLIED,
        on_demand=False,
        applied_date=dt.date(2020, 3, 12),
        event_ids=("mkt-4",),
        corrected_date=dt.date(2020, 3, 17),
        correction_event_ids=("mkt-90", "mkt-91", "mkt-95"),
    )
    wire = codec.fault_to_proto(corrected)
    assert _date(wire.corrected_date) == dt.date(2020, 3, 17)
    assert list(wire.correction_event_ids) == ["mkt-90", "mkt-91", "mkt-95"]
    open_one = codec.fault_to_proto(
        InjectedFault("FLT-000010", FaultKind.CUSTODIAN_DROP_TRADE, FaultStatus.APPLIED, True)
    )
    assert not open_one.HasField("corrected_date") and list(open_one.correction_event_ids) == []


def _event(payload, kind: str) -> SimEvent:
    return SimEvent(
        7, "mkt-7", dt.datetime(2020, 3, 17, 17, tzinfo=dt.UTC), kind, payload, "BAL-USD", ("mkt-3",)
    )


def test_a_cancellation_and_a_rebooking_on_the_wire() -> None:
    cancel = CustodianCorrection(
        correction_ref="CUS-CX-0000001",
        kind=CorrectionKind.CANCEL_TRADE,
        custodian_ref="CUS-0000004",
        mandate_id="BAL-USD",
        currency="USD",
        correction_date=dt.date(2020, 3, 17),
        fill_id="FIL-0000002",
        instrument_id="US-NWSF",
        rebooked_ref="CUS-0000009",
        quantity=Decimal("-1200"),
        cash_amount=Decimal("148156.18"),
        reason="booked 12000 @ 123.45 in error; rebooked as CUS-0000009; its settlement reversed",
    )
    message = codec.event_to_proto(_event(cancel, "custodian.correction"))
    assert message.WhichOneof("payload") == "custodian_correction"
    wire = message.custodian_correction
    assert (wire.correction_ref, wire.custodian_ref, wire.rebooked_ref) == (
        "CUS-CX-0000001",
        "CUS-0000004",
        "CUS-0000009",
    )
    assert wire.kind == market_pb2.CORRECTION_KIND_CANCEL_TRADE
    assert (wire.fill_id, wire.cash_flow_id, wire.mandate_id, wire.instrument_id) == (
        "FIL-0000002",
        "",
        "BAL-USD",
        "US-NWSF",
    )
    assert (wire.quantity.value, wire.cash_amount.amount.value, wire.cash_amount.currency) == (
        "-1200",
        "148156.18",
        "USD",
    )
    assert _date(wire.correction_date) == dt.date(2020, 3, 17) and not wire.HasField("value_date")
    assert wire.reason == cancel.reason
    dated = CustodianCorrection(
        "CUS-CX-0000002",
        CorrectionKind.VALUE_DATE,
        "CUS-CF-0000003",
        "BAL-USD",
        "JPY",
        dt.date(2020, 3, 24),
        cash_flow_id="CF-0000012",
        value_date=dt.date(2020, 3, 20),
    )
    wire = codec.event_to_proto(_event(dated, "custodian.correction")).custodian_correction
    assert wire.kind == market_pb2.CORRECTION_KIND_VALUE_DATE and _date(wire.value_date) == dt.date(
        2020, 3, 20
    )
    assert (wire.quantity.value, wire.cash_amount.amount.value, wire.cash_amount.currency) == (
        "0",
        "0",
        "JPY",
    )
    rebooked = CustodianTrade(
        "CUS-0000009",
        "FIL-0000002",
        "BAL-USD",
        "US-NWSF",
        Side.BUY,
        Decimal(1200),
        Decimal("123.45"),
        "USD",
        Decimal("148156.18"),
        dt.date(2020, 3, 12),
        dt.date(2020, 3, 16),
        replaces_ref="CUS-0000004",
    )
    assert (
        codec.event_to_proto(_event(rebooked, "custodian.trade")).custodian_trade.replaces_ref
        == "CUS-0000004"
    )


def test_snapshot_filters_books_by_mandate(real_run: Run) -> None:
    snapshot = real_run.days[-1].snapshot
    everything = codec.snapshot_to_proto(snapshot)
    assert everything.as_of_seq == snapshot.as_of_seq and len(everything.internal_books) == len(
        snapshot.internal_books
    )
    one = codec.snapshot_to_proto(snapshot, mandate_id="EQ-JPY")
    assert (
        [b.mandate_id for b in one.internal_books]
        == ["EQ-JPY"]
        == [b.mandate_id for b in one.custodian_books]
    )
    assert len(one.prices) == len(snapshot.prices) and len(one.fx_rates) == 6


def test_fault_requests_from_the_wire() -> None:
    request = codec.fault_request_from_proto(
        market_pb2.InjectFaultRequest(
            kind=market_pb2.FAULT_KIND_FX_CROSS_INCONSISTENT, currency_pair="eurgbp"
        )
    )
    assert request.kind is FaultKind.FX_CROSS_INCONSISTENT and request.currency_pair == "EURGBP"
    for kind in (market_pb2.FAULT_KIND_UNSPECIFIED, 99):
        with pytest.raises(RequestError) as caught:
            codec.fault_request_from_proto(market_pb2.InjectFaultRequest(kind=kind))
        assert caught.value.code == grpc.StatusCode.INVALID_ARGUMENT
        assert caught.value.message == f"kind: {kind} is not a valid value"
        assert "FAULT_KIND_CUSTODIAN_DROP_TRADE" in caught.value.violations[0].description


def _regime_event(origin: SyntheticOrigin | None) -> SimEvent:
    state = RegimeState(
        date=dt.date(2025, 3, 4),
        regime="stress",
        fed_funds_pct=4.33,
        curve_slope_pct=0.21,
        breakeven_inflation_pct=2.31,
        unemployment_pct=4.1,
        equity_drift_annual=0.02,
        equity_vol_annual=0.31,
        curve_pct={"3M": 4.3, "2Y": 4.0, "5Y": 4.05, "10Y": 4.21, "30Y": 4.5},
        origin=origin,
    )
    sim_time = dt.datetime(2025, 3, 4, 9, tzinfo=dt.UTC)
    return SimEvent(seq=7, event_id="mkt-7", sim_time=sim_time, kind="market.regime", payload=state)


def test_a_synthetic_day_says_where_it_was_drawn_from_on_the_wire_and_in_json() -> None:
    origin = SyntheticOrigin(
        replayed=dt.date(2008, 9, 15), block_first=dt.date(2008, 9, 2), block_last=dt.date(2008, 9, 30)
    )
    event = _regime_event(origin)
    wire = codec.event_to_proto(event)

    assert wire.regime.HasField("synthetic")
    assert _date(wire.regime.synthetic.replayed) == dt.date(2008, 9, 15)
    assert decode(market_pb2.MarketEvent.FromString(wire.SerializeToString())) == event
    body = json.loads(codec.event_to_json(wire))
    assert body["regime"]["synthetic"] == {
        "replayed": {"year": 2008, "month": 9, "day": 15},
        "block_first": {"year": 2008, "month": 9, "day": 2},
        "block_last": {"year": 2008, "month": 9, "day": 30},
    }


def test_a_real_day_has_no_synthetic_origin() -> None:
    event = _regime_event(None)
    wire = codec.event_to_proto(event)

    assert not wire.regime.HasField("synthetic")
    decoded = decode(market_pb2.MarketEvent.FromString(wire.SerializeToString()))
    assert decoded == event and isinstance(decoded.payload, RegimeState) and decoded.payload.origin is None
    assert "synthetic" not in json.loads(codec.event_to_json(wire))["regime"]


def test_the_clock_says_whether_its_day_is_synthetic_and_where_the_real_data_ends() -> None:
    real_end = dt.date(2024, 12, 31)
    origin = SyntheticOrigin(dt.date(2008, 9, 15), dt.date(2008, 9, 2), dt.date(2008, 9, 30))
    state = ClockState(
        sim_date=dt.date(2025, 3, 4),
        live=False,
        days_per_second=0.0,
        seed=7,
        start_date=dt.date(2024, 12, 2),
        end_date=dt.date(2025, 3, 4),
        days_elapsed=63,
        head_seq=1000,
        oldest_seq=1,
        regime="stress",
        data_source="snapshot",
        running=False,
        synthetic=origin,
        real_data_end=real_end,
    )
    synthetic = clock_to_proto(state)
    real = clock_to_proto(dataclasses.replace(state, sim_date=real_end, synthetic=None))

    assert _date(synthetic.real_data_end) == _date(real.real_data_end) == real_end
    assert _date(synthetic.synthetic.block_first) == dt.date(2008, 9, 2)
    assert _date(synthetic.synthetic.block_last) == dt.date(2008, 9, 30)
    assert not real.HasField("synthetic")


# The sha256 of every event's bytes (serialized deterministically) of two runs, as the encoder that
# built each payload from sub-messages made them (2026-12-01). Events are now written in place, field
# by field; the bytes must not change. A change to the simulation that changes its events changes
# these too: then raise WORLD_VERSION (services/market/run_identity.py) and take the new digests.
_REFERENCE_DIGESTS = {
    (7, 60, 1.0): "d32ddff28a51ed7cfd70d154777825c1fa4ed6f3c7251dd688f491a96a46ccff",
    (11, 40, 10.0): "73be4094f6485bbf3f1369b4df0ce536a4f9a3c191668f80672af1c8f436ed25",
}


@pytest.mark.parametrize(("seed", "days", "fault_rate"), list(_REFERENCE_DIGESTS))
def test_events_encode_to_the_reference_bytes(
    real_history: MacroHistory, seed: int, days: int, fault_rate: float
) -> None:
    sim = Simulation(SimConfig(seed=seed, start=REAL_START, days=days, fault_rate=fault_rate), real_history)
    digest = hashlib.sha256()
    payloads: set[str] = set()
    while (day := sim.step()) is not None:
        for event in day.events:
            payloads.add(type(event.payload).__name__)
            digest.update(codec.event_to_proto(event).SerializeToString(deterministic=True))
    assert len(payloads) == 16  # every kind of payload, the in-place ones and the others
    assert digest.hexdigest() == _REFERENCE_DIGESTS[(seed, days, fault_rate)]
