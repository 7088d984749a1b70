"""Performance over the standard periods ending at a report's date, from the daily NAV history.

A period runs from the day end before it starts (its base) to the report's day end: 1D from the
previous day end, MTD from the last day end of the previous month, QTD of the previous quarter, YTD
of the previous year, 1Y from the last day end at least one calendar year earlier, since inception
from the first NAV. A base before the first NAV is the first NAV (the fund did not exist earlier),
and a period whose base is its end has no return. Returns link the daily time-weighted returns
geometrically; volatility and tracking error are annualised sample standard deviations of the daily
returns (risk.py), and need at least two days. Returns over more than a year are also annualised
(geometric, by 365.25-day years); shorter ones never are.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from services.reporting.domain import risk

ZERO = Decimal(0)
DAYS_PER_YEAR = 365.25


class Period(StrEnum):
    DAY = "1D"
    MONTH_TO_DATE = "MTD"
    QUARTER_TO_DATE = "QTD"
    YEAR_TO_DATE = "YTD"
    ONE_YEAR = "1Y"
    SINCE_INCEPTION = "SI"


@dataclass(frozen=True, slots=True)
class DailyPoint:
    """One day end: NAV (base currency), the day's external flows, and the day's returns."""

    date: dt.date
    nav: Decimal
    flows: Decimal
    daily_return: float | None  # None on the first day (nothing before it to compare)
    benchmark_return: float | None = None
    risk_free_return: float = 0.0  # the day's return of cash in the base currency


@dataclass(frozen=True, slots=True)
class PeriodFigures:
    period: Period
    start: dt.date  # the base day end (the first day end for a period from inception)
    end: dt.date
    portfolio_return: float | None
    benchmark_return: float | None
    annualised_return: float | None  # only past a year
    volatility: float | None
    tracking_error: float | None
    pnl: Decimal  # change in NAV less net external flows
    net_flows: Decimal
    sharpe: float | None = None
    sortino: float | None = None
    max_drawdown: float | None = None
    information_ratio: float | None = None
    beta: float | None = None

    @property
    def active_return(self) -> float | None:
        if self.portfolio_return is None or self.benchmark_return is None:
            return None
        return self.portfolio_return - self.benchmark_return


INCEPTION = -1  # a base before the first NAV: the fund's start, worth nothing before its first flows


def _base_index(period: Period, history: Sequence[DailyPoint], end_index: int) -> int:
    """Index of the period's base day end in history, or INCEPTION."""
    end = history[end_index].date
    if period is Period.DAY:
        return end_index - 1 if end_index > 0 else INCEPTION
    if period is Period.SINCE_INCEPTION:
        return INCEPTION
    if period is Period.MONTH_TO_DATE:
        boundary = end.replace(day=1)
    elif period is Period.QUARTER_TO_DATE:
        boundary = dt.date(end.year, 3 * ((end.month - 1) // 3) + 1, 1)
    elif period is Period.YEAR_TO_DATE:
        boundary = dt.date(end.year, 1, 1)
    else:
        boundary = _one_year_before(end) + dt.timedelta(days=1)
    for index in range(end_index, -1, -1):
        if history[index].date < boundary:
            return index
    return INCEPTION


def _one_year_before(day: dt.date) -> dt.date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


def figures(period: Period, history: Sequence[DailyPoint], end_index: int | None = None) -> PeriodFigures:
    """One period's figures ending at history[end_index] (the last point by default)."""
    end_index = len(history) - 1 if end_index is None else end_index
    base_index = _base_index(period, history, end_index)
    # From inception the first day counts too: its return is the first NAV over the first flows.
    days = history[base_index + 1 : end_index + 1]
    returns = [p.daily_return for p in days if p.daily_return is not None]
    benchmark = [p.benchmark_return for p in days if p.benchmark_return is not None]
    # Tracking error pairs the days both returns exist (the benchmark has none on the first day).
    paired = [
        (p.daily_return, p.benchmark_return)
        for p in days
        if p.daily_return is not None and p.benchmark_return is not None
    ]
    portfolio = _link(returns) if returns else None
    bench = _link(benchmark) if benchmark else None
    start, end = history[max(base_index, 0)].date, history[end_index].date
    base_nav = history[base_index].nav if base_index != INCEPTION else ZERO
    net_flows = sum((p.flows for p in days), ZERO)
    years = (end - start).days / DAYS_PER_YEAR
    return PeriodFigures(
        period=period,
        start=start,
        end=end,
        portfolio_return=portfolio,
        benchmark_return=bench,
        annualised_return=(1 + portfolio) ** (1 / years) - 1 if portfolio is not None and years > 1 else None,
        volatility=risk.volatility(returns) if len(returns) >= 2 else None,
        tracking_error=(
            risk.tracking_error([p for p, _ in paired], [b for _, b in paired]) if len(paired) >= 2 else None
        ),
        pnl=history[end_index].nav - base_nav - net_flows,
        net_flows=net_flows,
        sharpe=_measure(
            lambda: risk.sharpe(returns, [p.risk_free_return for p in days if p.daily_return is not None])
        ),
        sortino=_measure(lambda: risk.sortino(returns)),
        max_drawdown=_measure(lambda: risk.max_drawdown(returns)) if returns else None,
        information_ratio=_measure(lambda: risk.information_ratio(*_unzip(paired))),
        beta=_measure(lambda: risk.beta(*_unzip(paired))),
    )


def _measure(compute: Callable[[], float]) -> float | None:
    """A risk measure, or None where the series cannot give it (risk.RiskError says why)."""
    try:
        return compute()
    except risk.RiskError:
        return None


def _unzip(pairs: Sequence[tuple[float, float]]) -> tuple[list[float], list[float]]:
    return [p for p, _ in pairs], [b for _, b in pairs]


def _link(returns: Sequence[float]) -> float:
    return math.prod(1 + r for r in returns) - 1
