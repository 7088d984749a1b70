"""Benchmarks by segment: the specs' weights, constituents by asset class and currency, index units."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from decimal import Decimal

import pytest

from services.market import codec
from services.market.sim import benchmarks as benchmarks_module
from services.market.sim.benchmarks import (
    BOND_FACE,
    SEGMENTS,
    build_benchmarks,
    equity_units,
    index_units,
    local_per_usd,
    segment_of,
)
from services.market.sim.engine import SimConfig
from services.market.sim.macro import MacroHistory
from services.market.sim.mandates import MANDATE_SPECS, ROLL_OFF_YEARS
from services.market.sim.records import AssetClass
from services.market.sim.universe import EQUITIES, Universe, build_universe, equity_id
from tests.market.conftest import SYNTHETIC_START, all_events, run

START = dt.date(2020, 2, 3)
CURVE = {"3M": 1.57, "2Y": 1.36, "5Y": 1.35, "10Y": 1.54, "30Y": 2.01}
FX = {"EURUSD": Decimal("1.1093"), "GBPUSD": Decimal("1.3036"), "USDJPY": Decimal("108.71")}
START_PRICE = {equity_id(spec): Decimal(spec.start_price) for spec in EQUITIES}


@pytest.fixture(scope="module")
def universe() -> Universe:
    return build_universe(START, CURVE)


def test_every_mandate_has_its_specs_segments_in_order_and_they_sum_to_one(universe: Universe) -> None:
    built = build_benchmarks(universe, 11, FX)
    assert list(built) == [spec.mandate_id for spec in MANDATE_SPECS]
    for spec in MANDATE_SPECS:
        segments = built[spec.mandate_id]
        assert [(s.name, s.weight) for s in segments] == list(spec.benchmark_weights.items())
        assert math.isclose(sum(s.weight for s in segments), 1.0, abs_tol=1e-12), spec.mandate_id
        # A benchmark holds the mandate's currencies: its cash in the base currency alone.
        assert {s.currency for s in segments} == set(spec.currencies)
        assert {s.currency for s in segments if s.asset_class is None} == {spec.base_currency}
    # The two mandates with a foreign allocation have a foreign segment of the same weight.
    assert [(s.name, s.weight, s.currency) for s in built["BAL-USD"] if s.currency != "USD"] == [
        ("European equity", 0.08, "EUR")
    ]
    assert [(s.name, s.weight, s.currency) for s in built["EQ-EUR"] if s.currency != "EUR"] == [
        ("UK equity", 0.20, "GBP")
    ]


def test_constituents_are_every_instrument_of_the_segments_class_and_currency(universe: Universe) -> None:
    for segments in build_benchmarks(universe, 11, FX).values():
        for segment in segments:
            if segment.asset_class is None:
                continue
            members = [
                i.instrument_id
                for i in universe.instruments
                if i.asset_class is segment.asset_class and i.currency == segment.currency
            ]
            # All of them, in universe order, and nothing else.
            assert [c.instrument_id for c in segment.constituents] == members, segment.name
            for constituent in segment.constituents:
                instrument = universe.get(constituent.instrument_id)
                assert (instrument.asset_class, instrument.currency) == (
                    segment.asset_class,
                    segment.currency,
                )


def test_cash_segments_have_no_asset_class_and_no_constituents(universe: Universe) -> None:
    cash = [
        s for segments in build_benchmarks(universe, 11, FX).values() for s in segments if "cash" in s.name
    ]
    assert len(cash) == len(MANDATE_SPECS)  # one per mandate
    assert all(s.asset_class is None and s.constituents == () for s in cash)
    # And only they: every other segment names an asset class (two mandates share USD cash).
    assert {name for name, (asset_class, _) in SEGMENTS.items() if asset_class is None} == {
        s.name for s in cash
    }


def test_the_same_seed_gives_the_same_units_whole_and_positive(universe: Universe) -> None:
    units = index_units(universe, 11, FX)
    assert units == index_units(universe, 11, FX)
    assert list(units) == [i.instrument_id for i in universe.instruments]
    assert all(u > 0 and u == u.to_integral_value() for u in units.values())
    # Another seed draws other caps; bonds' faces are fixed figures.
    other = index_units(universe, 12, FX)
    equities = [i.instrument_id for i in universe.instruments if i.asset_class is AssetClass.EQUITY]
    assert all(other[i] != units[i] for i in equities)
    assert all(other[i] == units[i] for i in units if i not in equities)


def test_bonds_carry_their_face_outstanding(universe: Universe) -> None:
    units = index_units(universe, 11, FX)
    for instrument in universe.instruments:
        if instrument.asset_class is AssetClass.GOVERNMENT_BOND:
            assert units[instrument.instrument_id] == Decimal(40_000_000_000)
        elif instrument.asset_class is AssetClass.CORPORATE_BOND:
            assert units[instrument.instrument_id] == Decimal(1_000_000_000)
    assert set(BOND_FACE) == {AssetClass.GOVERNMENT_BOND, AssetClass.CORPORATE_BOND}


def test_equity_caps_at_the_start_price_lie_between_5bn_and_500bn_usd(universe: Universe) -> None:
    units = index_units(universe, 11, FX)
    caps_usd = []
    for instrument in universe.instruments:
        if instrument.asset_class is AssetClass.EQUITY:
            local = units[instrument.instrument_id] * START_PRICE[instrument.instrument_id]
            caps_usd.append(local / local_per_usd(instrument.currency, FX))
    # Rounding to whole shares moves a cap by at most half a share's price.
    assert all(Decimal("4.99e9") < cap < Decimal("500.01e9") for cap in caps_usd)
    # Log-uniform: the 40 caps spread over the range, not bunched at one end.
    assert min(caps_usd) < Decimal("20e9") and max(caps_usd) > Decimal("100e9")


def test_a_draw_becomes_whole_shares_by_hand() -> None:
    # cap = 5bn * 100 ** draw USD: the ends of the range and its geometric middle, 50bn.
    assert equity_units(Decimal(100), 0.0, Decimal(1)) == Decimal(50_000_000)
    assert equity_units(Decimal(100), 1.0, Decimal(1)) == Decimal(5_000_000_000)
    assert equity_units(Decimal(100), 0.5, Decimal(1)) == Decimal(500_000_000)
    # In euros at EURUSD 1.25: 50bn USD is 40bn EUR, at 80 EUR a share 500m shares.
    assert local_per_usd("EUR", {"EURUSD": Decimal("1.25")}) == Decimal("0.8")
    assert equity_units(Decimal(80), 0.5, Decimal("0.8")) == Decimal(500_000_000)
    # JPY is quoted per USD: at 110, 5bn USD is 550bn JPY, at 2,200 JPY a share 250m shares.
    assert local_per_usd("JPY", {"USDJPY": Decimal(110)}) == Decimal(110)
    assert equity_units(Decimal(2200), 0.0, Decimal(110)) == Decimal(250_000_000)
    # To the nearest whole share: 5bn / 3 = 1,666,666,666.67 shares.
    assert equity_units(Decimal(3), 0.0, Decimal(1)) == Decimal(1_666_666_667)


def test_the_cap_weights_of_one_segment_by_hand(universe: Universe) -> None:
    """GBP IG credit (Thames Income): four bonds of 1bn face each. At clean prices 100, 98, 102
    and 100 their values are 1.00bn, 0.98bn, 1.02bn and 1.00bn of 4bn: 25%, 24.5%, 25.5%, 25%."""
    segment = next(s for s in build_benchmarks(universe, 11, FX)["INC-GBP"] if s.name == "GBP IG credit")
    prices = dict(
        zip((c.instrument_id for c in segment.constituents), ("100", "98", "102", "100"), strict=True)
    )
    values = {c.instrument_id: c.units * Decimal(prices[c.instrument_id]) / 100 for c in segment.constituents}
    total = sum(values.values())
    weights = [values[c.instrument_id] / total for c in segment.constituents]
    assert total == Decimal(4_000_000_000)
    assert weights == [Decimal("0.25"), Decimal("0.245"), Decimal("0.255"), Decimal("0.25")]


def test_an_unknown_segment_name_fails_loudly(universe: Universe) -> None:
    assert segment_of("UK equity income") == (AssetClass.EQUITY, "GBP")
    with pytest.raises(ValueError, match="'Martian equity' is not one of US equity"):
        segment_of("Martian equity")
    spec = dataclasses.replace(MANDATE_SPECS[0], benchmark_weights={"Martian equity": 1.0})
    with pytest.raises(ValueError, match="Martian equity"):
        build_benchmarks(universe, 11, FX, (spec,))


def test_a_segment_the_universe_has_no_instruments_for_fails_loudly(universe: Universe) -> None:
    no_gbp_credit = Universe(
        instruments=tuple(
            i
            for i in universe.instruments
            if not (i.asset_class is AssetClass.CORPORATE_BOND and i.currency == "GBP")
        ),
        equity_specs=universe.equity_specs,
    )
    income = next(spec for spec in MANDATE_SPECS if spec.mandate_id == "INC-GBP")
    with pytest.raises(ValueError, match="'GBP IG credit': the universe has no CORPORATE_BOND in GBP"):
        build_benchmarks(no_gbp_credit, 11, FX, (income,))


def test_a_cap_needs_a_rate_and_a_draw_in_range() -> None:
    assert local_per_usd("USD", {}) == Decimal(1)
    with pytest.raises(ValueError, match="no USDCHF or CHFUSD rate"):
        local_per_usd("CHF", FX)
    with pytest.raises(ValueError, match="draw"):
        equity_units(Decimal(100), 1.5, Decimal(1))
    with pytest.raises(ValueError, match="draw"):
        equity_units(Decimal(100), -0.1, Decimal(1))


def test_units_draw_only_from_streams_of_their_own(universe: Universe, monkeypatch) -> None:
    """Purposes "benchmarks.<id>", one per equity: no other part's stream is advanced."""
    purposes: list[str] = []
    real = benchmarks_module.py_stream

    def recording(seed: int, purpose: str):
        purposes.append(purpose)
        return real(seed, purpose)

    monkeypatch.setattr(benchmarks_module, "py_stream", recording)
    index_units(universe, 11, FX)
    assert purposes == [f"benchmarks.{equity_id(spec)}" for spec in EQUITIES]


def test_the_simulation_publishes_benchmarks_and_its_events_do_not_change(
    synthetic: MacroHistory, monkeypatch
) -> None:
    config = SimConfig(seed=5, start=SYNTHETIC_START, days=15, fault_rate=10.0)
    with_benchmarks = run(config, synthetic)
    for mandate in with_benchmarks.sim.mandates:
        assert mandate.benchmark_roll_off_years == ROLL_OFF_YEARS == 0.5
        assert [s.name for s in mandate.benchmark_segments] == list(mandate.benchmark_weights)
    opening_fx = synthetic.days[0].fx
    assert {m.mandate_id: m.benchmark_segments for m in with_benchmarks.sim.mandates} == build_benchmarks(
        build_universe(SYNTHETIC_START, synthetic.days[0].yields_pct), 5, opening_fx
    )
    # The same run with no benchmarks at all emits the same bytes: they are reference data only.
    monkeypatch.setattr("services.market.sim.engine.build_benchmarks", lambda *_: {})
    without = run(config, synthetic)
    assert all(m.benchmark_segments == () for m in without.sim.mandates)

    def stream(result):
        return [codec.event_to_proto(e).SerializeToString(deterministic=True) for e in all_events(result)]

    assert stream(without) == stream(with_benchmarks)
