"""Primary prices on a small hand-built universe: what each input of a day moves, and bond quotes.

Two models with the same seed draw the same normals, so the difference between their prices
isolates one input of the model (see prices.py):
    log return_i = (drift - var_i / 2) / 252 + sigma * (beta_i * m + 0.35 * s + idio_i * e_i),
    sigma * m = 0.01 * risk_shock + noise.
"""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal

import pytest

from services.market.sim import bonds
from services.market.sim.prices import PriceModel, to_tick
from services.market.sim.records import AssetClass, Instrument
from services.market.sim.universe import EquitySpec, Universe

DAYS = [dt.date(2021, 3, d) for d in (1, 2, 3, 4, 5)]
FLAT = {"3M": 2.0, "2Y": 2.0, "5Y": 2.0, "10Y": 2.0, "30Y": 2.0}


def _equity(instrument_id: str, sector: str, currency: str = "USD") -> Instrument:
    tick = Decimal(1) if currency == "JPY" else Decimal("0.01")
    return Instrument(
        instrument_id, instrument_id, instrument_id, AssetClass.EQUITY, currency, sector, "US", tick, 2
    )


def _spec(sector: str, beta: float, idio: float, start: str) -> EquitySpec:
    return EquitySpec("S", "S", "US", sector, beta, idio, start, 0.0)


CORPORATE = Instrument(
    "CORP", "CORP", "CORP", AssetClass.CORPORATE_BOND, "USD", "Corporate Credit", "US", Decimal("0.001"), 2,
    Decimal("4"), dt.date(2026, 3, 15), 2, "Issuer", 100, "30/360",
)  # fmt: skip
# A Treasury maturing on the second day: quoted the day before its maturity, never on or after it.
SHORT_TREASURY = Instrument(
    "TSY", "TSY", "TSY", AssetClass.GOVERNMENT_BOND, "USD", "Government", "US", Decimal("0.001"), 1,
    Decimal("1.5"), DAYS[1], 2, "US Treasury", 0, "ACT/ACT",
)  # fmt: skip


def universe() -> Universe:
    equities = (_equity("E1", "Tech"), _equity("E2", "Energy"), _equity("E3", "Tech"))
    specs = {
        "E1": _spec("Tech", 1.0, 0.5, "100.00"),
        "E2": _spec("Energy", 2.0, 0.3, "250.00"),
        "E3": _spec("Tech", 0.5, 0.8, "400.00"),
    }
    return Universe(instruments=(*equities, CORPORATE, SHORT_TREASURY), equity_specs=specs)


def _prices(quotes) -> dict[str, Decimal]:
    return {q.instrument_id: q.price for q in quotes}


def _two_days(second_day: dict) -> dict[str, Decimal]:
    model = PriceModel(universe(), seed=4)
    model.step(DAYS[0], 0.05, 0.2, FLAT, "calm")
    arguments = {"drift_annual": 0.05, "vol_annual": 0.2, "curve_pct": FLAT, "regime": "calm", **second_day}
    return _prices(model.step(DAYS[1], **arguments))


def test_the_first_day_publishes_the_start_prices_whatever_the_market_does() -> None:
    quotes = PriceModel(universe(), seed=4).step(DAYS[0], 3.0, 0.9, FLAT, "crisis", risk_shock=-4.0)
    assert [q.instrument_id for q in quotes] == ["E1", "E2", "E3", "CORP", "TSY"]  # equities first
    assert {k: v for k, v in _prices(quotes).items() if k.startswith("E")} == {
        "E1": Decimal("100.00"),
        "E2": Decimal("250.00"),
        "E3": Decimal("400.00"),
    }
    assert all(q.vendor == "primary" and q.price_date == DAYS[0] and q.currency == "USD" for q in quotes)


def test_a_risk_shock_moves_each_stock_by_its_beta() -> None:
    # Same draws; a shock of 2 adds 0.01 x 2 / sigma to m, so sigma x beta_i x 0.02 / sigma = 0.02 beta_i
    # to the log return: E1 0.02, E2 0.04, E3 0.01. Ticks of 0.01 on prices near 100-400 blur a log
    # price by at most 0.005 / 95 = 5.3e-5 each.
    calm = _two_days({"risk_shock": 0.0})
    shocked = _two_days({"risk_shock": 2.0})
    for instrument_id, beta in (("E1", 1.0), ("E2", 2.0), ("E3", 0.5)):
        moved = math.log(shocked[instrument_id] / calm[instrument_id])
        assert moved == pytest.approx(0.02 * beta, abs=1.2e-4)


