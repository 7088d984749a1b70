"""market's events decoded back to the stream's records: every event of a simulated year round-trips."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from decimal import Decimal

import pytest

from opsuite.common.v1 import common_pb2
from opsuite.market.v1 import market_pb2
from services.common.market_events import AssetClass, MarketEvent, priced_per_100, unit_price
from services.common.market_events.decode import decode, decode_instrument, decode_mandate
from services.market import codec
from services.market.fred import load_macro
from services.market.sim.engine import SimConfig, Simulation

START = dt.date(2019, 1, 2)
YEAR = 252


def test_every_event_of_a_simulated_year_decodes_to_what_market_encoded() -> None:
    # A high fault rate, so the custodian's mistakes (late value dates, failed settlements,
    # mistyped trades) are on the wire too.
    sim = Simulation(SimConfig(seed=11, start=START, days=YEAR, fault_rate=4.0), load_macro(START))
    kinds: set[str] = set()
    payloads: set[str] = set()
    count = 0
    while (day := sim.step()) is not None:
        for event in day.events:
            wire = codec.event_to_proto(event)
            payloads.add(str(wire.WhichOneof("payload")))
            # Through bytes, as a follower receives it.
            decoded = decode(market_pb2.MarketEvent.FromString(wire.SerializeToString()))
            assert decoded == event, event.event_id
            kinds.add(event.kind)
            count += 1
    assert count == sim.head_seq  # every event the year produced was checked
    assert payloads == {f.name for f in market_pb2.MarketEvent.DESCRIPTOR.oneofs_by_name["payload"].fields}
    assert {"price.tick", "price.vendor", "custodian.settlement", "cashflow.dividend"} <= kinds
    assert {"fee.accrued", "cashflow.fee"} <= kinds  # management fees accrue daily, are paid monthly
    assert {"trade.fx", "custodian.fx_settlement"} <= kinds  # two mandates hold a foreign currency


def test_every_instrument_and_mandate_decodes_to_what_market_encoded() -> None:
    sim = Simulation(SimConfig(seed=11, start=START, days=1), load_macro(START))
    for instrument in sim.instruments:
        wire = codec.instrument_to_proto(instrument).SerializeToString()
        assert decode_instrument(market_pb2.Instrument.FromString(wire)) == instrument
    for mandate in sim.mandates:
        wire = codec.mandate_to_proto(mandate).SerializeToString()
        assert decode_mandate(market_pb2.Mandate.FromString(wire)) == mandate
    # Every mandate has a benchmark by segment, so its fields were exercised too.
    assert all(m.benchmark_segments for m in sim.mandates)
    # Both kinds of instrument are in the universe, so the optional bond fields were exercised.
    assert {i.maturity is None for i in sim.instruments} == {True, False}


def test_a_mandates_fee_rate_round_trips_and_an_unset_one_decodes_as_zero() -> None:
    sim = Simulation(SimConfig(seed=11, start=START, days=1), load_macro(START))
    balanced = next(m for m in sim.mandates if m.mandate_id == "BAL-USD")
    wire = codec.mandate_to_proto(balanced)
    assert wire.management_fee_rate.value == "0.0045"
    assert decode_mandate(wire).management_fee_rate == Decimal("0.0045")
    wire.ClearField("management_fee_rate")  # a market that charges no fee
    assert decode_mandate(wire).management_fee_rate == Decimal(0)


def test_a_mandates_benchmark_segments_round_trip_with_cash_as_unspecified() -> None:
    sim = Simulation(SimConfig(seed=11, start=START, days=1), load_macro(START))
    balanced = next(m for m in sim.mandates if m.mandate_id == "BAL-USD")
    wire = codec.mandate_to_proto(balanced)
    segments = {s.name: s for s in wire.benchmark_segments}
    assert list(segments) == ["US equity", "European equity", "US Treasuries", "USD IG credit", "USD cash"]
    assert segments["European equity"].currency == "EUR"
    # The currencies it may hold, base first, and sector targets per sector and currency.
    assert list(wire.currencies) == ["USD", "EUR"]
    assert ("Financials", "EUR") in {(t.sector, t.currency) for t in wire.sector_targets}
    assert decode_mandate(wire).currencies == ("USD", "EUR")
    assert wire.benchmark_roll_off_years == 0.5
    # A cash segment has no asset class on the wire and no constituents.
    assert segments["USD cash"].asset_class == common_pb2.ASSET_CLASS_UNSPECIFIED
    assert not segments["USD cash"].constituents
    assert segments["US Treasuries"].asset_class == common_pb2.ASSET_CLASS_GOVERNMENT_BOND
    # Units travel as plain decimals: a Treasury's 40bn face, not 4E+10.
    assert {c.units.value for c in segments["US Treasuries"].constituents} == {"40000000000"}
    decoded = decode_mandate(market_pb2.Mandate.FromString(wire.SerializeToString()))
    assert decoded == balanced
    assert [s.asset_class for s in decoded.benchmark_segments] == [
        AssetClass.EQUITY,
        AssetClass.EQUITY,
        AssetClass.GOVERNMENT_BOND,
        AssetClass.CORPORATE_BOND,
        None,
    ]
    assert (
        decoded.benchmark_segments[0].constituents[0].units
        == balanced.benchmark_segments[0].constituents[0].units
    )


def test_a_mandate_without_benchmark_segments_decodes_to_the_defaults() -> None:
    # What a market from before benchmarks were published sends: the same mandate without them.
    sim = Simulation(SimConfig(seed=11, start=START, days=1), load_macro(START))
    wire = codec.mandate_to_proto(sim.mandates[0])
    wire.ClearField("benchmark_segments")
    wire.ClearField("benchmark_roll_off_years")
    decoded = decode_mandate(market_pb2.Mandate.FromString(wire.SerializeToString()))
    assert (decoded.benchmark_segments, decoded.benchmark_roll_off_years) == ((), 0.0)
    assert decoded.mandate_id == sim.mandates[0].mandate_id


def test_only_bonds_are_priced_per_100_of_face() -> None:
    assert [c for c in AssetClass if priced_per_100(c)] == [
        AssetClass.GOVERNMENT_BOND,
        AssetClass.CORPORATE_BOND,
    ]
    assert priced_per_100("CORPORATE_BOND") and not priced_per_100("EQUITY")
    # 98.50 per 100 of face is 0.985 per unit of face; a share's price is its unit value.
    assert unit_price(Decimal("98.50"), AssetClass.GOVERNMENT_BOND) == Decimal("0.985")
    assert unit_price(Decimal("98.50"), AssetClass.EQUITY) == Decimal("98.50")


def test_the_traceparent_set_on_the_wire_is_kept() -> None:
    wire = market_pb2.MarketEvent(
        envelope=common_pb2.EventEnvelope(
            seq=3, event_id="mkt-3", kind="clock.day_end", traceparent="00-ab-cd-01"
        ),
        day_end=market_pb2.DayEnd(date=common_pb2.Date(year=2020, month=1, day=2), events_in_day=3),
    )
    event = decode(wire)
    assert isinstance(event, MarketEvent)
    assert (event.seq, event.traceparent, event.payload.events_in_day) == (3, "00-ab-cd-01", 3)  # type: ignore[union-attr]
    assert event.trace_id == ""  # "00-ab-cd-01" is not a valid W3C traceparent


def test_the_trace_id_is_read_from_a_valid_traceparent() -> None:
    # The W3C Trace Context specification's own example (https://www.w3.org/TR/trace-context/,
    # section 3.2.2.4): "traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".
    wire = market_pb2.MarketEvent(
        envelope=common_pb2.EventEnvelope(
            seq=4, event_id="mkt-4", traceparent="00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
        ),
        day_end=market_pb2.DayEnd(date=common_pb2.Date(year=2020, month=1, day=2)),
    )
    assert decode(wire).trace_id == "4bf92f3577b34da6a3ce929d0e0e4736"


def test_an_event_without_a_payload_is_refused_naming_it() -> None:
    with pytest.raises(ValueError, match="mkt-9 has no payload"):
        decode(market_pb2.MarketEvent(envelope=common_pb2.EventEnvelope(seq=9, event_id="mkt-9")))


def test_the_records_import_nothing_but_the_standard_library() -> None:
    # Every domain may use them: importing them must not pull in protobuf, gRPC or telemetry.
    code = (
        "import sys, services.common.market_events\n"
        "bad = [m for m in ('google.protobuf', 'grpc', 'opsuite', 'opentelemetry') if m in sys.modules]\n"
        "print(bad)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
