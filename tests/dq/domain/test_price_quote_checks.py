"""The checks of a quote on its own: non-positive, off-tick, and a bond's price against the price
its curve yield implies (dq's restatement of market's bond pricing must agree with market's)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import ROUND_HALF_EVEN, Decimal

import pytest

from services.common.market_events import AssetClass, Instrument
from services.dq.domain import curve
from services.dq.domain.config import load_checks, parse_checks
from services.dq.domain.prices import PriceChecks
from services.market.sim import bonds
from tests.dq.domain.builders import CURVE, PriceDays, equity, only, quote, regime

D = Decimal
DAY = dt.date(2020, 3, 16)


def _bond(asset_class: AssetClass = AssetClass.GOVERNMENT_BOND, spread_bp: int = 0) -> Instrument:
    government = asset_class is AssetClass.GOVERNMENT_BOND
    return Instrument(
        instrument_id="UST-20270215" if government else "ATLS-20270215",
        symbol="T 1 1/2 02/15/27",
        name="bond",
        asset_class=asset_class,
        currency="USD",
        sector="Government" if government else "Corporate Credit",
        market="US",
        tick_size=D("0.001"),
        settlement_days=1,
        coupon_rate_pct=D("1.5"),
        maturity=dt.date(2027, 2, 15),
        coupons_per_year=2,
        spread_bp=spread_bp,
        day_count="ACT/ACT" if government else "30/360",
    )


def _market_price(bond: Instrument, day: dt.date, curve_pct: dict[str, float], spread_pct: float) -> Decimal:
    """market's own price (services/market/sim/prices.py _bond_quote), rounded to the tick."""
    assert bond.maturity is not None and bond.coupon_rate_pct is not None
    ytm = bonds.curve_yield(curve_pct, (bond.maturity - day).days / 365.25) + spread_pct
    clean = bonds.clean_price(day, bond.maturity, bond.coupon_rate_pct, 2, ytm, bond.day_count)
    return (D(repr(clean)) / bond.tick_size).quantize(D(1), rounding=ROUND_HALF_EVEN) * bond.tick_size


@pytest.mark.parametrize("day_count", ["ACT/ACT", "30/360"])
def test_dq_prices_a_bond_exactly_as_market_does(day_count: str) -> None:
    maturities = [dt.date(2027, 2, 15), dt.date(2030, 8, 31), dt.date(2021, 1, 15), dt.date(2050, 2, 28)]
    for maturity in maturities:
        for k in range(0, 700, 37):
            day = dt.date(2020, 1, 2) + dt.timedelta(days=k)
            if day >= maturity:
                continue
            for ytm in (-0.3, 0.01, 1.7, 6.25):
                ours = curve.clean_price(day, maturity, D("2.375"), 2, ytm, day_count)
                theirs = bonds.clean_price(day, maturity, D("2.375"), 2, ytm, day_count)
                assert ours == theirs, (maturity, day, ytm)
        for years in (0.1, 0.25, 1.0, 3.3, 7.0, 12.0, 29.0, 31.0):
            assert curve.curve_yield(CURVE, years) == bonds.curve_yield(CURVE, years)


def _checks_on(bond: Instrument) -> PriceChecks:
    return PriceChecks(load_checks(), [bond])


def test_a_government_bond_at_its_curve_price_passes() -> None:
    bond = _bond()
    checks = _checks_on(bond)
    checks.regime("r-1", regime(DAY))
    implied = _market_price(bond, DAY, CURVE, 0.0)
    results = checks.primary("p-1", quote(bond.instrument_id, implied, DAY))
    result = only(results, "price.vs_curve.government", bond.instrument_id, "primary")
    assert result.success and result.reference == implied and result.deviation == 0.0
    assert result.caused_by == ("p-1", "r-1")


