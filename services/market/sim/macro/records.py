"""The macro history's records: one MacroDay per business day, its regime signals, the history."""

from __future__ import annotations

import bisect
import datetime as dt
import functools
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

# A synthetic day's origin is carried on the event stream too (RegimeState.origin): one record,
# defined with the stream's records.
from services.common.market_events import SyntheticOrigin

__all__ = ["MacroDay", "MacroHistory", "RegimeSignals", "SyntheticOrigin", "outside_the_data"]


def outside_the_data(start: dt.date, first: dt.date, last: dt.date) -> str:
    """THE words for a start the data does not cover, wherever it is refused (opsuite simulate,
    opsuite up, market's start-up): they name the data's first and last business days."""
    return (
        f"start {start.isoformat()} is outside the FRED data, whose business days run from "
        f"{first.isoformat()} to {last.isoformat()}: pick a start between them"
    )


@dataclass(frozen=True, slots=True)
class RegimeSignals:
    """The trailing signals of one day. None means not enough data yet for that signal."""

    rate_vol_bp: float | None  # std of daily 10Y changes over VOL_WINDOW days, basis points a day
    oil_vol_annual: float | None  # annualised std of daily oil log returns over VOL_WINDOW returns
    fed_funds_change_3m_pts: float  # median fed funds now minus 3 months earlier
    unemployment_change_12m_pts: float  # unemployment now minus 12 months earlier
    curve_slope_pct: float  # 10Y - 2Y; reported, not used by the rule (an inverted curve is not a stress day)


@dataclass(frozen=True, slots=True)
class MacroDay:
    """One business day's macro backdrop.

    yields_pct: tenor ("3M".."30Y") -> yield in percent, every tenor present.
    fed_funds_pct: effective fed funds rate (DFF), latest print on or before the date.
    breakeven_pct: 10-year breakeven inflation (T10YIE), or CPI YoY before it exists.
    unemployment_pct, cpi_yoy_pct: from the latest month stamped on or before the date.
    oil_usd: WTI spot, carried forward past the end of its series.
    fx: "EURUSD" (USD per EUR), "GBPUSD" (USD per GBP), "USDJPY" (JPY per USD), exact as published.
    regime: one of REGIMES; regime_reason says which signals put the day there.
    equity_drift_annual, equity_vol_annual: smoothed towards the regime's REGIME_EQUITY pair.
    rate_change_bp: 10Y change vs the previous business day (0 on the first day of the data).
    risk_shock: the day's real risk-on/risk-off move as a standard score: falling breakevens and
        yields (2008, March 2020) are negative. Equities load on it, so crashes land on the days
        the data crashed (see risk_shock()).
    origin: None for a real day; for a synthetic day (past the end of the data, see
        extension.py), the real day and block its changes were drawn from.
    """

    date: dt.date
    yields_pct: Mapping[str, float]
    fed_funds_pct: float
    breakeven_pct: float
    unemployment_pct: float
    cpi_yoy_pct: float
    oil_usd: float
    fx: Mapping[str, Decimal]
    regime: str
    equity_drift_annual: float
    equity_vol_annual: float
    rate_change_bp: float
    regime_reason: str = ""
    signals: RegimeSignals | None = None
    risk_shock: float = 0.0
    origin: SyntheticOrigin | None = None

    @property
    def synthetic(self) -> bool:
        """Whether the day lies past the end of the data, on the synthetic extension."""
        return self.origin is not None

    @property
    def curve_slope_pct(self) -> float:
        return self.yields_pct["10Y"] - self.yields_pct["2Y"]


@dataclass(frozen=True)
class MacroHistory:
    days: tuple[MacroDay, ...]
    source: str  # "snapshot" or "fred"
    notes: tuple[str, ...]  # every alignment decision, in words
    # The date the history was asked to start on: days[0] is the first business day on or after
    # it, so a start between the two is a weekend or holiday, not a date the history lacks.
    # None (a history built by hand): days[0].
    asked_from: dt.date | None = None
    # The first and last business days of the data the history was cut from, which a refused
    # start names; None: the history's own first and last days.
    data_first: dt.date | None = None
    data_last: dt.date | None = None
    # series.fingerprint of the data the history was built from; "" for a history built by hand.
    data_hash: str = ""

    @property
    def data_range(self) -> tuple[dt.date, dt.date]:
        """The first and last business days of the data (the history's own when not recorded)."""
        if not self.days:
            raise ValueError("the history has no business days")
        return (self.data_first or self.days[0].date, self.data_last or self.days[-1].date)

    def days_from(self, start: dt.date) -> tuple[MacroDay, ...]:
        """The days of a run asked to start on `start`: from the first business day on or after it
        (a weekend or holiday start rolls forward). ValueError when `start` is outside the history,
        with outside_the_data's words when the data itself does not cover it."""
        first, last = self.data_range
        lowest = self.asked_from or self.days[0].date
        if lowest <= start <= self.days[-1].date:
            return self.days[bisect.bisect_left(self._dates, start) :]
        if first <= start <= last:
            # Inside the data but not this window: whoever built the history made it too short.
            raise ValueError(
                f"start {start.isoformat()} is outside the macro history it was given "
                f"({lowest.isoformat()} .. {self.days[-1].date.isoformat()})"
            )
        raise ValueError(outside_the_data(start, first, last))

    @functools.cached_property
    def _dates(self) -> list[dt.date]:
        return [day.date for day in self.days]

    def index_of(self, d: dt.date) -> int:
        """Index of the first business day on or after d."""
        dates = self._dates
        i = bisect.bisect_left(dates, d)
        if not self.days or d < self.days[0].date or i >= len(dates):
            raise ValueError(f"{d} is outside the history: business days {self._range()}")
        return i

    def _range(self) -> str:
        if not self.days:
            return "(none)"
        return f"{self.days[0].date.isoformat()} .. {self.days[-1].date.isoformat()}"
