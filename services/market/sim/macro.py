"""The macro backdrop of each replayed business day: curve, rates, inflation, FX, oil, and the regime.

One MacroDay per business day, where a business day is a date with a 10-year
Treasury yield (DGS10). Every other series is aligned to that calendar by
carrying its latest observation on or before the date forward, so nothing on a
day depends on data published later; MacroHistory.notes says, in words, every
place where that or any other fill was needed.

The regime is a rule over trailing signals, each computed from data up to and
including the day (see classify_regime). Equity drift and volatility follow the
regime through an exponential smoothing, so a regime change moves them over
days rather than in one jump.
"""

from __future__ import annotations

import bisect
import datetime as dt
import functools
import math
import statistics
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from types import MappingProxyType

from services.market.sim.bonds import TENOR_YEARS, TENORS
from services.market.sim.fred import SeriesSet, load_series

__all__ = [
    "REGIMES",
    "REGIME_EQUITY",
    "TENORS",
    "TENOR_YEARS",
    "MacroDay",
    "MacroHistory",
    "RegimeSignals",
    "build_history",
    "classify_regime",
    "load_macro",
]

REGIMES: tuple[str, ...] = ("calm", "tightening", "easing", "stress", "crisis")

# Annual equity drift and volatility each regime pulls towards.
REGIME_EQUITY: Mapping[str, tuple[float, float]] = MappingProxyType(
    {
        "calm": (0.08, 0.15),
        "tightening": (0.04, 0.17),
        "easing": (0.06, 0.20),
        "stress": (-0.10, 0.30),
        "crisis": (-0.30, 0.55),
    }
)

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

CRISIS_FED_CUT_PTS = 1.00
CRISIS_UNEMPLOYMENT_RISE_PTS = 1.5
CRISIS_RATE_VOL_BP = 9.0
CRISIS_OIL_VOL = 0.80
PANIC_RATE_VOL_BP = 12.0  # both markets in turmoil at once is a crisis even before policy reacts
PANIC_OIL_VOL = 1.00
STRESS_RATE_VOL_BP = 8.5
STRESS_OIL_VOL = 0.75
STRESS_UNEMPLOYMENT_RISE_PTS = 1.0
POLICY_MOVE_PTS = 0.20  # fed funds 3-month change that counts as easing / tightening
CRISIS_HOLD_DAYS = 42  # a crisis lasts while its trigger fired within this many business days
STRESS_HOLD_DAYS = 21
EQUITY_HALF_LIFE_DAYS = 5.0


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

    @property
    def curve_slope_pct(self) -> float:
        return self.yields_pct["10Y"] - self.yields_pct["2Y"]


@dataclass(frozen=True)
class MacroHistory:
    days: tuple[MacroDay, ...]
    source: str  # "snapshot" or "fred"
    notes: tuple[str, ...]  # every alignment decision, in words

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


