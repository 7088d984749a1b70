"""Every series aligned to the business days (the dates with a 10Y): the latest observation on or
before each day carried forward, so nothing on a day depends on data published later; each fill
that was needed is flagged for the notes."""

from __future__ import annotations

import bisect
import datetime as dt
import math
import statistics
from collections import deque
from collections.abc import Iterable, Mapping
from types import MappingProxyType

from services.market.sim.bonds import TENORS
from services.market.sim.series import SeriesSet

TENOR_SERIES: Mapping[str, str] = MappingProxyType(
    {"3M": "DGS3MO", "2Y": "DGS2", "5Y": "DGS5", "10Y": "DGS10", "30Y": "DGS30"}
)
FX_SERIES: Mapping[str, str] = MappingProxyType(
    {"EURUSD": "DEXUSEU", "GBPUSD": "DEXUSUK", "USDJPY": "DEXJPUS"}
)

# Signal windows and thresholds; the numbers are the rule, so they live here in one place.
VOL_WINDOW = 21  # business days (about a month) of daily changes for realised volatility
MIN_VOL_CHANGES = 5  # fewer changes than this (the first days of the data) give no volatility signal
OIL_STALE_DAYS = 7  # an oil price older than this is not used for volatility (DCOILWTICO ends early)
# DFF jumps at quarter and year ends (Y2K: 3.99 for three days) and in 2008: the policy level is the
# median of its prints on the last 10 business days.
FED_FUNDS_MEDIAN_OBS = 10
FED_FUNDS_LOOKBACK_DAYS = 91  # "3 months"
CPI_PLACEHOLDER_PCT = 2.0  # inflation before 3 months of CPI exist (only at the very start of the data)


class Fills:
    """Which days needed which fill, for the notes; only days inside the requested window count."""

    def __init__(self, start: dt.date) -> None:
        self._start = start
        self.days: dict[str, list[dt.date]] = {}

    def flag(self, kind: str, day: dt.date) -> None:
        """Days are visited in order; two series needing the same fill on one day count it once."""
        if day < self._start:
            return
        days = self.days.setdefault(kind, [])
        if not days or days[-1] != day:
            days.append(day)


class AsOf:
    """Latest observation on or before a date, for dates visited in increasing order."""

    def __init__(self, series_id: str, observations: Mapping[dt.date, float | str | None]) -> None:
        self.series_id = series_id
        self.points = sorted((day, value) for day, value in observations.items() if value is not None)
        self._i = -1

    def at(self, day: dt.date) -> tuple[dt.date, float | str] | None:
        while self._i + 1 < len(self.points) and self.points[self._i + 1][0] <= day:
            self._i += 1
        return self.points[self._i] if self._i >= 0 else None

    def at_or_first(self, day: dt.date, fills: Fills, kind: str) -> tuple[dt.date, float | str]:
        """As of day; before the series starts, its first value (flagged: the one look-ahead we allow)."""
        point = self.at(day)
        if point is None:
            if not self.points:
                raise ValueError(f"no observations of {self.series_id}")
            fills.flag(kind, day)
            return self.points[0]
        return point


