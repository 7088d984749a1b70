"""The real material the synthetic extension draws from (see extension.py): each real business
day's joint changes, which days and blocks may be drawn and the real regime each block starts in,
the mean each change is drawn with, and the guards' ranges and anchors (guards.py). Computed once
from the data: its size depends on the data only, never on how many synthetic days are drawn.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from types import MappingProxyType

from services.market.sim.bonds import TENORS
from services.market.sim.macro.alignment import (
    FED_FUNDS_MEDIAN_OBS,
    FX_SERIES,
    TENOR_SERIES,
    FedFunds,
    Fills,
    month_shift,
)
from services.market.sim.macro.guards import EXACT, Anchors, Ranges, guard_anchors, guard_ranges
from services.market.sim.macro.history import HistoryEnd, business_days, replay_to_end, replayed_regimes
from services.market.sim.macro.regime import risk_shock
from services.market.sim.series import SeriesSet

# A block is 20 consecutive real business days, about a month: long enough to keep a month's
# clustering of volatility and a policy move with the days around it (the regime reads 21-day
# windows), short enough that the eligible history holds some 190 distinct non-overlapping blocks.
BLOCK_DAYS = 20
# Every daily series a day's joint changes use; each must be observed on the day and on the business
# day before, so a holiday's or a discontinued series' carried-forward value is never drawn.
DAILY_SERIES: tuple[str, ...] = (*TENOR_SERIES.values(), "DFF", "T10YIE", *FX_SERIES.values(), "DCOILWTICO")
MONTHS_HELD = 13  # a month and the twelve before it: a 12-month change


@dataclass(frozen=True, slots=True)
class RealChange:
    """One real business day's joint changes against the business day before it.

    tenor_pts: yield change per tenor, percentage points.
    policy_pts: change of the fed funds policy level, the median of the last 10 prints (the level
        the regime reads): policy moves without DFF's one-day quarter-end spikes, which a block
        cut in two would otherwise turn into lasting jumps.
    breakeven_pts: T10YIE change, percentage points.
    oil_ratio, fx_ratio: price over the day before's (FX exact, from the published text).
    risk_shock: the real day's risk shock, as the history computes it for that day.
    unemployment_pts, cpi_ratio: the change of the day's month against the month before (UNRATE
        difference, CPIAUCSL ratio), applied when a synthetic month begins.
    """

    date: dt.date
    tenor_pts: Mapping[str, float]
    policy_pts: float
    breakeven_pts: float
    oil_ratio: float
    fx_ratio: Mapping[str, Decimal]
    risk_shock: float
    unemployment_pts: float
    cpi_ratio: float


@dataclass(frozen=True)
class Drift:
    """The mean change each series is drawn with, weighted as a uniform draw of the block starts
    weighs the days (by how many eligible blocks hold each), taken off every draw: rates fell from
    2003 to 2020, and an extension that kept that trend would pin yields to their floor within a
    few years. The extension draws a block among those of the synthetic regime (extension.py), which
    weighs a regime's blocks by the synthetic days spent in it; over a long stretch that is close
    to the regime's share of the block starts, so the uniform weights stand for it (the residual
    trend of the 10Y over 30 synthetic years, seeds 1 to 20: -7 bp a year, -6 with the uniform
    draw, against a spread of 16 between seeds).
    oil_factor and fx_factor: exp(-mean log return), multiplied into each day's ratio."""

    tenor_pts: Mapping[str, float]
    breakeven_pts: float
    oil_factor: float
    fx_factor: Mapping[str, Decimal]


@dataclass(frozen=True)
class ExtensionBasis:
    """end: where the real history stands after its last business day.
    days: one RealChange per real business day (by index in the data's business days), None for a
        day that cannot be drawn. block_starts: the indexes a block may start at (all BLOCK_DAYS
        days from there can be drawn).
    starts_by_regime: block_starts grouped by the regime the real history gave the block's first
        day (its own replay, history.py), ascending; a regime no block starts in has no entry.
    unemployment_months, cpi_months: UNRATE and the CPI index of the last real month in use and the
        12 months before it, oldest first (the 12-month change's window)."""

    end: HistoryEnd
    days: tuple[RealChange | None, ...]
    block_starts: tuple[int, ...]
    starts_by_regime: Mapping[str, tuple[int, ...]]
    drift: Drift
    ranges: Ranges
    anchors: Anchors
    unemployment_months: tuple[float, ...]
    cpi_months: tuple[float, ...]


def extension_basis(series: SeriesSet) -> ExtensionBasis:
    """Everything the extension needs from the data. ValueError when no block can be drawn."""
    business = business_days(series)
    last = business[-1]
    obs = series.observations
    policy = _policy_levels(series, business)
    days = tuple(_real_change(series, business, policy, i) for i in range(len(business)))
    block_starts = _block_starts(days)
    if not block_starts:
        raise ValueError(
            f"no {BLOCK_DAYS} consecutive business days with every series ({', '.join(DAILY_SERIES)}) "
            "observed on the day and the day before: nothing to draw a synthetic extension from"
        )
    # The regime of every real business day, by the history's replay from the first day, as
    # build_history gives it to the simulation (one per business day, in order).
    regimes = replayed_regimes(series)
    assert len(regimes) == len(business)  # indexed as the days are
    monthly = {
        sid: {d: v for d, v in obs[sid].items() if v is not None and d <= last}
        for sid in ("UNRATE", "CPIAUCSL")
    }
    return ExtensionBasis(
        end=replay_to_end(series),
        days=days,
        block_starts=block_starts,
        starts_by_regime=_starts_by_regime(block_starts, regimes),
        drift=_drift(days, block_starts),
        ranges=guard_ranges(series, business, policy, monthly["UNRATE"], monthly["CPIAUCSL"]),
        anchors=guard_anchors(series, last, monthly["UNRATE"]),
        unemployment_months=_months_to(monthly["UNRATE"], "UNRATE"),
        cpi_months=_months_to(monthly["CPIAUCSL"], "CPIAUCSL"),
    )