@pytest.mark.parametrize(
    ("offset", "success"), [("0.002", True), ("-0.002", True), ("0.003", False), ("-0.003", False)]
)
def test_the_curve_check_at_and_past_its_limit(offset: str, success: bool) -> None:
    # tolerance 0 and 2 ticks: the limit is exactly 0.002 per 100; at the limit passes.
    text = """
[[check]]
id = "price.vs_curve"
family = "price"
rule = "vs_curve"
severity = "critical"
description = "vs curve"
thresholds = { tolerance = 0, ticks = 2 }
"""
    bond = _bond()
    checks = PriceChecks(parse_checks(text, "t.toml"), [bond])
    checks.regime("r-1", regime(DAY))
    implied = _market_price(bond, DAY, CURVE, 0.0)
    [result] = checks.primary("p-1", quote(bond.instrument_id, implied + D(offset), DAY))
    assert result.success is success
    assert result.quarantine is not success


def test_a_corporate_bond_follows_the_credit_multiplier_of_the_regimes() -> None:
    # calm sets the multiplier to 1.0; each crisis day moves it 20 % of the way to 3.0:
    # 1.0 + 0.2 x 2.0 = 1.4, then 1.4 + 0.2 x 1.6 = 1.72. ATLS's 140 bp spread is 2.408 % then.
    bond = _bond(AssetClass.CORPORATE_BOND, spread_bp=140)
    checks = _checks_on(bond)
    days = [DAY, DAY + dt.timedelta(days=1), DAY + dt.timedelta(days=2)]
    for day, name in zip(days, ("calm", "crisis", "crisis"), strict=True):
        checks.regime(f"r-{day}", regime(day, name))
    implied = _market_price(bond, days[-1], CURVE, 140 * 1.72 / 100)
    results = checks.primary("p-1", quote(bond.instrument_id, implied, days[-1]))
    result = only(results, "price.vs_curve.corporate", bond.instrument_id, "primary")
    assert result.success and result.reference == implied
    assert result.statistics["spread_pct"] == pytest.approx(2.408)
    # A bad print 8 % low is far outside: critical, quarantined.
    bad = (implied * D("0.92")).quantize(D("0.001"))
    [*_, failed] = checks.primary("p-2", quote(bond.instrument_id, bad, days[-1]))
    assert not failed.success and failed.quarantine
    assert failed.message.startswith(f"ATLS-20270215 primary {bad} vs {implied} implied by the curve at ")


def test_non_positive_and_off_tick_prices() -> None:
    days = PriceDays([equity("US-A")])
    days.checks = load_checks()
    days.prices = PriceChecks(days.checks, [equity("US-A")])
    results = days.run({"US-A": "0"}, {"US-A": "100.005"})
    zero = only(results, "price.non_positive", "US-A", "primary")
    assert not zero.success and zero.quarantine and zero.message == "US-A primary 0: not a positive price"
    off = only(results, "price.off_tick", "US-A", "vendor_b")
    assert not off.success and not off.quarantine  # a warning: the value may be right
    assert off.message == "US-A vendor_b 100.005 is not a multiple of its tick 0.01"
    assert off.reference == D("100.00")
    # The primary failed its own critical check: the divergence blames it, not vendor_b.
    divergence = only(results, "price.vendor_divergence.equity", "US-A", "primary")
    assert not divergence.success
    assert "primary looks wrong: its price failed its own checks" in divergence.message
    assert only(results, "price.vendor_divergence.equity", "US-A", "vendor_b").success


def test_an_instrument_that_changes_market_is_checked_by_its_new_markets_check() -> None:
    """PriceChecks keeps the check it chose per instrument and rule; new reference data (here the
    instrument moving from the US to the JP market) chooses again."""
    by_market = "\n".join(
        f"""
[[check]]
id = "price.off_tick.{market.lower()}"
family = "price"
rule = "off_tick"
severity = "warning"
description = "off tick, {market}"

subject = {{ market = "{market}" }}
"""
        for market in ("US", "JP")
    )
    listed = equity("US-A")
    days = PriceDays([listed], parse_checks(by_market, "test.toml"))
    assert only(days.run({"US-A": "100.00"}), "price.off_tick.us", "US-A", "primary").success
    days.prices.set_instruments([dataclasses.replace(listed, market="JP")])
    moved = days.run({"US-A": "100.00"})
    assert only(moved, "price.off_tick.jp", "US-A", "primary").success
    assert not [r for r in moved if r.check_id == "price.off_tick.us"]
