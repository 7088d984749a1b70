"""One day's weights and returns by group (sector, asset class), for the portfolio and its benchmark.

Weights are taken at the previous day end and returns are the instruments' total returns over the
day (total_returns.py), so a group's figures are what attribution needs for one day (Brinson:
weights at the start of the period, returns over it).

Benchmark: each segment keeps its fixed weight every day (rebalanced daily to the mandate's policy
weights); inside a segment, constituents weigh by their full market value at the previous day end
(index units x unit value: cap weighting). A bond within the benchmark's roll-off of maturity has
left it, as it leaves the mandate's targets. A cash segment earns the day's cash rate.

Portfolio: each holding weighs its base value (market value and accrued interest) at the previous
day end over that day's NAV; everything else in the NAV (cash, accruals, pending settlements) is the
cash group and earns nothing, as the simulated fund's cash earns nothing. The sum over groups is the
portfolio's holdings-based return, which differs from the NAV's time-weighted return by what
happened inside the day (trades, their costs, flows): reports show that difference apart.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from services.common.market_events import Instrument, Mandate
from services.common.nav.valuation import DayValuation
from services.reporting.domain.total_returns import Move

ZERO = Decimal(0)
CASH = "Cash"
DIMENSIONS = ("sector", "asset_class")
DAYS_PER_YEAR = 365.25


@dataclass(frozen=True, slots=True)
class Group:
    weight: Decimal
    total_return: Decimal  # the group's own return (weighted mean of its members')


Groups = Mapping[str, Mapping[str, Group]]  # dimension -> group name -> figures


@dataclass(frozen=True, slots=True)
class Exposure:
    total_return: Decimal
    groups: Groups


def _group_names(instrument: Instrument) -> dict[str, str]:
    return {
        "sector": instrument.sector or str(instrument.asset_class),
        "asset_class": str(instrument.asset_class),
    }


class _Accumulator:
    """Weights and weight x return per group of each dimension."""

    def __init__(self) -> None:
        self.sums: dict[str, dict[str, list[Decimal]]] = {d: {} for d in DIMENSIONS}

    def add(self, names: Mapping[str, str], weight: Decimal, total_return: Decimal) -> None:
        for dimension, name in names.items():
            entry = self.sums[dimension].setdefault(name, [ZERO, ZERO])
            entry[0] += weight
            entry[1] += weight * total_return

    def exposure(self) -> Exposure:
        groups = {
            dimension: {
                name: Group(weight, contribution / weight if weight else ZERO)
                for name, (weight, contribution) in by_name.items()
            }
            for dimension, by_name in self.sums.items()
        }
        total = sum((contribution for _, contribution in self.sums["asset_class"].values()), ZERO)
        return Exposure(total, groups)


def in_benchmark(instrument: Instrument, on: dt.date, roll_off_years: float) -> bool:
    if instrument.maturity is None:
        return True
    return (instrument.maturity - on).days / DAYS_PER_YEAR >= roll_off_years


def benchmark_exposure(
    mandate: Mandate,
    instruments: Mapping[str, Instrument],
    weighted_on: dt.date,
    moves: Mapping[str, Move],
    cash_rate: Mapping[str, Decimal],
) -> Exposure | None:
    """The benchmark's day, or None when a segment has no constituent with a move (the first day)."""
    if not mandate.benchmark_segments:
        return None
    acc = _Accumulator()
    for segment in mandate.benchmark_segments:
        weight = Decimal(repr(segment.weight))
        if segment.asset_class is None:
            acc.add({d: CASH for d in DIMENSIONS}, weight, cash_rate.get(segment.currency, ZERO))
            continue
        members = [
            (
                instruments[c.instrument_id],
                c.units * moves[c.instrument_id].value_before,
                moves[c.instrument_id],
            )
            for c in segment.constituents
            if c.instrument_id in moves
            and in_benchmark(instruments[c.instrument_id], weighted_on, mandate.benchmark_roll_off_years)
        ]
        cap = sum((value for _, value, _ in members), ZERO)
        if not members or cap <= 0:
            return None
        for instrument, value, move in members:
            acc.add(_group_names(instrument), weight * value / cap, move.total_return)
    return acc.exposure()


def portfolio_exposure(
    previous: DayValuation, instruments: Mapping[str, Instrument], moves: Mapping[str, Move]
) -> Exposure | None:
    """The portfolio's day from yesterday's holdings, or None when yesterday's NAV was not positive."""
    if previous.nav <= 0:
        return None
    acc = _Accumulator()
    invested = ZERO
    for holding in previous.holdings:
        value = holding.base_market_value + holding.base_accrued_interest
        invested += value
        move = moves.get(holding.instrument_id)
        acc.add(
            _group_names(instruments[holding.instrument_id]),
            value / previous.nav,
            move.total_return if move is not None else ZERO,
        )
    acc.add({d: CASH for d in DIMENSIONS}, (previous.nav - invested) / previous.nav, ZERO)
    return acc.exposure()


def daily_cash_rate(fed_funds_pct: float | None, days: int) -> Mapping[str, Decimal]:
    """The day's return of cash per currency: USD the effective fed funds rate (FRED DFF) for the
    calendar days since the previous day end, actual/360 (the US money-market convention); the data
    has no short rate for EUR, GBP or JPY, so their cash earns nothing (an assumption, stated in
    docs/reporting-conventions.md)."""
    if fed_funds_pct is None:
        return {}
    return {"USD": Decimal(repr(fed_funds_pct)) / 100 * days / 360}