def classify_regime(signals: RegimeSignals) -> tuple[str, str, bool, bool]:
    """Today's triggers: (regime without persistence, reason, crisis trigger, stress trigger).

    crisis: a deep policy or labour shock (fed funds cut >= 1 pt in 3 months, or
        unemployment up >= 1.5 pts in 12 months) together with violent markets
        (10Y realised vol >= 9 bp/day, or oil vol >= 80%); or a panic in both
        markets at once (rate vol >= 12 bp/day and oil vol >= 100%) before policy reacts.
    stress: any one of those strains alone (rate vol >= 8.5 bp/day, oil vol >= 75%,
        a cut >= 1 pt, unemployment up >= 1 pt).
    easing / tightening: fed funds down / up >= 0.20 pt in 3 months.
    calm: none of the above.
    """
    cut = -signals.fed_funds_change_3m_pts
    rise = signals.unemployment_change_12m_pts
    rate_vol = signals.rate_vol_bp if signals.rate_vol_bp is not None else 0.0
    oil_vol = signals.oil_vol_annual if signals.oil_vol_annual is not None else 0.0
    shocks = []
    if cut >= CRISIS_FED_CUT_PTS:
        shocks.append(f"fed funds cut {cut:.2f} pts in 3 months")
    if rise >= CRISIS_UNEMPLOYMENT_RISE_PTS:
        shocks.append(f"unemployment up {rise:.1f} pts in 12 months")
    violence = []
    if rate_vol >= CRISIS_RATE_VOL_BP:
        violence.append(f"10Y realised vol {rate_vol:.1f} bp/day")
    if oil_vol >= CRISIS_OIL_VOL:
        violence.append(f"oil vol {oil_vol:.0%}")
    if shocks and violence:
        return "crisis", "; ".join(shocks + violence), True, True
    if rate_vol >= PANIC_RATE_VOL_BP and oil_vol >= PANIC_OIL_VOL:
        return (
            "crisis",
            f"panic: 10Y realised vol {rate_vol:.1f} bp/day and oil vol {oil_vol:.0%}",
            True,
            True,
        )
    strains = []
    if rate_vol >= STRESS_RATE_VOL_BP:
        strains.append(f"10Y realised vol {rate_vol:.1f} bp/day")
    if oil_vol >= STRESS_OIL_VOL:
        strains.append(f"oil vol {oil_vol:.0%}")
    if cut >= CRISIS_FED_CUT_PTS:
        strains.append(f"fed funds cut {cut:.2f} pts in 3 months")
    if rise >= STRESS_UNEMPLOYMENT_RISE_PTS:
        strains.append(f"unemployment up {rise:.1f} pts in 12 months")
    if strains:
        return "stress", "; ".join(strains), False, True
    change = signals.fed_funds_change_3m_pts
    if change <= -POLICY_MOVE_PTS:
        return "easing", f"fed funds {change:+.2f} pts in 3 months", False, False
    if change >= POLICY_MOVE_PTS:
        return "tightening", f"fed funds {change:+.2f} pts in 3 months", False, False
    return "calm", "no strain and fed funds within 0.20 pt of 3 months ago", False, False


# ---------------------------------------------------------------- alignment helpers


class _Fills:
    """Which days needed which fill, for the notes; only days inside the requested window count."""

    def __init__(self, start: dt.date) -> None:
        self._start = start
        self.days: dict[str, list[dt.date]] = {}

    def flag(self, kind: str, day: dt.date) -> None:
        if day >= self._start:
            self.days.setdefault(kind, []).append(day)


class _AsOf:
    """Latest observation on or before a date, for dates visited in increasing order."""

    def __init__(self, series_id: str, observations: Mapping[dt.date, float | str | None]) -> None:
        self.series_id = series_id
        self.points = sorted((day, value) for day, value in observations.items() if value is not None)
        self._i = -1

    def at(self, day: dt.date) -> tuple[dt.date, float | str] | None:
        while self._i + 1 < len(self.points) and self.points[self._i + 1][0] <= day:
            self._i += 1
        return self.points[self._i] if self._i >= 0 else None

    def at_or_first(self, day: dt.date, fills: _Fills, kind: str) -> tuple[dt.date, float | str]:
        """As of day; before the series starts, its first value (flagged: the one look-ahead we allow)."""
        point = self.at(day)
        if point is None:
            if not self.points:
                raise ValueError(f"no observations of {self.series_id}")
            fills.flag(kind, day)
            return self.points[0]
        return point


