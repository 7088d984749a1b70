"""Bond maths against published worked examples and a price-yield round trip."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.market.sim.bonds import (
    TENOR_YEARS,
    accrued_interest,
    clean_price,
    coupon_schedule,
    curve_yield,
    days_30_360,
    previous_and_next_coupon,
    yield_from_clean_price,
)


@pytest.mark.parametrize("coupons_per_year", [1, 2])
@pytest.mark.parametrize("day_count", ["ACT/ACT", "30/360"])
def test_two_period_bond_on_a_coupon_date_prices_at_par_when_coupon_equals_yield(
    coupons_per_year: int, day_count: str
) -> None:
    # Two coupons left, settle on the coupon date: each cash flow discounted at the coupon rate,
    # e.g. semiannual 4%: 2/1.02 + 102/1.02^2 = 1.960784 + 98.039216 = 100.
    maturity = dt.date(2022, 6, 15)
    settle = dt.date(2021, 6, 15) if coupons_per_year == 2 else dt.date(2020, 6, 15)
    assert accrued_interest(settle, maturity, Decimal("4"), coupons_per_year, day_count) == 0
    price = clean_price(settle, maturity, Decimal("4"), coupons_per_year, 4.0, day_count)
    assert price == pytest.approx(100.0, abs=1e-9)
    assert clean_price(settle, maturity, Decimal("4"), coupons_per_year, 5.0, day_count) < 100.0


def test_treasury_accrued_interest_follows_31_cfr_306_35() -> None:
    # Source: 31 CFR 306.35 and 31 CFR Part 356 Appendix B (TreasuryDirect's rules for notes and bonds):
    # a half-year's interest is C/2 whatever the days in it; accrued interest is the daily rate on
    # the actual days of the full period times the days accrued. Table 1 of Appendix B: a period
    # "February to August", 15th to 15th, has 181 days in a regular year.
    # 8% note, par 1,000 (the appendix's note): half-year interest = 1,000 x 0.08 / 2 = 40.
    # Settle 2021-03-01: days accrued Feb 15 -> Mar 1 = 13 (Feb 16..28) + 1 = 14.
    # Accrued per 1,000 = 40 x 14 / 181 = 3.0939226...; per 100 face = 4 x 14 / 181 = 0.309392265 -> 0.30939227.
    maturity = dt.date(2031, 2, 15)
    settle = dt.date(2021, 3, 1)
    assert previous_and_next_coupon(settle, maturity, 2) == (dt.date(2021, 2, 15), dt.date(2021, 8, 15))
    assert accrued_interest(settle, maturity, Decimal("8"), 2, "ACT/ACT") == Decimal("0.30939227")


@pytest.mark.parametrize(
    ("settle", "maturity", "days"),
    [
        # Table 1 of 31 CFR Part 356 Appendix B, days in a half-year period:
        (dt.date(2021, 3, 1), dt.date(2031, 2, 15), 181),  # February to August, 15th, regular year
        (dt.date(2020, 3, 1), dt.date(2030, 2, 15), 182),  # February to August, 15th, leap year
        (dt.date(2021, 6, 30), dt.date(2030, 11, 30), 183),  # May to November, last days
        (dt.date(2021, 9, 30), dt.date(2030, 8, 31), 181),  # August to February, last days, regular year
        (dt.date(2019, 9, 30), dt.date(2030, 8, 31), 182),  # August to February, last days, leap year
    ],
)
def test_coupon_periods_have_the_days_of_the_treasury_table(
    settle: dt.date, maturity: dt.date, days: int
) -> None:
    previous, following = previous_and_next_coupon(settle, maturity, 2)
    assert (following - previous).days == days


def test_30_360_day_counts() -> None:
    # US bond basis: D1 = 31 -> 30; D2 = 31 -> 30 only when D1 >= 30.
    # Jan 31 -> Feb 28: D1 = 30, D2 = 28: 30 x 1 + (28 - 30) = 28.
    assert days_30_360(dt.date(2021, 1, 31), dt.date(2021, 2, 28)) == 28
    # Jan 30 -> Mar 31: D1 = 30, D2 = 31 -> 30: 30 x 2 + 0 = 60.
    assert days_30_360(dt.date(2021, 1, 30), dt.date(2021, 3, 31)) == 60
    # Jan 15 -> Mar 31: D1 = 15 < 30 keeps D2 = 31: 30 x 2 + 16 = 76.
    assert days_30_360(dt.date(2021, 1, 15), dt.date(2021, 3, 31)) == 76
    # A full year is 360 whatever the calendar: 2020-02-29 -> 2021-02-28 = 360 + 0 + (28 - 29) = 359.
    assert days_30_360(dt.date(2020, 2, 29), dt.date(2021, 2, 28)) == 359


def test_30_360_accrued_interest() -> None:
    # 6% corporate, coupons Jan 15 / Jul 15, settle Mar 1: 30/360 days = 30 x 2 + (1 - 15) = 46;
    # accrued per 100 = 6 / 2 x 46 / 180 = 0.7666666... -> 0.76666667.
    assert accrued_interest(dt.date(2021, 3, 1), dt.date(2026, 7, 15), Decimal("6"), 2, "30/360") == Decimal(
        "0.76666667"
    )


def test_price_matches_the_published_excel_price_example() -> None:
    # Microsoft's documentation of Excel PRICE: settlement 2008-02-15, maturity 2017-11-15, rate 5.75%,
    # yield 6.50%, redemption 100, frequency 2, basis 0 (US 30/360) -> 94.63436162.
    # By hand: previous coupon 2007-11-15, next 2008-05-15; 30/360 days accrued 90 of 180, so
    # 0.5 period to the next coupon; 20 coupons of 2.875 remain; r = 6.5% / 2 = 3.25%.
    # sum 2.875 / 1.0325^(0.5 + k), k = 0..19 = 42.47444916; 100 / 1.0325^19.5 = 53.59741246;
    # dirty 96.07186162 - accrued 2.875 x 0.5 = 1.4375 -> clean 94.63436162.
    price = clean_price(dt.date(2008, 2, 15), dt.date(2017, 11, 15), Decimal("5.75"), 2, 6.5, "30/360")
    assert price == pytest.approx(94.63436162, abs=1e-8)


def test_yield_matches_the_published_excel_yield_example() -> None:
    # Microsoft's documentation of Excel YIELD: settlement 2008-02-15, maturity 2016-11-15, rate 5.75%,
    # price 95.04287, redemption 100, frequency 2, basis 0 -> 0.065 (6.5%); the price is given to
    # 5 decimals, so the yield matches to about 1e-6 percentage points.
    ytm = yield_from_clean_price(
        dt.date(2008, 2, 15), dt.date(2016, 11, 15), Decimal("5.75"), 2, 95.04287, "30/360"
    )
    assert ytm == pytest.approx(6.5, abs=1e-5)


def test_coupon_schedule_keeps_month_ends_and_does_not_drift() -> None:
    schedule = coupon_schedule(dt.date(2022, 8, 31), 2, issue=dt.date(2019, 12, 31))
    assert schedule == [
        dt.date(2020, 2, 29),
        dt.date(2020, 8, 31),
        dt.date(2021, 2, 28),
        dt.date(2021, 8, 31),
        dt.date(2022, 2, 28),
        dt.date(2022, 8, 31),
    ]
    # The 30th is not a month end: August keeps the 30th after a February clipped to the 28th.
    assert coupon_schedule(dt.date(2022, 8, 30), 2, issue=dt.date(2021, 6, 1)) == [
        dt.date(2021, 8, 30),
        dt.date(2022, 2, 28),
        dt.date(2022, 8, 30),
    ]


def test_accrued_interest_grows_to_a_full_coupon() -> None:
    maturity = dt.date(2030, 5, 15)
    day_before = accrued_interest(dt.date(2021, 11, 14), maturity, Decimal("3"), 2, "ACT/ACT")
    # 183 of 184 days (May 15 -> Nov 15): 1.5 x 183 / 184 = 1.49184783
    assert day_before == Decimal("1.49184783")
    assert accrued_interest(dt.date(2021, 11, 15), maturity, Decimal("3"), 2, "ACT/ACT") == 0


def test_curve_yield_interpolates_linearly_and_is_flat_beyond_the_ends() -> None:
    curve = {"3M": 0.1, "2Y": 0.5, "5Y": 1.0, "10Y": 2.0, "30Y": 3.0}
    for tenor, years in TENOR_YEARS.items():
        assert curve_yield(curve, years) == pytest.approx(curve[tenor])
    assert curve_yield(curve, 7.5) == pytest.approx(1.5)  # halfway from 1.0 to 2.0
    assert curve_yield(curve, 20.0) == pytest.approx(2.5)  # halfway from 10Y to 30Y
    assert curve_yield(curve, 0.01) == pytest.approx(0.1)
    assert curve_yield(curve, 50.0) == pytest.approx(3.0)


def test_settle_on_or_after_maturity_is_rejected() -> None:
    with pytest.raises(ValueError, match="not before maturity"):
        previous_and_next_coupon(dt.date(2030, 1, 1), dt.date(2030, 1, 1), 2)


@settings(max_examples=200, deadline=None)
@given(
    settle=st.dates(min_value=dt.date(1999, 1, 1), max_value=dt.date(2021, 12, 31)),
    years=st.floats(min_value=0.05, max_value=30.0),
    coupon=st.decimals(min_value=0, max_value=12, places=3),
    ytm=st.floats(min_value=-1.0, max_value=15.0),
    coupons_per_year=st.sampled_from([1, 2, 4]),
    day_count=st.sampled_from(["ACT/ACT", "30/360"]),
)
def test_price_yield_round_trip(
    settle: dt.date, years: float, coupon: Decimal, ytm: float, coupons_per_year: int, day_count: str
) -> None:
    maturity = settle + dt.timedelta(days=max(1, round(years * 365.25)))
    price = clean_price(settle, maturity, coupon, coupons_per_year, ytm, day_count)
    assert yield_from_clean_price(
        settle, maturity, coupon, coupons_per_year, price, day_count
    ) == pytest.approx(ytm, abs=1e-7)
