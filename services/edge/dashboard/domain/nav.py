"""A mandate's NAV over time, as reporting's GetNavHistory gives it and WatchNav extends it, and what
the NAV panel shows of it: the latest figures, returns against the benchmark, the drawdown, and the
two charts (growth of 100 against the benchmark's, and the drawdown).

NAV and NAV per unit stay Decimal. The drawdown is worked out exactly from the NAV per unit (a
subscription or a redemption moves the NAV, not the NAV per unit); returns are reporting's
time-weighted fractions (analytics, double on the wire). A point from WatchNav carries the day's
return only: its cumulative return is chain-linked onto the point before it.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal


@dataclass(frozen=True)
class NavPoint:
    """The NAV of one mandate at one day end. Returns are fractions; None where reporting has none
    (the first day end has no daily return; a mandate without a benchmark has no benchmark return)."""

    date: dt.date
    nav: Decimal
    nav_per_unit: Decimal
    daily_return: float | None = None
    benchmark_daily_return: float | None = None
    # Since the first day end: set by GetNavHistory, chain-linked for a point from WatchNav.
    cumulative_return: float | None = None
    benchmark_cumulative_return: float | None = None
    provisional: bool = False  # valued with a price dq quarantined (the last good one instead)
    return_ytd: float | None = None  # as WatchNav sends it; None for a point from the history


def _linked(previous: float | None, daily: float | None) -> float | None:
    if daily is None:
        return previous
    return (1.0 + (previous or 0.0)) * (1.0 + daily) - 1.0


class NavSeries:
    """One mandate's day-end NAVs, by date, oldest first; a date seen again replaces its point."""

    def __init__(self, mandate_id: str, base_currency: str) -> None:
        self.mandate_id = mandate_id
        self.base_currency = base_currency
        self._points: dict[dt.date, NavPoint] = {}

    def load(self, points: Iterable[NavPoint]) -> None:
        """Points of the history (each with its cumulative returns)."""
        for point in points:
            self._points[point.date] = point

    def add(self, point: NavPoint) -> None:
        """A point as WatchNav sends it: its cumulative returns linked from the day end before it,
        unless it carries them; ytd kept from a point of the same date that had it."""
        same = self._points.get(point.date)
        if same is not None and point.cumulative_return is None:
            # The history's figures for that day (WatchNav's first message repeats the latest NAV).
            point = replace(
                point,
                cumulative_return=same.cumulative_return,
                benchmark_cumulative_return=same.benchmark_cumulative_return,
            )
        before = [p for d, p in self._points.items() if d < point.date]
        previous = max(before, key=lambda p: p.date) if before else None
        if point.cumulative_return is None:
            base = previous.cumulative_return if previous is not None else None
            point = replace(point, cumulative_return=_linked(base, point.daily_return) if previous else 0.0)
        if point.benchmark_cumulative_return is None:
            base = previous.benchmark_cumulative_return if previous is not None else None
            point = replace(
                point,
                benchmark_cumulative_return=(
                    _linked(base, point.benchmark_daily_return) if previous else 0.0
                ),
            )
        self._points[point.date] = point

    def points(self) -> list[NavPoint]:
        return [self._points[d] for d in sorted(self._points)]

    def latest(self) -> NavPoint | None:
        return self._points[max(self._points)] if self._points else None

    def __len__(self) -> int:
        return len(self._points)


def drawdown(values: Sequence[Decimal]) -> list[Decimal]:
    """Each value's fall from the highest value up to it, as a fraction (0 at a new high, negative
    below it): drawdown([100, 110, 99, 121]) == [0, 0, -0.1, 0]."""
    out: list[Decimal] = []
    peak: Decimal | None = None
    for value in values:
        if peak is None or value > peak:
            peak = value
        out.append(value / peak - 1 if peak > 0 else Decimal(0))
    return out


def growth_of_100(cumulative: Sequence[float | None]) -> list[float | None]:
    """100 invested at the start, from cumulative returns: growth_of_100([0.0, 0.05]) == [100.0, 105.0]."""
    return [None if c is None or not math.isfinite(c) else 100.0 * (1.0 + c) for c in cumulative]


@dataclass(frozen=True)
class NavFigures:
    """The NAV panel's row of one mandate."""

    mandate_id: str
    name: str
    base_currency: str
    date: dt.date | None
    nav: Decimal | None
    nav_per_unit: Decimal | None
    day_return: float | None
    benchmark_day_return: float | None
    return_ytd: float | None
    since_inception: float | None
    benchmark_since_inception: float | None
    drawdown: Decimal | None  # now, from the highest NAV per unit so far
    max_drawdown: Decimal | None  # the deepest so far
    provisional: bool
    days: int

    @property
    def active_since_inception(self) -> float | None:
        if self.since_inception is None or self.benchmark_since_inception is None:
            return None
        return self.since_inception - self.benchmark_since_inception


def figures(series: NavSeries, name: str = "", return_ytd: float | None = None) -> NavFigures:
    points = series.points()
    last = points[-1] if points else None
    falls = drawdown([p.nav_per_unit for p in points])
    ytd = return_ytd
    if last is not None and last.return_ytd is not None:
        ytd = last.return_ytd
    return NavFigures(
        mandate_id=series.mandate_id,
        name=name,
        base_currency=series.base_currency,
        date=last.date if last else None,
        nav=last.nav if last else None,
        nav_per_unit=last.nav_per_unit if last else None,
        day_return=last.daily_return if last else None,
        benchmark_day_return=last.benchmark_daily_return if last else None,
        return_ytd=ytd,
        since_inception=last.cumulative_return if last else None,
        benchmark_since_inception=last.benchmark_cumulative_return if last else None,
        drawdown=falls[-1] if falls else None,
        max_drawdown=min(falls) if falls else None,
        provisional=last.provisional if last else False,
        days=len(points),
    )


def _epoch_seconds(day: dt.date) -> int:
    return int(dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC).timestamp())


def chart_data(series: NavSeries) -> dict[str, object]:
    """The two charts' series, as uPlot takes them (x in Unix seconds, one array per line): growth
    of 100 for the mandate and its benchmark, and the drawdown in percent. Floats: a chart plots
    them, no figure is read back from them."""
    points = series.points()
    falls = drawdown([p.nav_per_unit for p in points])
    return {
        "mandate_id": series.mandate_id,
        "base_currency": series.base_currency,
        "x": [_epoch_seconds(p.date) for p in points],
        "portfolio": growth_of_100([p.cumulative_return for p in points]),
        "benchmark": growth_of_100([p.benchmark_cumulative_return for p in points]),
        "drawdown_pct": [float(f * 100) for f in falls],
    }