def _month_shift(day: dt.date, months: int) -> dt.date:
    total = day.year * 12 + day.month - 1 + months
    return dt.date(total // 12, total % 12 + 1, 1)


def _std(values: Iterable[float]) -> float:
    """Sample standard deviation (statistics.stdev is exact but far too slow for a daily loop)."""
    data = list(values)
    if len(data) < 2:
        return 0.0
    mean = sum(data) / len(data)
    return math.sqrt(sum((x - mean) ** 2 for x in data) / (len(data) - 1))


def _trim(series: SeriesSet, end: dt.date | None) -> SeriesSet:
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


def _span(days: list[dt.date]) -> str:
    return f"{len(days)} business days between {days[0].isoformat()} and {days[-1].isoformat()}"


# ---------------------------------------------------------------- one signal each


class _Curve:
    """The day's curve: a missing tenor is that day's 10Y plus the tenor's last observed spread to the 10Y."""

    def __init__(self, observations: Mapping[str, Mapping[dt.date, float | None]]) -> None:
        self._series = {tenor: observations[TENOR_SERIES[tenor]] for tenor in TENORS}
        self._spread: dict[str, float] = {}
        self._previous_10y: float | None = None
        self.changes_bp: deque[float] = deque(maxlen=VOL_WINDOW)

    def on(self, day: dt.date, fills: _Fills) -> tuple[dict[str, float], float]:
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
        return _std(self.changes_bp) if len(self.changes_bp) >= MIN_VOL_CHANGES else None


class _FedFunds:
    """Fed funds and its 3-month change, between medians of recent prints (DFF spikes for a day or three)."""

    def __init__(self, observations: Mapping[dt.date, float | None], business: list[dt.date]) -> None:
        self._asof = _AsOf("DFF", observations)
        self._business = business
        self._recent: deque[float] = deque(maxlen=FED_FUNDS_MEDIAN_OBS)
        self._medians: list[float] = []  # one per business day visited, for the lookback

    def on(self, day: dt.date, fills: _Fills) -> tuple[float, float]:
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


class _Monthly:
    """Unemployment and CPI YoY from the latest month stamped on or before the day."""

    def __init__(self, observations: Mapping[str, Mapping[dt.date, float | None]]) -> None:
        self._unrate = {day: v for day, v in observations["UNRATE"].items() if v is not None}
        self._cpi = {day: v for day, v in observations["CPIAUCSL"].items() if v is not None}
        self._unrate_asof = _AsOf("UNRATE", self._unrate)
        self._cpi_asof = _AsOf("CPIAUCSL", self._cpi)

    def on(self, day: dt.date, fills: _Fills) -> tuple[float, float, float]:
        """(unemployment, its 12-month change, CPI YoY in percent)."""
        month, unemployment = self._unrate_asof.at_or_first(day, fills, "monthly-backfill")
        year_ago = self._unrate.get(_month_shift(month, -12))
        if year_ago is None:
            fills.flag("unrate-short", day)
            year_ago = float(self._unrate_asof.points[0][1])
        cpi_month, cpi_value = self._cpi_asof.at_or_first(day, fills, "monthly-backfill")
        cpi_now = float(cpi_value)
        cpi_year_ago = self._cpi.get(_month_shift(cpi_month, -12))
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


class _Oil:
    """WTI carried forward, and the realised vol of its log returns while its prints are fresh."""

    def __init__(self, observations: Mapping[dt.date, float | None]) -> None:
        self._asof = _AsOf("DCOILWTICO", observations)
        self._returns: deque[float] = deque(maxlen=VOL_WINDOW)
        self._seen = 0  # observations already turned into returns

    def on(self, day: dt.date, fills: _Fills) -> tuple[float, float | None]:
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
        return float(point[1]), _std(self._returns) * math.sqrt(252.0)


class _Regime:
    """Persistence of crisis and stress, and the smoothed equity drift and vol."""

    def __init__(self) -> None:
        self._index = -1
        self._crisis_last = self._stress_last = -(10**9)
        self._alpha = 1.0 - 0.5 ** (1.0 / EQUITY_HALF_LIFE_DAYS)
        self.drift = self.vol = math.nan

    def on(self, signals: RegimeSignals) -> tuple[str, str]:
        self._index += 1
        today, reason, crisis, stress = classify_regime(signals)
        if crisis:
            self._crisis_last = self._index
        if stress:
            self._stress_last = self._index
        if self._index - self._crisis_last < CRISIS_HOLD_DAYS:
            regime = "crisis"
            if not crisis:
                reason = f"crisis held: its trigger fired {self._index - self._crisis_last} business days ago"
        elif self._index - self._stress_last < STRESS_HOLD_DAYS:
            regime = "stress"
            if not stress:
                reason = f"stress held: its trigger fired {self._index - self._stress_last} business days ago"
        else:
            regime = today
        target_drift, target_vol = REGIME_EQUITY[regime]
        if math.isnan(self.drift):
            self.drift, self.vol = target_drift, target_vol
        else:
            self.drift += self._alpha * (target_drift - self.drift)
            self.vol += self._alpha * (target_vol - self.vol)
        return regime, reason


# ---------------------------------------------------------------- the history


def build_history(series: SeriesSet, start: dt.date, end: dt.date | None = None) -> MacroHistory:
    """MacroDays for the business days in [start, end] (end None: the last one in the data).

    Everything is computed from the first observation of the data onwards, so a
    day's figures do not depend on start; series are cut at end first, so they
    cannot depend on anything after end either.
    """
    if end is not None and end < start:
        raise ValueError(f"end {end} is before start {start}")
    full = sorted(day for day, value in series.observations["DGS10"].items() if value is not None)
    if not full:
        raise ValueError("no DGS10 observations: no business days")
    available = f"{full[0].isoformat()} .. {full[-1].isoformat()}"
    if start < full[0] or start > full[-1]:
        raise ValueError(f"start {start} is outside the available business days {available}")
    data = _trim(series, end)
    business = [day for day in full if end is None or day <= end]
    if not business or business[-1] < start:
        raise ValueError(f"no business day between {start} and {end}; available {available}")

    obs = data.observations
    fills = _Fills(start)
    curve = _Curve(obs)
    fed_funds = _FedFunds(obs["DFF"], business)
    monthly = _Monthly(obs)
    oil = _Oil(obs["DCOILWTICO"])
    breakeven_asof = _AsOf("T10YIE", obs["T10YIE"])
    fx_asof = {pair: _AsOf(series_id, data.text[series_id]) for pair, series_id in FX_SERIES.items()}
    regime_state = _Regime()
    days: list[MacroDay] = []
    previous_breakeven: float | None = None

    for day in business:
        yields, rate_change = curve.on(day, fills)
        fed_funds_pct, fed_funds_change = fed_funds.on(day, fills)
        unemployment, unemployment_change, cpi_yoy = monthly.on(day, fills)
        oil_usd, oil_vol = oil.on(day, fills)

        breakeven_point = breakeven_asof.at(day)
        breakeven_change_bp = 0.0  # only a day with a real print after a real print moves it
        if breakeven_point is None:
            breakeven = cpi_yoy
            fills.flag("t10yie-proxy", day)
            previous_breakeven = None
        else:
            breakeven = float(breakeven_point[1])
            if breakeven_point[0] != day:
                fills.flag("t10yie-carried", day)
            else:
                if previous_breakeven is not None:
                    breakeven_change_bp = (breakeven - previous_breakeven) * 100
                previous_breakeven = breakeven

        fx: dict[str, Decimal] = {}
        for pair, cursor in fx_asof.items():
            fixing_day, text = cursor.at_or_first(day, fills, f"fx-backfill:{pair}")
            if fixing_day < day:
                fills.flag(f"fx-carried:{pair}", day)
            fx[pair] = Decimal(str(text))  # the published text, never through float

        signals = RegimeSignals(
            rate_vol_bp=curve.vol_bp(),
            oil_vol_annual=oil_vol,
            fed_funds_change_3m_pts=fed_funds_change,
            unemployment_change_12m_pts=unemployment_change,
            curve_slope_pct=yields["10Y"] - yields["2Y"],
        )
        regime, reason = regime_state.on(signals)
        if day < start:
            continue  # computed for the trailing windows and the smoothing, not returned
        days.append(
            MacroDay(
                date=day,
                yields_pct=MappingProxyType(yields),
                fed_funds_pct=fed_funds_pct,
                breakeven_pct=breakeven,
                unemployment_pct=unemployment,
                cpi_yoy_pct=cpi_yoy,
                oil_usd=oil_usd,
                fx=MappingProxyType(fx),
                regime=regime,
                equity_drift_annual=regime_state.drift,
                equity_vol_annual=regime_state.vol,
                rate_change_bp=rate_change,
                regime_reason=reason,
                signals=signals,
                risk_shock=risk_shock(breakeven_change_bp, rate_change),
            )
        )

    notes = [*data.notes, _note_calendar([d.date for d in days]), *_notes_fills(fills.days), *_notes_rules()]
    return MacroHistory(days=tuple(days), source=data.source, notes=tuple(notes))


# Typical daily moves (one standard deviation, 2003-2020) that scale the risk shock.
BREAKEVEN_DAILY_SD_BP = 3.5
TEN_YEAR_DAILY_SD_BP = 6.0
RISK_SHOCK_LIMIT = 6.0


def risk_shock(breakeven_change_bp: float, ten_year_change_bp: float) -> float:
    """A day's risk-on/risk-off move as a standard score, from real data only.

    Breakeven inflation and the 10Y yield both fall when markets flee risk (Lehman, March
    2020), so their standardized daily changes, weighted 0.6 / 0.4, give a score near 0 on
    ordinary days and several units negative on crash days. Clipped to +-6.
    """
    score = (
        0.6 * breakeven_change_bp / BREAKEVEN_DAILY_SD_BP + 0.4 * ten_year_change_bp / TEN_YEAR_DAILY_SD_BP
    )
    return max(-RISK_SHOCK_LIMIT, min(RISK_SHOCK_LIMIT, score))


# ---------------------------------------------------------------- notes, in words


def _note_calendar(window: list[dt.date]) -> str:
    return (
        f"business days: dates with a DGS10 (10-year Treasury) value, {_span(window)}; "
        "every other series is aligned to them"
    )


def _notes_rules() -> list[str]:
    return [
        "UNRATE and CPIAUCSL are monthly, stamped on the month's first day: a business day uses the latest "
        "month stamped on or before it (FRED's observation date, not its later publication date)",
        f"regime: crisis = (fed funds cut >= {CRISIS_FED_CUT_PTS:g} pt in 3 months or unemployment up >= "
        f"{CRISIS_UNEMPLOYMENT_RISE_PTS:g} pts in 12 months) and (10Y realised vol >= {CRISIS_RATE_VOL_BP:g} "
        f"bp/day or oil vol >= {CRISIS_OIL_VOL:.0%}), or a panic (rate vol >= {PANIC_RATE_VOL_BP:g} bp/day with "
        f"oil vol >= {PANIC_OIL_VOL:.0%}), held {CRISIS_HOLD_DAYS} business days; stress = any one strain "
        f"(rate vol >= {STRESS_RATE_VOL_BP:g} bp/day, oil vol >= {STRESS_OIL_VOL:.0%}, a cut >= "
        f"{CRISIS_FED_CUT_PTS:g} pt, unemployment up >= {STRESS_UNEMPLOYMENT_RISE_PTS:g} pt), held "
        f"{STRESS_HOLD_DAYS} days; easing / tightening = fed funds down / up >= {POLICY_MOVE_PTS:g} pt in 3 "
        "months; calm otherwise",
        f"regime signals use only data up to the day: {VOL_WINDOW}-day realised vols of the 10Y (bp/day) and of "
        f"oil (annualised log returns), fed funds as the median of the last {FED_FUNDS_MEDIAN_OBS} business "
        f"days' prints vs {FED_FUNDS_LOOKBACK_DAYS} days earlier, unemployment vs 12 months earlier",
        f"equity drift and vol: exponential smoothing towards the regime's pair, half-life "
        f"{EQUITY_HALF_LIFE_DAYS:g} business days, computed from the first day of the data",
    ]


def _notes_fills(fills: Mapping[str, list[dt.date]]) -> list[str]:
    templates = {
        "tenor": "{series} ({key}) missing on {span}: filled as the day's 10Y plus the last observed {key}-10Y spread",
        "tenor-flat": "{series} ({key}) has no observation yet on {span}: set equal to the 10Y",
        "fx-carried": "{series} ({key}) has no fixing on {span} (FX holidays or series end): carried forward",
        "fx-backfill": "{series} ({key}) starts later than the curve: its first fixing used on {span}",
        "t10yie-proxy": "T10YIE not yet published on {span}: breakeven inflation is CPI YoY as a proxy",
        "t10yie-carried": "T10YIE has no value on {span}: carried forward",
        "oil-carried": "DCOILWTICO has no value on {span} (holidays or series end): carried forward",
        "oil-backfill": "DCOILWTICO starts later than the curve: its first value used on {span}",
        "oil-vol-stale": f"oil price older than {OIL_STALE_DAYS} days on {{span}}: oil volatility left out of the "
        "regime",
        "dff-short": "fed funds 3 months earlier predates the data on {span}: no policy signal (change taken as 0)",
        "dff-backfill": "DFF starts later than the curve: its first value used on {span}",
        "unrate-short": "unemployment 12 months earlier predates the data on {span}: change measured from the "
        "first month",
        "cpi-annualised": "CPI YoY needs 12 months: annualised change since the first month used on {span}",
        "cpi-placeholder": f"fewer than 3 months of CPI on {{span}}: inflation set to {CPI_PLACEHOLDER_PCT:g}% "
        "(placeholder)",
        "monthly-backfill": "UNRATE/CPIAUCSL start later than the curve: first month used on {span}",
    }
    notes = []
    for kind, days in sorted(fills.items()):
        what, _, key = kind.partition(":")
        series_id = TENOR_SERIES.get(key) or FX_SERIES.get(key) or ""
        notes.append(templates[what].format(series=series_id, key=key, span=_span(days)))
    return notes


def load_macro(
    start: dt.date,
    end: dt.date | None = None,
    *,
    api_key: str | None = None,
    root_url: str | None = None,
) -> MacroHistory:
    """load_series (live FRED with a key, else the snapshot) then build_history."""
    return build_history(load_series(api_key, root_url=root_url), start, end)
