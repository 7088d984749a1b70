"""What the synthetic extension keeps its levels within, and how (see extension.py for the rules
in words): the ranges the real history has seen, the anchors a few series are pulled towards, and
reflection, clamping and the pull themselves."""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Context, Decimal
from types import MappingProxyType

from services.market.sim.bonds import TENORS
from services.market.sim.macro.alignment import FX_SERIES, TENOR_SERIES, month_shift
from services.market.sim.series import SeriesSet

# Exact decimal arithmetic for FX and for the means of log returns, in a context of its own so no
# caller's decimal settings can change a number.
EXACT = Context(prec=28, rounding=ROUND_HALF_EVEN)
# The anchored series (Anchors) close this share of their gap to the anchor each day (each
# month for unemployment): half of it in a year. Small beside a day's move (a 2Y-10Y spread 2 pts
# from its mean moves 0.55 bp a day towards it, against daily moves of 3.8 bp), so the real
# volatility is kept, but enough that a random walk of real changes does not leave breakeven
# inflation near zero or unemployment above 8% for years.
DAILY_PULL = 1.0 - 0.5 ** (1.0 / 250.0)
MONTHLY_PULL = 1.0 - 0.5 ** (1.0 / 12.0)


def reflect(value: float, low: float, high: float) -> float:
    """`value` brought inside [low, high]: what passes a bound comes back by as much."""
    if high <= low:
        return low
    while value < low or value > high:  # a move wider than the range bounces more than once
        value = 2.0 * low - value if value < low else 2.0 * high - value
    return value


def reflect_ratio(value: float, low: float, high: float) -> float:
    """reflect() in log terms, for prices (positive bounds): low * low / value mirrors about low."""
    if high <= low:
        return low
    while value < low or value > high:
        value = low * low / value if value < low else high * high / value
    return value


def reflect_decimal(value: Decimal, low: Decimal, high: Decimal) -> Decimal:
    """reflect_ratio() in exact decimals, for FX."""
    if high <= low:
        return low
    while value < low or value > high:
        bound = low if value < low else high
        value = EXACT.divide(EXACT.multiply(bound, bound), value)
    return value


def clamp(value: float, low: float, high: float) -> float:
    return min(max(value, low), high)


def pulled(value: float, anchor: float, share: float) -> float:
    """`value` moved `share` of the way to `anchor`."""
    return value + share * (anchor - value)


@dataclass(frozen=True)
class Ranges:
    """The lowest and highest each series reached on or before the data's last business day: the
    guards' bounds. spread_to_10y: each tenor but the 10Y minus the 10Y. policy_over_3m: the policy
    level minus the 3-month bill. oil: positive prints only."""

    yields: Mapping[str, tuple[float, float]]
    spread_to_10y: Mapping[str, tuple[float, float]]
    policy: tuple[float, float]
    policy_over_3m: tuple[float, float]
    breakeven: tuple[float, float]
    oil: tuple[float, float]
    fx: Mapping[str, tuple[Decimal, Decimal]]
    unemployment: tuple[float, float]
    cpi_yoy: tuple[float, float]


@dataclass(frozen=True)
class Anchors:
    """The real history's mean of the series it shows anchored, which the extension pulls gently
    towards: each tenor's spread to the 10Y (inversions end), breakeven inflation (expectations
    return towards the target) and unemployment (towards its usual level)."""

    spread_to_10y: Mapping[str, float]
    breakeven: float
    unemployment: float


def _span(values: Sequence[float]) -> tuple[float, float]:
    return min(values), max(values)


def guard_ranges(
    series: SeriesSet,
    business: list[dt.date],
    policy: list[float],
    unemployment: Mapping[dt.date, float],
    cpi: Mapping[dt.date, float],
) -> Ranges:
    """The ranges over the data up to its last business day, given the policy level of each
    business day and the monthly series up to then."""
    last = business[-1]
    obs = series.observations

    def seen(series_id: str) -> dict[dt.date, float]:
        return {d: v for d, v in obs[series_id].items() if v is not None and d <= last}

    tenors = {t: seen(TENOR_SERIES[t]) for t in TENORS}
    ten = tenors["10Y"]
    bill = tenors["3M"]
    year_on_year = [
        (v / cpi[month_shift(m, -12)] - 1.0) * 100.0 for m, v in cpi.items() if month_shift(m, -12) in cpi
    ]
    return Ranges(
        yields=MappingProxyType({t: _span(list(values.values())) for t, values in tenors.items()}),
        spread_to_10y=MappingProxyType(
            {t: _span([v - ten[d] for d, v in tenors[t].items() if d in ten]) for t in TENORS if t != "10Y"}
        ),
        policy=_span(policy),
        policy_over_3m=_span(
            [level - bill[d] for d, level in zip(business, policy, strict=True) if d in bill]
        ),
        breakeven=_span(list(seen("T10YIE").values())),
        oil=_span([v for v in seen("DCOILWTICO").values() if v > 0.0]),
        fx=MappingProxyType(
            {
                pair: (min(fixings), max(fixings))
                for pair, sid in FX_SERIES.items()
                for fixings in [[Decimal(t) for d, t in series.text[sid].items() if d <= last]]
            }
        ),
        unemployment=_span(list(unemployment.values())),
        cpi_yoy=_span(year_on_year),
    )


def guard_anchors(series: SeriesSet, last: dt.date, unemployment: Mapping[dt.date, float]) -> Anchors:
    """The anchors: means over the data up to its last business day."""
    obs = series.observations
    ten = {d: v for d, v in obs["DGS10"].items() if v is not None and d <= last}
    spreads = {}
    for tenor in TENORS:
        if tenor != "10Y":
            tenor_obs = obs[TENOR_SERIES[tenor]]
            spreads[tenor] = statistics.fmean(
                value - ten[d] for d, value in tenor_obs.items() if value is not None and d in ten
            )
    breakevens = [v for d, v in obs["T10YIE"].items() if v is not None and d <= last]
    return Anchors(
        spread_to_10y=MappingProxyType(spreads),
        breakeven=statistics.fmean(breakevens),
        unemployment=statistics.fmean(unemployment.values()),
    )