def month_shift(day: dt.date, months: int) -> dt.date:
    total = day.year * 12 + day.month - 1 + months
    return dt.date(total // 12, total % 12 + 1, 1)


def sample_std(values: Iterable[float]) -> float:
    """Sample standard deviation (statistics.stdev is exact but far too slow for a daily loop)."""
    data = list(values)
    if len(data) < 2:
        return 0.0
    mean = sum(data) / len(data)
    return math.sqrt(sum((x - mean) ** 2 for x in data) / (len(data) - 1))


def trim_after(series: SeriesSet, end: dt.date | None) -> SeriesSet:
    """Drop every observation after end, so nothing later can reach a day's figures."""
    if end is None:
        return series
    observations = {
        sid: {day: value for day, value in values.items() if day <= end}
        for sid, values in series.observations.items()
    }
    text = {
        sid: {day: value for day, value in values.items() if day <= end}
        for sid, values in series.text.items()
    }
    return SeriesSet(observations, series.source, series.notes, text)


class Curve:
    """The day's curve: a missing tenor is that day's 10Y plus the tenor's last observed spread to the 10Y."""

    def __init__(self, observations: Mapping[str, Mapping[dt.date, float | None]]) -> None:
        self._series = {tenor: observations[TENOR_SERIES[tenor]] for tenor in TENORS}
        self._spread: dict[str, float] = {}
        self._previous_10y: float | None = None
        self.changes_bp: deque[float] = deque(maxlen=VOL_WINDOW)

    def on(self, day: dt.date, fills: Fills) -> tuple[dict[str, float], float]:
        """(yields by tenor, 10Y change in bp vs the previous business day)."""
        ten = self._series["10Y"][day]
        assert ten is not None  # business days are the days with a 10Y
        yields: dict[str, float] = {}
        for tenor in TENORS:
            value = self._series[tenor].get(day)
            if value is not None:
                yields[tenor] = value
                self._spread[tenor] = value - ten
            elif tenor in self._spread:
                yields[tenor] = ten + self._spread[tenor]
                fills.flag(f"tenor:{tenor}", day)
            else:
                yields[tenor] = ten
                fills.flag(f"tenor-flat:{tenor}", day)
        change = 0.0 if self._previous_10y is None else (ten - self._previous_10y) * 100.0
        if self._previous_10y is not None:
            self.changes_bp.append(change)
        self._previous_10y = ten
        return yields, change

    def vol_bp(self) -> float | None:
        return sample_std(self.changes_bp) if len(self.changes_bp) >= MIN_VOL_CHANGES else None


class FedFunds:
    """Fed funds and its 3-month change, between medians of recent prints (DFF spikes for a day or three)."""

    def __init__(self, observations: Mapping[dt.date, float | None], business: list[dt.date]) -> None:
        self._asof = AsOf("DFF", observations)
        self._business = business
        self._recent: deque[float] = deque(maxlen=FED_FUNDS_MEDIAN_OBS)
        self._medians: list[float] = []  # one per business day visited, for the lookback

    def on(self, day: dt.date, fills: Fills) -> tuple[float, float]:
        """(latest print, 3-month change of the median)."""
        _, value = self._asof.at_or_first(day, fills, "dff-backfill")
        rate = float(value)
        self._recent.append(rate)
        median = statistics.median(self._recent)
        self._medians.append(median)
        then = bisect.bisect_right(self._business, day - dt.timedelta(days=FED_FUNDS_LOOKBACK_DAYS)) - 1
        if then < 0:
            fills.flag("dff-short", day)
            return rate, 0.0  # unknown: no policy signal rather than a change from the first print
        return rate, median - self._medians[then]

    def prints(self) -> tuple[float, ...]:
        """The prints whose median is the policy level now, oldest first."""
        return tuple(self._recent)

    def medians_since(self, day: dt.date) -> tuple[tuple[dt.date, float], ...]:
        """(business day, policy median) from the last business day on or before `day`'s 3-month
        lookback up to the last day visited: all a day after `day` can look back to."""
        first = max(
            0, bisect.bisect_right(self._business, day - dt.timedelta(days=FED_FUNDS_LOOKBACK_DAYS)) - 1
        )
        return tuple(zip(self._business[first : len(self._medians)], self._medians[first:], strict=True))


class Monthly:
    """Unemployment and CPI YoY from the latest month stamped on or before the day."""

    def __init__(self, observations: Mapping[str, Mapping[dt.date, float | None]]) -> None:
        self._unrate = {day: v for day, v in observations["UNRATE"].items() if v is not None}
        self._cpi = {day: v for day, v in observations["CPIAUCSL"].items() if v is not None}
        self._unrate_asof = AsOf("UNRATE", self._unrate)
        self._cpi_asof = AsOf("CPIAUCSL", self._cpi)

    def on(self, day: dt.date, fills: Fills) -> tuple[float, float, float]:
        """(unemployment, its 12-month change, CPI YoY in percent)."""
        month, unemployment = self._unrate_asof.at_or_first(day, fills, "monthly-backfill")
        year_ago = self._unrate.get(month_shift(month, -12))
        if year_ago is None:
            fills.flag("unrate-short", day)
            year_ago = float(self._unrate_asof.points[0][1])
        cpi_month, cpi_value = self._cpi_asof.at_or_first(day, fills, "monthly-backfill")
        cpi_now = float(cpi_value)
        cpi_year_ago = self._cpi.get(month_shift(cpi_month, -12))
        if cpi_year_ago is not None:
            yoy = (cpi_now / cpi_year_ago - 1.0) * 100.0
        else:
            first_month, first_value = self._cpi_asof.points[0]
            months = (cpi_month.year - first_month.year) * 12 + cpi_month.month - first_month.month
            if months >= 3:
                yoy = ((cpi_now / float(first_value)) ** (12.0 / months) - 1.0) * 100.0
                fills.flag("cpi-annualised", day)
            else:
                yoy = CPI_PLACEHOLDER_PCT
                fills.flag("cpi-placeholder", day)
        return float(unemployment), float(unemployment) - year_ago, yoy


class Oil:
    """WTI carried forward, and the realised vol of its log returns while its prints are fresh."""

    def __init__(self, observations: Mapping[dt.date, float | None]) -> None:
        self._asof = AsOf("DCOILWTICO", observations)
        self._returns: deque[float] = deque(maxlen=VOL_WINDOW)
        self._seen = 0  # observations already turned into returns

    def window_if_fresh(self, day: dt.date) -> tuple[float, ...]:
        """The log returns in the volatility window, oldest first, if the last print visited is
        fresh on `day`; none when it is stale (its returns no longer describe the market)."""
        points = self._asof.points
        fresh = self._seen > 0 and (day - points[self._seen - 1][0]).days <= OIL_STALE_DAYS
        return tuple(self._returns) if fresh else ()

    def on(self, day: dt.date, fills: Fills) -> tuple[float, float | None]:
        """(price, annualised vol or None when stale or too short)."""
        point = self._asof.at_or_first(day, fills, "oil-backfill")
        if point[0] < day:
            fills.flag("oil-carried", day)
        points = self._asof.points
        while self._seen < len(points) and points[self._seen][0] <= day:
            if self._seen > 0:
                before, after = float(points[self._seen - 1][1]), float(points[self._seen][1])
                if before > 0.0 and after > 0.0:  # a negative print (April 2020) has no log return
                    self._returns.append(math.log(after / before))
            self._seen += 1
        fresh = self._seen > 0 and (day - points[self._seen - 1][0]).days <= OIL_STALE_DAYS
        if not fresh:
            fills.flag("oil-vol-stale", day)
            return float(point[1]), None
        if len(self._returns) < MIN_VOL_CHANGES:
            return float(point[1]), None
        return float(point[1]), sample_std(self._returns) * math.sqrt(252.0)
