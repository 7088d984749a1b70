"""Fixed-coupon bond maths: coupon schedules, accrued interest, price from yield and back.

Conventions (per 100 face):
- Coupon dates step back from maturity in whole months (12 / coupons_per_year);
  a maturity on a month's last day keeps every coupon on a month's last day,
  the US Treasury rule (31 CFR 356 App. B: "May 31 to November 30").
- "ACT/ACT" is ICMA actual/actual: accrued = coupon/n * days(prev, settle) / days(prev, next),
  the rule of 31 CFR 306.35 for Treasuries (a period's interest is a half-year's
  interest whatever its length in days).
- "30/360" is the US bond basis (ISDA 30/360): D1 = 31 -> 30; D2 = 31 -> 30 when D1 >= 30.
- Price from yield is the street convention: compound discounting at y/n per
  period, with the fraction of a period to the next coupon measured in the bond's
  own day count, in every period including the last.

Accrued interest is money, so it is a Decimal; prices and yields from the
solver are floats (analytics), to be rounded to a tick by the caller.
"""

from __future__ import annotations

import calendar
import datetime as dt
import itertools
import math
from collections.abc import Mapping
from decimal import ROUND_HALF_EVEN, Decimal

TENORS: tuple[str, ...] = ("3M", "2Y", "5Y", "10Y", "30Y")
TENOR_YEARS: Mapping[str, float] = {"3M": 0.25, "2Y": 2.0, "5Y": 5.0, "10Y": 10.0, "30Y": 30.0}

DAY_COUNTS: tuple[str, ...] = ("ACT/ACT", "30/360")
ACCRUED_QUANTUM = Decimal("0.00000001")  # per 100 face; finer than any cent on realistic face amounts
_SCHEDULE_YEARS_WITHOUT_ISSUE = 50


def _check(coupons_per_year: int, day_count: str | None = None) -> None:
    if coupons_per_year not in (1, 2, 4, 12):
        raise ValueError(f"coupons_per_year must be 1, 2, 4 or 12, not {coupons_per_year}")
    if day_count is not None and day_count not in DAY_COUNTS:
        raise ValueError(f"day_count must be one of {DAY_COUNTS}, not {day_count!r}")


def _months_back(maturity: dt.date, months: int) -> dt.date:
    total = maturity.year * 12 + (maturity.month - 1) - months
    year, month = divmod(total, 12)
    month += 1
    last = calendar.monthrange(year, month)[1]
    if maturity.day == calendar.monthrange(maturity.year, maturity.month)[1]:
        return dt.date(year, month, last)  # end-of-month rule
    return dt.date(year, month, min(maturity.day, last))


def coupon_schedule(maturity: dt.date, coupons_per_year: int, issue: dt.date | None = None) -> list[dt.date]:
    """Regular coupon dates after `issue` up to and including maturity, ascending.

    Each date is computed from maturity directly (not from its neighbour), so a
    clipped day (Aug 31 -> Feb 28) does not drift into later dates. Without an
    issue date, the dates of the last 50 years before maturity.
    """
    _check(coupons_per_year)
    step = 12 // coupons_per_year
    floor = issue if issue is not None else _months_back(maturity, 12 * _SCHEDULE_YEARS_WITHOUT_ISSUE)
    dates: list[dt.date] = []
    k = 0
    while True:
        day = _months_back(maturity, k * step)
        if day <= floor:
            break
        dates.append(day)
        k += 1
    dates.reverse()
    return dates