def test_the_drift_adds_a_252nd_of_itself_a_day() -> None:
    # drift 0.05 -> 2.57: the log return of every stock rises by 2.52 / 252 = 0.01.
    base = _two_days({})
    faster = _two_days({"drift_annual": 2.57})
    for instrument_id in ("E1", "E2", "E3"):
        assert math.log(faster[instrument_id] / base[instrument_id]) == pytest.approx(0.01, abs=1.2e-4)


def test_the_same_seed_gives_the_same_prices_and_another_does_not() -> None:
    assert _two_days({}) == _two_days({})
    other = PriceModel(universe(), seed=5)
    other.step(DAYS[0], 0.05, 0.2, FLAT, "calm")
    assert _prices(other.step(DAYS[1], 0.05, 0.2, FLAT, "calm")) != _two_days({})


def test_bond_quotes_are_the_bond_maths_at_curve_plus_spread_rounded_to_the_tick() -> None:
    quotes = {
        q.instrument_id: q for q in PriceModel(universe(), seed=4).step(DAYS[0], 0.05, 0.2, FLAT, "calm")
    }
    corporate = quotes["CORP"]
    # Flat 2 % curve plus 100 bp in a calm regime (multiplier 1.0) = 3 %.
    assert corporate.yield_pct == pytest.approx(3.0, abs=1e-12)
    clean = bonds.clean_price(DAYS[0], CORPORATE.maturity, Decimal(4), 2, 3.0, "30/360")
    assert corporate.price == to_tick(clean, Decimal("0.001"))
    # 30/360 from the Sep 15 coupon to Mar 1: 30 x 6 + (1 - 15) = 166 of 180 days; 2 x 166 / 180.
    assert corporate.accrued_interest == Decimal("1.84444444")
    assert quotes["TSY"].yield_pct == pytest.approx(2.0, abs=1e-12)  # no spread


@pytest.mark.parametrize(
    ("regimes", "multipliers"),
    [
        # Calm starts at 1.0; crisis pulls 20 % of the gap to 3.0 a day: 1 + 0.2 x 2 = 1.4,
        # 1.4 + 0.2 x 1.6 = 1.72; an unknown regime pulls towards 1.0: 1.72 - 0.2 x 0.72 = 1.576.
        (["calm", "crisis", "crisis", "no such regime"], [1.0, 1.4, 1.72, 1.576]),
        # The first day starts at the regime's level: stress 1.8; then easing 1.2: 1.8 - 0.2 x 0.6 = 1.68;
        # tightening 1.1: 1.68 - 0.2 x 0.58 = 1.564.
        (["stress", "easing", "tightening"], [1.8, 1.68, 1.564]),
    ],
)
def test_corporate_spreads_move_a_fifth_of_the_way_to_the_regime_a_day(
    regimes: list[str], multipliers: list[float]
) -> None:
    model = PriceModel(universe(), seed=4)
    for day, regime, multiplier in zip(DAYS, regimes, multipliers, strict=False):
        corporate = next(q for q in model.step(day, 0.05, 0.2, FLAT, regime) if q.instrument_id == "CORP")
        assert corporate.yield_pct == pytest.approx(2.0 + multiplier, abs=1e-9)


def test_a_bond_is_quoted_until_the_day_before_its_maturity() -> None:
    model = PriceModel(universe(), seed=4)
    assert "TSY" in _prices(model.step(DAYS[0], 0.05, 0.2, FLAT, "calm"))
    assert "TSY" not in _prices(model.step(DAYS[1], 0.05, 0.2, FLAT, "calm"))
    assert "TSY" not in _prices(model.step(DAYS[2], 0.05, 0.2, FLAT, "calm"))


