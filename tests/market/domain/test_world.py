"""The world's reference data and its parts: universe, mandates, calendar, prices, FX, custodian typos."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import math
import os
import random
import statistics
import subprocess
import sys
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest

from services.common.calendar import BusinessCalendar
from services.market.sim import bonds
from services.market.sim.actions import plan_actions
from services.market.sim.custodian import price_typo, quantity_typo
from services.market.sim.desk import make_fill
from services.market.sim.fx import cross_rate
from services.market.sim.macro import MacroHistory
from services.market.sim.mandates import build_mandates, cash_target, eligible, target_weights
from services.market.sim.prices import to_tick
from services.market.sim.records import AssetClass, CorporateActionKind, Side
from services.market.sim.rng import derive_seed
from services.market.sim.universe import build_universe
from tests.market.conftest import Run, all_events

START = dt.date(2020, 2, 3)
ROOT = Path(__file__).resolve().parents[2]
CURVE = {"3M": 1.57, "2Y": 1.36, "5Y": 1.35, "10Y": 1.54, "30Y": 2.01}


@pytest.fixture(scope="module")
def universe():
    return build_universe(START, CURVE)


def test_the_universe_has_40_equities_in_many_sectors_and_four_markets(universe) -> None:
    equities = [i for i in universe.instruments if i.asset_class is AssetClass.EQUITY]
    assert len(equities) == 40
    assert len({i.sector for i in equities}) >= 6
    assert {i.market for i in equities} == {"US", "EU", "UK", "JP"}
    assert {i.currency for i in equities} == {"USD", "EUR", "GBP", "JPY"}
    for i in equities:
        assert i.tick_size == (Decimal(1) if i.currency == "JPY" else Decimal("0.01"))
        assert i.settlement_days == 2 and i.maturity is None
    assert len({i.instrument_id for i in universe.instruments}) == len(universe.instruments)


def test_treasuries_and_corporates_follow_their_conventions(universe) -> None:
    treasuries = [i for i in universe.instruments if i.asset_class is AssetClass.GOVERNMENT_BOND]
    corporates = [i for i in universe.instruments if i.asset_class is AssetClass.CORPORATE_BOND]
    assert len(treasuries) >= 6 and len(corporates) >= 4
    for bond in treasuries:
        assert (bond.day_count, bond.coupons_per_year, bond.settlement_days, bond.spread_bp) == (
            "ACT/ACT",
            2,
            1,
            0,
        )
    for bond in corporates:
        assert (bond.day_count, bond.coupons_per_year, bond.settlement_days) == ("30/360", 2, 2)
        assert bond.spread_bp > 0
    for bond in treasuries + corporates:
        assert bond.maturity is not None and bond.maturity > START
        assert bond.coupon_rate_pct is not None and bond.coupon_rate_pct % Decimal("0.125") == 0
    # A new Treasury's coupon is its yield floored to 1/8: the 10Y at 1.54% pays 1 1/2.
    ten_year = next(b for b in treasuries if b.maturity == dt.date(2030, 2, 15))
    assert ten_year.coupon_rate_pct == Decimal("1.5") and ten_year.symbol == "T 1 1/2 02/15/30"


def test_mandates_have_consistent_targets(universe) -> None:
    mandates = build_mandates(universe.instruments)
    assert len(mandates) >= 4
    assert {m.base_currency for m in mandates} >= {"USD", "EUR", "GBP"}
    assert {m.lot_method for m in mandates} == {"FIFO", "AVERAGE"}
    for mandate in mandates:
        assert 0 < mandate.min_cash_weight < mandate.max_cash_weight < 0.1
        assert mandate.initial_capital > 0 and mandate.benchmark
        assert abs(sum(mandate.benchmark_weights.values()) - 1) < 1e-9
        sectors = sum(t.target_weight for t in mandate.sector_targets)
        assert abs(sectors + cash_target(mandate) - 1) < 1e-5
        for target in mandate.sector_targets:
            assert target.min_weight <= target.target_weight <= target.max_weight
        weights = target_weights(mandate, universe.instruments, START)
        assert weights and abs(sum(weights.values()) + cash_target(mandate) - 1) < 1e-6
        assert max(weights.values()) <= mandate.max_single_name_weight
        assert all(eligible(mandate, universe.get(i)) for i in weights)


def test_bonds_leave_the_targets_half_a_year_before_maturity(universe) -> None:
    mandate = next(m for m in build_mandates(universe.instruments) if m.mandate_id == "FI-USD")
    two_year = next(i for i in universe.instruments if i.maturity == dt.date(2022, 2, 15))
    assert two_year.instrument_id in target_weights(mandate, universe.instruments, dt.date(2021, 8, 1))
    later = target_weights(mandate, universe.instruments, dt.date(2021, 9, 1))
    assert two_year.instrument_id not in later
    assert abs(sum(later.values()) + cash_target(mandate) - 1) < 1e-6


def test_calendar_counts_business_days_of_the_history() -> None:
    # 2020-02-17 (Presidents' Day) is not a business day.
    days = [dt.date(2020, 2, d) for d in (13, 14, 18, 19, 20)]
    calendar = BusinessCalendar(days)
    assert calendar.add(dt.date(2020, 2, 14), 1) == dt.date(2020, 2, 18)
    assert calendar.add(dt.date(2020, 2, 13), 2) == dt.date(2020, 2, 18)
    assert calendar.add(dt.date(2020, 2, 18), -1) == dt.date(2020, 2, 14)
    assert calendar.add(dt.date(2020, 2, 15), 0) == dt.date(2020, 2, 18)  # Saturday counts forward
    assert calendar.add(dt.date(2020, 2, 20), 2) == dt.date(2020, 2, 24)  # past the end: weekdays
    assert calendar.on_or_before(dt.date(2020, 2, 17)) == dt.date(2020, 2, 14)
    assert calendar.count_between(dt.date(2020, 2, 13), dt.date(2020, 2, 19)) == 3


def test_prices_round_half_even_to_the_tick() -> None:
    assert to_tick(10.005, Decimal("0.01")) in (Decimal("10.00"), Decimal("10.01"))
    assert to_tick(10.125, Decimal("0.01")) == Decimal("10.12")  # exactly half: to even
    assert to_tick(6849.5, Decimal(1)) == Decimal(6850)
    assert to_tick(0.0001, Decimal("0.01")) == Decimal("0.01")  # never below one tick
    assert str(to_tick(99.1234, Decimal("0.001"))) == "99.123"


def test_fx_crosses_are_exact_and_round_to_six_places() -> None:
    primary = {"EURUSD": Decimal("1.1000"), "GBPUSD": Decimal("1.3000"), "USDJPY": Decimal("108.50")}
    # 1.1 / 1.3 = 0.846153846... -> 0.846154; 1.1 * 108.5 = 119.35; 1.3 * 108.5 = 141.05
    assert cross_rate("EURGBP", primary) == Decimal("0.846154")
    assert cross_rate("EURJPY", primary) == Decimal("119.350000")
    assert cross_rate("GBPJPY", primary) == Decimal("141.050000")
    with pytest.raises(ValueError, match="currency_pair"):
        cross_rate("EURUSD", primary)


def test_fill_amounts_on_a_worked_example(universe) -> None:
    us = universe.get("US-NWSF")
    # Buy 1,000 at 180.25: gross 180,250.00; commission max(5, 3 bp) = 54.075 -> 54.08 (half-even
    # on the exact 54.075); no buy fee in the US; net 180,304.08.
    buy = make_fill(
        "F1", "O1", "BAL-USD", us, Side.BUY, Decimal(1000), Decimal("180.25"), Decimal(0), START, START, "b"
    )
    assert (buy.gross_amount, buy.commission, buy.fees, buy.net_amount) == (
        Decimal("180250.00"),
        Decimal("54.08"),
        Decimal("0.00"),
        Decimal("180304.08"),
    )
    # Sell the same: SEC fee 0.0000221 * 180,250 = 3.983525 -> 3.98; net 180,250 - 54.08 - 3.98.
    sell = make_fill(
        "F2", "O1", "BAL-USD", us, Side.SELL, Decimal(1000), Decimal("180.25"), Decimal(0), START, START, "b"
    )
    assert (sell.fees, sell.net_amount) == (Decimal("3.98"), Decimal("180191.94"))
    bond = next(i for i in universe.instruments if i.asset_class is AssetClass.GOVERNMENT_BOND)
    accrued = bonds.accrued_interest(START, bond.maturity, bond.coupon_rate_pct, 2, "ACT/ACT")
    fill = make_fill(
        "F3", "O2", "FI-USD", bond, Side.BUY, Decimal(250000), Decimal("100.5"), accrued, START, START, "b"
    )
    # 250,000 face at 100.5 = 251,250.00 gross; accrued = face * per-100 / 100.
    assert fill.gross_amount == Decimal("251250.00") and fill.commission == 0 and fill.fees == 0
    assert fill.accrued_interest == (Decimal(250000) * accrued / 100).quantize(Decimal("0.01"))
    assert fill.net_amount == fill.gross_amount + fill.accrued_interest


def test_custodian_typos_change_the_figure_plausibly() -> None:
    rng = random.Random(1)
    for quantity in (Decimal(1), Decimal(1250), Decimal(84000), Decimal(7)):
        for _ in range(20):
            typo = quantity_typo(quantity, rng)
            assert typo != quantity and typo > 0 and typo == typo.to_integral_value()
    for price in (Decimal("179.98"), Decimal("6850"), Decimal("99.328"), Decimal("0.50")):
        for _ in range(20):
            typo = price_typo(price, rng)
            assert typo != price and typo > 0
            assert typo.as_tuple().exponent == price.as_tuple().exponent


def test_dividends_are_quarterly_and_coupons_semiannual(universe, real_history: MacroHistory) -> None:
    calendar = BusinessCalendar([d.date for d in real_history.days])
    actions = plan_actions(universe, calendar, START, dt.date(2020, 12, 31))
    per_instrument = Counter((a.instrument_id, a.kind) for a in actions)
    dividends = {i for (i, k) in per_instrument if k is CorporateActionKind.CASH_DIVIDEND}
    payers = {i for i, s in universe.equity_specs.items() if s.dividend_yield > 0}
    assert dividends == payers
    for (_, kind), count in per_instrument.items():
        assert count in ((3, 4) if kind is CorporateActionKind.CASH_DIVIDEND else (1, 2))
    for action in actions:
        assert action.announce_date <= action.ex_date <= action.record_date <= action.pay_date
        assert calendar.is_business_day(action.pay_date) and calendar.is_business_day(action.ex_date)
        if action.kind is CorporateActionKind.CASH_DIVIDEND:
            assert calendar.count_between(action.announce_date, action.ex_date) == 10
            assert calendar.count_between(action.ex_date, action.pay_date) == 10
        else:
            assert action.coupon_date is not None and action.ex_date < action.coupon_date <= action.pay_date
    assert [a.announce_date for a in actions] == sorted(a.announce_date for a in actions)


def test_income_is_paid_on_the_entitled_quantity(real_run: Run) -> None:
    announced = {
        e.payload.action_id: e.payload for e in all_events(real_run) if e.kind == "corporate_action.announced"
    }
    paid = [e for e in all_events(real_run) if e.kind in ("cashflow.dividend", "cashflow.coupon")]
    assert paid
    for event in paid:
        flow = event.payload
        action = announced[flow.action_id]
        assert event.sim_time.date() == action.pay_date == flow.pay_date
        per_unit = action.amount_per_unit if flow.kind == "DIVIDEND" else action.amount_per_unit / 100
        quantum = Decimal(1) if flow.currency == "JPY" else Decimal("0.01")
        assert flow.amount == (flow.quantity * per_unit).quantize(quantum)


def test_vendor_b_stays_close_to_primary_unless_faulted(real_run: Run) -> None:
    faulted = {i for f in real_run.sim.faults() for i in f.event_ids}
    primary = {}
    for event in all_events(real_run):
        if event.kind == "price.tick":
            primary[event.payload.instrument_id] = event.payload.price
        elif event.kind == "price.vendor" and event.event_id not in faulted:
            quote = event.payload
            tick = real_run.sim.instrument(quote.instrument_id).tick_size
            assert abs(quote.price - primary[quote.instrument_id]) <= max(
                tick, primary[quote.instrument_id] * Decimal("0.0025")
            )


def test_corporate_spreads_widen_in_a_crisis(real_run: Run) -> None:
    spreads: dict[str, list[float]] = {"calm": [], "crisis": []}
    curve = {}
    for day in real_run.days:
        regime_event = day.events[0].payload
        curve = regime_event.curve_pct
        for event in day.events:
            if event.kind == "price.tick" and event.payload.yield_pct is not None:
                instrument = real_run.sim.instrument(event.payload.instrument_id)
                if instrument.asset_class is AssetClass.CORPORATE_BOND and regime_event.regime in spreads:
                    years = (instrument.maturity - day.date).days / 365.25
                    spreads[regime_event.regime].append(
                        (event.payload.yield_pct - bonds.curve_yield(curve, years))
                        * 100
                        / instrument.spread_bp
                    )
    assert max(spreads["calm"]) < 1.2 and max(spreads["crisis"]) > 2.0


def _derive_seeds_in_a_fresh_process(hash_seed: str, cases: list[tuple[int, str]]) -> list[int]:
    code = (
        "import json, sys\n"
        "from services.market.sim.rng import derive_seed\n"
        "print(json.dumps([derive_seed(s, p) for s, p in json.loads(sys.argv[1])]))\n"
    )
    env = {**os.environ, "PYTHONHASHSEED": hash_seed}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    done = subprocess.run(
        [sys.executable, "-c", code, json.dumps(cases)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return json.loads(done.stdout)


def test_seeds_per_purpose_are_stable_and_distinct() -> None:
    # derive_seed must not depend on the process: str hashing is salted per process
    # (PYTHONHASHSEED), so a seed built on hash() would differ between these interpreters.
    cases = [(7, "prices"), (7, "desk"), (8, "desk"), (0, ""), (123456789, "custodian.faults")]
    here = [derive_seed(seed, purpose) for seed, purpose in cases]
    for hash_seed in ("0", "4242"):
        assert _derive_seeds_in_a_fresh_process(hash_seed, cases) == here
    # Distinct per purpose and per seed, and 64-bit.
    purposes = ["prices", "desk", "vendor", "custodian.faults", "fx.faults", "fx.on_demand", ""]
    seeds = {
        (seed, purpose): derive_seed(seed, purpose) for seed in (0, 1, 7, 8, 2**40) for purpose in purposes
    }
    assert len(set(seeds.values())) == len(seeds)
    assert all(0 <= value < 2**64 for value in seeds.values())


def _equity_index_log_levels(start: dt.date, days: int) -> list[float]:
    """Daily log level of an equal-weight index of the US equities, from primary prices."""
    from services.market.fred import load_macro
    from services.market.sim.engine import SimConfig, Simulation

    sim = Simulation(SimConfig(seed=5, start=start, days=days, fault_rate=0.0), load_macro(start))
    us_equities = {
        i.instrument_id for i in sim.instruments if i.asset_class == AssetClass.EQUITY and i.currency == "USD"
    }
    levels: list[float] = []
    while (day := sim.step()) is not None:
        prices = [
            float(e.payload.price)
            for e in day.events
            if e.kind == "price.tick" and e.payload.instrument_id in us_equities
        ]
        levels.append(sum(math.log(p) for p in prices) / len(prices))
    return levels


def _vol_and_trough(start: dt.date, days: int) -> tuple[float, float]:
    levels = _equity_index_log_levels(start, days)
    returns = [b - a for a, b in itertools.pairwise(levels)]
    return statistics.pstdev(returns) * math.sqrt(252), math.exp(min(levels) - levels[0]) - 1


def test_2008_and_2020_look_like_2008_and_2020() -> None:
    calm_vol, calm_trough = _vol_and_trough(dt.date(2017, 3, 1), 60)
    lehman_vol, lehman_trough = _vol_and_trough(dt.date(2008, 9, 2), 70)
    covid_vol, covid_trough = _vol_and_trough(dt.date(2020, 2, 19), 40)
    # The regime sets the vol (about 15 % a year when calm, 55 % in a crisis) ...
    assert lehman_vol > 2.5 * calm_vol and covid_vol > 2.5 * calm_vol
    # ... and the daily risk shock from breakevens and yields puts the crash on the real dates:
    # the S&P 500 fell about 45 % from September to November 2008 and 34 % in February-March 2020.
    assert lehman_trough < -0.30
    assert covid_trough < -0.15
    assert calm_trough > -0.08