def previous_and_next_coupon(
    settle: dt.date, maturity: dt.date, coupons_per_year: int
) -> tuple[dt.date, dt.date]:
    """The coupon period containing settle: previous <= settle < next.

    On a coupon date, that date is the previous coupon and no interest has accrued.
    """
    _check(coupons_per_year)
    if settle >= maturity:
        raise ValueError(f"settle {settle} is not before maturity {maturity}")
    step = 12 // coupons_per_year
    # Jump near the answer instead of walking from maturity period by period.
    months_left = (maturity.year - settle.year) * 12 + (maturity.month - settle.month)
    k = max(0, months_left // step - 1)
    while _months_back(maturity, k * step) <= settle:
        k -= 1
    while _months_back(maturity, (k + 1) * step) > settle:
        k += 1
    return _months_back(maturity, (k + 1) * step), _months_back(maturity, k * step)


def days_30_360(start: dt.date, end: dt.date) -> int:
    """Days between two dates on the US bond basis (ISDA 30/360)."""
    d1 = 30 if start.day == 31 else start.day
    d2 = 30 if end.day == 31 and d1 >= 30 else end.day
    return 360 * (end.year - start.year) + 30 * (end.month - start.month) + (d2 - d1)


def _accrual_fraction(
    settle: dt.date, previous: dt.date, following: dt.date, coupons_per_year: int, day_count: str
) -> tuple[int, int]:
    """(days accrued, days in the period) in the day count's own units."""
    if day_count == "ACT/ACT":
        return (settle - previous).days, (following - previous).days
    return days_30_360(previous, settle), 360 // coupons_per_year


def accrued_interest(
    settle: dt.date, maturity: dt.date, coupon_rate_pct: Decimal, coupons_per_year: int, day_count: str
) -> Decimal:
    """Accrued interest per 100 face at settle, rounded half-even to 8 decimals."""
    _check(coupons_per_year, day_count)
    previous, following = previous_and_next_coupon(settle, maturity, coupons_per_year)
    accrued_days, period_days = _accrual_fraction(settle, previous, following, coupons_per_year, day_count)
    coupon = Decimal(coupon_rate_pct) / coupons_per_year
    return (coupon * accrued_days / period_days).quantize(ACCRUED_QUANTUM, rounding=ROUND_HALF_EVEN)


def _cash_flows(
    settle: dt.date, maturity: dt.date, coupons_per_year: int, day_count: str
) -> tuple[float, float, int]:
    """(fraction of a period already accrued, fraction to the next coupon, coupons remaining)."""
    previous, following = previous_and_next_coupon(settle, maturity, coupons_per_year)
    accrued_days, period_days = _accrual_fraction(settle, previous, following, coupons_per_year, day_count)
    accrued = accrued_days / period_days
    step = 12 // coupons_per_year
    months = (maturity.year - following.year) * 12 + (maturity.month - following.month)
    remaining = months // step + 1
    return accrued, 1.0 - accrued, remaining


def _dirty_and_derivative(
    coupon: float, coupons_per_year: int, to_next: float, remaining: int, ytm_pct: float
) -> tuple[float, float]:
    rate = ytm_pct / 100.0 / coupons_per_year
    base = 1.0 + rate
    price = 0.0
    derivative = 0.0  # d price / d ytm_pct
    for k in range(remaining):
        exponent = to_next + k
        flow = coupon + (100.0 if k == remaining - 1 else 0.0)
        discount = base**-exponent
        price += flow * discount
        derivative -= flow * exponent * discount / base / (100.0 * coupons_per_year)
    return price, derivative


def clean_price(
    settle: dt.date,
    maturity: dt.date,
    coupon_rate_pct: Decimal,
    coupons_per_year: int,
    ytm_pct: float,
    day_count: str,
) -> float:
    """Clean price per 100 face for a yield in percent (compounded coupons_per_year times a year)."""
    _check(coupons_per_year, day_count)
    if ytm_pct <= -100.0 * coupons_per_year:
        raise ValueError(f"yield {ytm_pct}% is below the -100% per period floor")
    accrued, to_next, remaining = _cash_flows(settle, maturity, coupons_per_year, day_count)
    coupon = float(coupon_rate_pct) / coupons_per_year
    dirty, _ = _dirty_and_derivative(coupon, coupons_per_year, to_next, remaining, ytm_pct)
    return dirty - coupon * accrued


def yield_from_clean_price(
    settle: dt.date,
    maturity: dt.date,
    coupon_rate_pct: Decimal,
    coupons_per_year: int,
    price: float | Decimal,
    day_count: str,
    *,
    tolerance: float = 1e-12,
) -> float:
    """Yield in percent that reproduces a clean price per 100: Newton steps kept inside a bisection bracket.

    Price falls strictly as the yield rises, so the bracket always holds the root.
    """
    _check(coupons_per_year, day_count)
    target = float(price)
    if not target > 0.0:
        raise ValueError(f"price must be positive, not {price}")
    accrued, to_next, remaining = _cash_flows(settle, maturity, coupons_per_year, day_count)
    coupon = float(coupon_rate_pct) / coupons_per_year
    target_dirty = target + coupon * accrued

    def error(ytm: float) -> tuple[float, float]:
        dirty, slope = _dirty_and_derivative(coupon, coupons_per_year, to_next, remaining, ytm)
        return dirty - target_dirty, slope

    low, high = -99.0 * coupons_per_year, 100.0
    while error(high)[0] > 0.0:  # price still above target: the yield is higher still
        high *= 2.0
        if high > 1e6:
            raise ValueError(f"no yield reproduces price {price}")
    if error(low)[0] < 0.0:
        raise ValueError(f"no yield reproduces price {price}")
    guess = float(coupon_rate_pct)
    guess = guess if low < guess < high else (low + high) / 2.0
    for _ in range(200):
        value, slope = error(guess)
        if abs(value) < tolerance * max(1.0, target_dirty):
            return guess
        if value > 0.0:
            low = guess
        else:
            high = guess
        step = guess - value / slope if slope != 0.0 else math.nan
        guess = step if low < step < high else (low + high) / 2.0
        if high - low < 1e-14:
            break
    return guess


def curve_yield(curve_pct: Mapping[str, float], years: float) -> float:
    """The curve's yield at a maturity in years: linear between tenors, flat beyond the ends."""
    points = sorted((TENOR_YEARS[tenor], value) for tenor, value in curve_pct.items() if tenor in TENOR_YEARS)
    if not points:
        raise ValueError(f"no known tenor in curve {dict(curve_pct)}")
    if years <= points[0][0]:
        return points[0][1]
    for (x0, y0), (x1, y1) in itertools.pairwise(points):
        if years <= x1:
            return y0 + (y1 - y0) * (years - x0) / (x1 - x0)
    return points[-1][1]