def _policy_levels(series: SeriesSet, business: list[dt.date]) -> list[float]:
    """The policy level on each business day, by the history's own rule (FedFunds)."""
    fed_funds = FedFunds(series.observations["DFF"], business)
    ignored = Fills(business[-1] + dt.timedelta(days=1))  # flags only days after the data: none
    for day in business:
        fed_funds.on(day, ignored)
    return [median for _, median in fed_funds.medians_since(business[0])]


def _real_change(
    series: SeriesSet, business: list[dt.date], policy: list[float], i: int
) -> RealChange | None:
    """Day i's joint changes, or None when any series was not observed on it or the day before."""
    if i < FED_FUNDS_MEDIAN_OBS:  # the policy level needs a full window of prints
        return None
    day, before = business[i], business[i - 1]
    obs = series.observations
    now: dict[str, float] = {}
    then: dict[str, float] = {}
    for series_id in DAILY_SERIES:
        value, previous = obs[series_id].get(day), obs[series_id].get(before)
        if value is None or previous is None:
            return None
        now[series_id], then[series_id] = value, previous
    if now["DCOILWTICO"] <= 0.0 or then["DCOILWTICO"] <= 0.0:
        return None  # a negative print (April 2020) has no ratio
    months = {}
    for series_id in ("UNRATE", "CPIAUCSL"):
        value, previous = obs[series_id].get(month_shift(day, 0)), obs[series_id].get(month_shift(day, -1))
        if value is None or previous is None:
            return None
        months[series_id] = (value, previous)
    ten_bp = (now["DGS10"] - then["DGS10"]) * 100.0
    breakeven_bp = (now["T10YIE"] - then["T10YIE"]) * 100
    text = series.text
    return RealChange(
        date=day,
        tenor_pts=MappingProxyType({t: now[TENOR_SERIES[t]] - then[TENOR_SERIES[t]] for t in TENORS}),
        policy_pts=policy[i] - policy[i - 1],
        breakeven_pts=now["T10YIE"] - then["T10YIE"],
        oil_ratio=now["DCOILWTICO"] / then["DCOILWTICO"],
        fx_ratio=MappingProxyType(
            {
                pair: EXACT.divide(Decimal(text[sid][day]), Decimal(text[sid][before]))
                for pair, sid in FX_SERIES.items()
            }
        ),
        risk_shock=risk_shock(breakeven_bp, ten_bp),
        unemployment_pts=months["UNRATE"][0] - months["UNRATE"][1],
        cpi_ratio=months["CPIAUCSL"][0] / months["CPIAUCSL"][1],
    )


def _block_starts(days: Sequence[RealChange | None]) -> tuple[int, ...]:
    """The indexes from which BLOCK_DAYS days in a row can be drawn."""
    starts = []
    run = 0  # drawable days in a row ending at i
    for i, change in enumerate(days):
        run = run + 1 if change is not None else 0
        if run >= BLOCK_DAYS:
            starts.append(i - BLOCK_DAYS + 1)
    return tuple(starts)


def _starts_by_regime(block_starts: Sequence[int], regimes: Sequence[str]) -> Mapping[str, tuple[int, ...]]:
    """block_starts grouped by the real regime of the block's first day."""
    grouped: dict[str, list[int]] = {}
    for start in block_starts:
        grouped.setdefault(regimes[start], []).append(start)
    return MappingProxyType({regime: tuple(starts) for regime, starts in grouped.items()})


def _drift(days: Sequence[RealChange | None], block_starts: Sequence[int]) -> Drift:
    # How many blocks hold each day: a day near a gap is in fewer blocks, so it is drawn less often.
    weight = [0] * (len(days) + 1)
    for start in block_starts:
        weight[start] += 1
        weight[start + BLOCK_DAYS] -= 1
    held: list[tuple[int, RealChange]] = []
    running = 0
    for i, change in enumerate(days):
        running += weight[i]
        if running and change is not None:
            held.append((running, change))
    total = sum(count for count, _ in held)

    def mean(value: list[float]) -> float:
        # fsum: exact, so the mean is the same on every Python (sum() of floats changed in 3.12).
        return math.fsum(count * x for (count, _), x in zip(held, value, strict=True)) / total

    def factor(ratios: list[Decimal]) -> Decimal:
        log_sum = Decimal(0)
        for (count, _), ratio in zip(held, ratios, strict=True):
            log_sum = EXACT.add(log_sum, EXACT.multiply(count, EXACT.ln(ratio)))
        return EXACT.exp(EXACT.minus(EXACT.divide(log_sum, total)))

    return Drift(
        tenor_pts=MappingProxyType({t: mean([c.tenor_pts[t] for _, c in held]) for t in TENORS}),
        breakeven_pts=mean([c.breakeven_pts for _, c in held]),
        oil_factor=float(factor([Decimal(c.oil_ratio) for _, c in held])),
        fx_factor=MappingProxyType({pair: factor([c.fx_ratio[pair] for _, c in held]) for pair in FX_SERIES}),
    )


def _months_to(values: Mapping[dt.date, float], series_id: str) -> tuple[float, ...]:
    """The latest month in `values` and the 12 before it, oldest first."""
    latest = max(values)
    months = [month_shift(latest, -back) for back in range(MONTHS_HELD - 1, -1, -1)]
    missing = [m.isoformat() for m in months if m not in values]
    if missing:
        raise ValueError(
            f"{series_id} lacks {', '.join(missing)}: the extension needs 13 months before the data ends"
        )
    return tuple(values[m] for m in months)