def test_ticks_round_half_even_and_never_below_one_tick() -> None:
    # 0.015 / 0.01 = 1.5 -> 2; 0.025 / 0.01 = 2.5 -> 2 (even); 0.004 / 0.01 = 0.4 -> 0, floored to one tick.
    assert to_tick(0.015, Decimal("0.01")) == Decimal("0.02")
    assert to_tick(0.025, Decimal("0.01")) == Decimal("0.02")
    assert to_tick(0.004, Decimal("0.01")) == Decimal("0.01")
    assert to_tick(0.01, Decimal("0.01")) == Decimal("0.01")
    assert to_tick(1234.5, Decimal(1)) == Decimal(1234)


def test_a_bond_is_priced_at_the_curve_yield_for_its_years_to_maturity() -> None:
    curve = {"3M": 1.0, "2Y": 2.0, "5Y": 3.0, "10Y": 4.0, "30Y": 5.0}
    quotes = {
        q.instrument_id: q for q in PriceModel(universe(), seed=4).step(DAYS[0], 0.05, 0.2, curve, "calm")
    }
    # 2021-03-01 -> 2026-03-15 is 5 x 365 + 1 (2024-02-29) + 14 = 1,840 days = 1,840 / 365.25 years;
    # between the 5Y (3 %) and 10Y (4 %) points: 3 + (1,840 / 365.25 - 5) / 5, plus 100 bp.
    assert quotes["CORP"].yield_pct == pytest.approx(3 + (1840 / 365.25 - 5) / 5 + 1.0, abs=1e-6)
    # The Treasury (ACT/ACT, 1 day to maturity) is priced and accrued in its own day count.
    tsy = quotes["TSY"]
    ytm = tsy.yield_pct
    clean = bonds.clean_price(DAYS[0], SHORT_TREASURY.maturity, Decimal("1.5"), 2, ytm, "ACT/ACT")
    assert tsy.price == to_tick(clean, Decimal("0.001"))
    assert tsy.accrued_interest == bonds.accrued_interest(DAYS[0], DAYS[1], Decimal("1.5"), 2, "ACT/ACT")


def test_without_a_risk_shock_argument_there_is_no_shock() -> None:
    assert _two_days({}) == _two_days({"risk_shock": 0.0})


def test_a_bonds_yield_is_published_to_six_decimals() -> None:
    # The corporate's yield as above: 1,840 / 365.25 = 5.0376454 years -> 3 + 0.0376454 / 5 + 1 = 4.00752909...;
    # published rounded to six places, 4.007529 (a seventh place would show 4.0075291).
    curve = {"3M": 1.0, "2Y": 2.0, "5Y": 3.0, "10Y": 4.0, "30Y": 5.0}
    quotes = _prices_and_quotes(PriceModel(universe(), seed=4).step(DAYS[0], 0.05, 0.2, curve, "calm"))
    assert quotes["CORP"].yield_pct == 4.007529


def test_a_treasury_is_priced_in_its_own_day_count() -> None:
    """ACT/ACT and 30/360 give different clean prices in a February period: a Treasury maturing on
    Aug 31 pays on Aug 31 and Feb 28; on 2021-02-26, ACT/ACT has accrued 179 of 181 days (0.98895 of the
    1.25 coupon) and 30/360 only 176 of 180 (0.97778), a 0.014 difference at a 0.001 tick."""
    treasury = Instrument(
        "T31", "T31", "T31", AssetClass.GOVERNMENT_BOND, "USD", "Government", "US", Decimal("0.001"), 1,
        Decimal("2.5"), dt.date(2031, 8, 31), 2, "US Treasury", 0, "ACT/ACT",
    )  # fmt: skip
    day = dt.date(2021, 2, 26)
    [quote] = PriceModel(Universe(instruments=(treasury,), equity_specs={}), seed=4).step(
        day, 0.05, 0.2, FLAT, "calm"
    )
    act_act = to_tick(
        bonds.clean_price(day, treasury.maturity, Decimal("2.5"), 2, 2.0, "ACT/ACT"), Decimal("0.001")
    )
    thirty_360 = to_tick(
        bonds.clean_price(day, treasury.maturity, Decimal("2.5"), 2, 2.0, "30/360"), Decimal("0.001")
    )
    assert act_act != thirty_360
    assert quote.price == act_act
    assert quote.accrued_interest == Decimal("1.23618785")  # 1.25 x 179 / 181 = 1.236187845...


def _prices_and_quotes(quotes) -> dict:
    return {q.instrument_id: q for q in quotes}
