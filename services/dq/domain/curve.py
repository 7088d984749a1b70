"""A fixed-coupon bond's clean price implied by the day's Treasury curve (and its credit spread).

The conventions are market's (services/market/sim/bonds.py and prices.py), restated here so dq
depends on no part of the simulation and so the price-vs-curve tolerance can be tight:
- the curve's yield at a maturity is linear between its tenors and flat beyond its ends;
  years to maturity are calendar days / 365.25;
- coupon dates step back from maturity in whole months (a maturity on a month's last day keeps
  every coupon on a month's last day); "ACT/ACT" accrues on actual days of the period, "30/360"
  on the US bond basis;
- the price is discounted at y / n per period, the fraction of a period to the next coupon in the
  bond's own day count, settling on the price date; clean = dirty - accrued;
- a corporate's yield is the curve's plus spread_bp x a credit multiplier that moves a share of
  the way towards its regime's level each business day (CreditSpread), from that level on the
  first day seen.
Prices are floats (analytics); the caller compares them with the quoted Decimal within a
tolerance.
"""

from __future__ import annotations

import calendar
import datetime as dt
import itertools
from collections.abc import Mapping
from decimal import Decimal
from types import MappingProxyType

TENOR_YEARS: Mapping[str, float] = MappingProxyType(
    {"3M": 0.25, "2Y": 2.0, "5Y": 5.0, "10Y": 10.0, "30Y": 30.0}
)
DAYS_PER_YEAR = 365.25


def curve_yield(curve_pct: Mapping[str, float], years: float) -> float:
    """The curve's yield in percent at a maturity in years."""
    points = sorted((TENOR_YEARS[tenor], value) for tenor, value in curve_pct.items() if tenor in TENOR_YEARS)
    if not points:
        raise ValueError(f"no known tenor in curve {dict(curve_pct)}")
    if years <= points[0][0]:
        return points[0][1]
    for (x0, y0), (x1, y1) in itertools.pairwise(points):
        if years <= x1:
            return y0 + (y1 - y0) * (years - x0) / (x1 - x0)
    return points[-1][1]


def _months_back(maturity: dt.date, months: int) -> dt.date:
    total = maturity.year * 12 + (maturity.month - 1) - months
    year, month = divmod(total, 12)
    month += 1
    last = calendar.monthrange(year, month)[1]
    if maturity.day == calendar.monthrange(maturity.year, maturity.month)[1]:
        return dt.date(year, month, last)
    return dt.date(year, month, min(maturity.day, last))


def _coupon_period(settle: dt.date, maturity: dt.date, step: int) -> tuple[dt.date, dt.date]:
    """(previous, next) coupon dates with previous <= settle < next."""
    months_left = (maturity.year - settle.year) * 12 + (maturity.month - settle.month)
    k = max(0, months_left // step - 1)
    while _months_back(maturity, k * step) <= settle:
        k -= 1
    while _months_back(maturity, (k + 1) * step) > settle:
        k += 1
    return _months_back(maturity, (k + 1) * step), _months_back(maturity, k * step)


def _days_30_360(start: dt.date, end: dt.date) -> int:
    d1 = 30 if start.day == 31 else start.day
    d2 = 30 if end.day == 31 and d1 >= 30 else end.day
    return 360 * (end.year - start.year) + 30 * (end.month - start.month) + (d2 - d1)


def clean_price(
    settle: dt.date,
    maturity: dt.date,
    coupon_rate_pct: Decimal,
    coupons_per_year: int,
    ytm_pct: float,
    day_count: str,
) -> float:
    """Clean price per 100 face at a yield in percent; ValueError for a bond it cannot price."""
    if coupons_per_year not in (1, 2, 4, 12):
        raise ValueError(f"coupons_per_year must be 1, 2, 4 or 12, not {coupons_per_year}")
    if day_count not in ("ACT/ACT", "30/360"):
        raise ValueError(f"day_count must be ACT/ACT or 30/360, not {day_count!r}")
    if settle >= maturity:
        raise ValueError(f"settle {settle} is not before maturity {maturity}")
    step = 12 // coupons_per_year
    previous, following = _coupon_period(settle, maturity, step)
    if day_count == "ACT/ACT":
        accrued_days, period_days = (settle - previous).days, (following - previous).days
    else:
        accrued_days, period_days = _days_30_360(previous, settle), 360 // coupons_per_year
    accrued = accrued_days / period_days
    to_next = 1.0 - accrued
    remaining = ((maturity.year - following.year) * 12 + (maturity.month - following.month)) // step + 1
    coupon = float(coupon_rate_pct) / coupons_per_year
    base = 1.0 + ytm_pct / 100.0 / coupons_per_year
    dirty = 0.0
    for k in range(remaining):
        flow = coupon + (100.0 if k == remaining - 1 else 0.0)
        dirty += flow * base ** -(to_next + k)
    return dirty - coupon * accrued


class CreditSpread:
    """The credit multiplier of corporate spreads: market widens spreads over days in a crisis.

    levels: regime -> the multiplier it pulls towards (an unknown regime pulls towards 1);
    speed: the share of the gap closed each business day (1 = at once).
    """

    def __init__(self, levels: Mapping[str, float], speed: float, multiplier: float | None = None) -> None:
        self._levels = dict(levels)
        self._speed = speed
        self.multiplier = multiplier

    def observe(self, regime: str) -> None:
        """One business day of the regime."""
        target = self._levels.get(regime, 1.0)
        if self.multiplier is None:
            self.multiplier = target
        else:
            self.multiplier += self._speed * (target - self.multiplier)

    def spread_pct(self, spread_bp: int) -> float:
        return spread_bp * (self.multiplier or 1.0) / 100.0


def implied_yield_pct(
    curve_pct: Mapping[str, float], maturity: dt.date, day: dt.date, spread_pct: float
) -> float:
    return curve_yield(curve_pct, (maturity - day).days / DAYS_PER_YEAR) + spread_pct
