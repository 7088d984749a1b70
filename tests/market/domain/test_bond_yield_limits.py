"""Bond pricing and the yield solver at the edges of their domain, on one-period bonds solved by hand.

A zero-coupon bond settled on a coupon date one period before maturity has no accrued interest
and one cash flow of 100 one full period away, so at a yield y % compounded n times a year its
clean price is P = 100 / (1 + y / (100 n)) and the yield of a price is y = 100 n (100 / P - 1).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from services.market.sim.bonds import accrued_interest, clean_price, curve_yield, yield_from_clean_price

SETTLE = dt.date(2021, 6, 15)
MATURITY = dt.date(2021, 12, 15)  # one semiannual period after SETTLE
ZERO = Decimal(0)


def _price(ytm: float, coupons_per_year: int = 2, settle: dt.date = SETTLE) -> float:
    return clean_price(settle, MATURITY, ZERO, coupons_per_year, ytm, "ACT/ACT")


def _yield(price: float | Decimal) -> float:
    return yield_from_clean_price(SETTLE, MATURITY, ZERO, 2, price, "ACT/ACT")


def test_yields_down_to_minus_100_percent_a_period_price_and_no_lower() -> None:
    # Semiannual: the floor is -100 % a period = -200 % a year.
    # One unit inside: 100 / (1 - 199 / 200) = 100 / 0.005 = 20,000.
    assert _price(-199.0) == pytest.approx(20_000.0, rel=1e-12)
    for ytm in (-200.0, -201.0):  # at and beyond the floor the discount factor is 0 or negative
        with pytest.raises(ValueError, match=rf"yield {ytm}% is below the -100% per period floor"):
            _price(ytm)
    # Annual (settled a year before maturity): the floor is -100 %; at -99 %: 100 / 0.01 = 10,000.
    assert _price(-99.0, 1, dt.date(2020, 12, 15)) == pytest.approx(10_000.0, rel=1e-12)
    with pytest.raises(ValueError, match="below the -100% per period floor"):
        _price(-100.0, 1, dt.date(2020, 12, 15))


@pytest.mark.parametrize(
    ("price", "ytm"),
    [
        (100.0, 0.0),  # 200 x (100 / 100 - 1) = 0
        (40.0, 300.0),  # 200 x (2.5 - 1) = 300: above the solver's first bracket of 100 %
        (200.0, -100.0),  # 200 x (0.5 - 1) = -100
        # Just above the first bracket of 100 %: 100 / (1 + 101 / 200) = 100 / 1.505, and back
        # 200 x (1.505 - 1) = 101.
        (100 / 1.505, 101.0),
        (0.5, 39_800.0),  # a small positive price: 200 x (200 - 1) = 39,800
        # The solver's lower bracket is -99 % a period (-198 % a year, a price of 100 / 0.01 =
        # 10,000): half a unit of price inside it, 200 x (100 / 9,999.5 - 1)
        # = 200 x (0.0100005000250 - 1) = -197.99989999500.
        (9_999.5, -197.999899995),
    ],
)
def test_the_yield_of_a_one_period_zero_coupon_bond(price: float, ytm: float) -> None:
    assert _yield(price) == pytest.approx(ytm, abs=1e-7)
    assert _price(ytm) == pytest.approx(price, rel=1e-9)


@pytest.mark.parametrize(
    ("price", "ytm"),
    [
        (99.0, 200 / 99),  # 200 x (100 / 99 - 1) = 200 / 99 = 2.0202...
        (120.0, -100 / 3),  # 200 x (100 / 120 - 1) = -33.333...
        (40.0, 300.0),
        (9_999.5, -197.999899995),
    ],
)
def test_with_no_tolerance_the_solver_returns_its_best_yield_once_the_bracket_is_spent(
    price: float, ytm: float
) -> None:
    # A zero tolerance is never met: the solver stops when the bracket is narrower than 1e-14
    # (possible for small yields, where floats are that fine) or after its last iteration
    # (near 300 % neighbouring floats are 5.7e-14 apart), and returns its last estimate.
    solved = yield_from_clean_price(SETTLE, MATURITY, ZERO, 2, price, "ACT/ACT", tolerance=0.0)
    assert isinstance(solved, float)
    assert solved == pytest.approx(ytm, abs=1e-9)


def test_prices_no_yield_in_the_solver_range_can_reach_are_rejected() -> None:
    # One unit of price beyond the lower bracket: 200 x (100 / 10,001 - 1) = -198.0002 < -198.
    with pytest.raises(ValueError, match="no yield reproduces price 10001"):
        _yield(10_001.0)
    # A near-worthless bond: 200 x (100 / 1e-6 - 1) = 2e10 %, beyond the 1e6 % cap.
    with pytest.raises(ValueError, match="no yield reproduces price 1e-06"):
        _yield(1e-6)


@pytest.mark.parametrize("price", [0.0, -5.0, Decimal(0)])
def test_a_price_must_be_positive(price: float | Decimal) -> None:
    with pytest.raises(ValueError, match=rf"price must be positive, not {price}"):
        _yield(price)


def test_unknown_day_counts_are_rejected_with_the_known_ones_named() -> None:
    message = r"day_count must be one of \('ACT/ACT', '30/360'\), not 'ACT/360'"
    with pytest.raises(ValueError, match=message):
        accrued_interest(SETTLE, MATURITY, Decimal(4), 2, "ACT/360")
    with pytest.raises(ValueError, match=message):
        clean_price(SETTLE, MATURITY, Decimal(4), 2, 4.0, "ACT/360")
    with pytest.raises(ValueError, match=message):
        yield_from_clean_price(SETTLE, MATURITY, Decimal(4), 2, 100.0, "ACT/360")


def test_monthly_coupons_accrue_a_twelfth_of_the_coupon() -> None:
    # 6 % monthly, maturity on the 15th, settle 2021-03-25: previous Mar 15, next Apr 15 (31 days).
    # ACT/ACT: 6 / 12 x 10 / 31 = 0.5 x 0.32258064516 = 0.16129032 (8 decimals).
    # 30/360: a period is 360 / 12 = 30 days; 10 of them accrued: 0.5 x 10 / 30 = 0.16666667.
    maturity = dt.date(2023, 4, 15)
    settle = dt.date(2021, 3, 25)
    assert accrued_interest(settle, maturity, Decimal(6), 12, "ACT/ACT") == Decimal("0.16129032")
    assert accrued_interest(settle, maturity, Decimal(6), 12, "30/360") == Decimal("0.16666667")


def test_curve_yield_ignores_unknown_tenors_and_needs_a_known_one() -> None:
    # Only 2Y and 10Y known (the 7Y is not a tenor of the model): at 6 years, halfway, 1.0 + 2.0 / 2 = 2.0.
    curve = {"2Y": 1.0, "7Y": 9.9, "10Y": 3.0}
    assert curve_yield(curve, 6.0) == pytest.approx(2.0)
    assert curve_yield(curve, 1.5) == pytest.approx(1.0)  # flat before the first known tenor
    assert curve_yield(curve, 12.0) == pytest.approx(3.0)  # and after the last
    with pytest.raises(ValueError, match=r"no known tenor in curve \{'7Y': 9.9\}"):
        curve_yield({"7Y": 9.9}, 6.0)


def test_mid_period_prices_discount_by_the_fraction_of_the_period_in_the_bonds_day_count() -> None:
    # 4 % semiannual, one coupon left: 102 on 2021-12-15, settle 2021-07-15, yield 4 % (2 % a period).
    # ACT/ACT: Jun 15 -> Dec 15 is 183 days, 30 accrued: dirty = 102 / 1.02^(153 / 183),
    # clean = dirty - 2 x 30 / 183.
    settle = dt.date(2021, 7, 15)
    act = clean_price(settle, MATURITY, Decimal(4), 2, 4.0, "ACT/ACT")
    assert act == pytest.approx(102 / 1.02 ** (153 / 183) - 2 * 30 / 183, abs=1e-12)
    # 30/360: 30 of 180 days accrued: dirty = 102 / 1.02^(150 / 180), clean = dirty - 2 x 30 / 180.
    thirty = clean_price(settle, MATURITY, Decimal(4), 2, 4.0, "30/360")
    assert thirty == pytest.approx(102 / 1.02 ** (150 / 180) - 2 * 30 / 180, abs=1e-12)


def test_annual_bonds_count_whole_years() -> None:
    # Two annual periods left, zero coupon, 5 %: 100 / 1.05^2 = 100 / 1.1025 = 90.70294785.
    price = clean_price(dt.date(2020, 6, 15), dt.date(2022, 6, 15), ZERO, 1, 5.0, "30/360")
    assert price == pytest.approx(90.70294785, abs=1e-8)
    # 30/360 annual: a period is 360 days; Jun 15 -> Sep 15 is 90 of them: 6 x 90 / 360 = 1.5.
    accrued = accrued_interest(dt.date(2020, 9, 15), dt.date(2022, 6, 15), Decimal(6), 1, "30/360")
    assert accrued == Decimal("1.50000000")
