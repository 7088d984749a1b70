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


class _AsOf:
    """Latest observation on or before a date, for dates visited in increasing order."""

    def __init__(self, observations: Mapping[dt.date, object]) -> None:
        self._points = sorted((day, value) for day, value in observations.items() if value is not None)
        self._i = -1

    @property
    def first_date(self) -> dt.date | None:
        return self._points[0][0] if self._points else None

    def at(self, day: dt.date) -> tuple[dt.date, object] | None:
        while self._i + 1 < len(self._points) and self._points[self._i + 1][0] <= day:
            self._i += 1
        return self._points[self._i] if self._i >= 0 else None

    def first(self) -> tuple[dt.date, object] | None:
        return self._points[0] if self._points else None


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


# ---------------------------------------------------------------- the history


def build_history(series: SeriesSet, start: dt.date, end: dt.date | None = None) -> MacroHistory:
    """MacroDays for the business days in [start, end] (end None: the last one in the data).

    Everything is computed from the first observation of the data onwards, so a
    day's figures do not depend on start; series are cut at end first, so they
    cannot depend on anything after end either.
    """
    if end is not None and end < start:
        raise ValueError(f"end {end} is before start {start}")
    data = _trim(series, end)
    business = sorted(day for day, value in data.observations["DGS10"].items() if value is not None)
    full = sorted(day for day, value in series.observations["DGS10"].items() if value is not None)
    if not full:
        raise ValueError("no DGS10 observations: no business days")
    available = f"{full[0].isoformat()} .. {full[-1].isoformat()}"
    if start < full[0] or start > full[-1]:
        raise ValueError(f"start {start} is outside the available business days {available}")
    if not business or business[-1] < start:
        raise ValueError(f"no business day between {start} and {end}; available {available}")

    texts = data.text
    obs = data.observations
    tenor_cursor = {tenor: obs[TENOR_SERIES[tenor]] for tenor in TENORS}
    last_spread: dict[str, float] = {}
    dff = _AsOf(obs["DFF"])
    ff_recent: deque[float] = deque(maxlen=FED_FUNDS_MEDIAN_OBS)
    ff_medians: list[float] = []  # per business day, for the 3-month-earlier lookup
    t10yie = _AsOf(obs["T10YIE"])
    unrate = {day: value for day, value in obs["UNRATE"].items() if value is not None}
    unrate_asof = _AsOf(unrate)
    cpi = {day: value for day, value in obs["CPIAUCSL"].items() if value is not None}
    cpi_asof = _AsOf(cpi)
    fx_asof = {pair: _AsOf(texts[FX_SERIES[pair]]) for pair in FX_SERIES}
    oil_asof = _AsOf(obs["DCOILWTICO"])
    oil_points = oil_asof._points

    fills: dict[str, list[dt.date]] = {}

    def flag(kind: str, day: dt.date) -> None:
        if day >= start:
            fills.setdefault(kind, []).append(day)

    rate_changes: deque[float] = deque(maxlen=VOL_WINDOW)
    oil_returns: deque[float] = deque(maxlen=VOL_WINDOW)
    oil_seen = 0  # index into oil_points of the next observation to turn into a return
    previous_10y: float | None = None
    crisis_last = stress_last = -(10**9)
    drift = vol = math.nan
    alpha = 1.0 - 0.5 ** (1.0 / EQUITY_HALF_LIFE_DAYS)
    days: list[MacroDay] = []

    for index, day in enumerate(business):
        # Curve: a missing tenor is today's 10Y plus that tenor's last observed spread to the 10Y.
        ten = float(obs["DGS10"][day])  # type: ignore[arg-type]
        yields: dict[str, float] = {}
        for tenor in TENORS:
            value = tenor_cursor[tenor].get(day)
            if value is not None:
                yields[tenor] = float(value)
                last_spread[tenor] = float(value) - ten
            elif tenor in last_spread:
                yields[tenor] = ten + last_spread[tenor]
                flag(f"tenor:{tenor}", day)
            else:
                yields[tenor] = ten
                flag(f"tenor-flat:{tenor}", day)
        rate_change = 0.0 if previous_10y is None else (ten - previous_10y) * 100.0
        if previous_10y is not None:
            rate_changes.append(rate_change)
        previous_10y = ten

        # Fed funds and its 3-month change (medians resist the one-day spikes of DFF).
        ff_point = dff.at(day)
        if ff_point is None:
            first = dff.first()
            if first is None:
                raise ValueError("no DFF observations")
            ff_point = first
            flag("dff-backfill", day)
        fed_funds = float(ff_point[1])  # type: ignore[arg-type]
        ff_recent.append(fed_funds)
        ff_now = statistics.median(ff_recent)
        ff_medians.append(ff_now)
        then = bisect.bisect_right(business, day - dt.timedelta(days=FED_FUNDS_LOOKBACK_DAYS)) - 1
        if then < 0:
            ff_change = 0.0  # unknown: no policy signal rather than a change from a holiday print
            flag("dff-short", day)
        else:
            ff_change = ff_now - ff_medians[then]

        # Monthly series: the month stamped on or before today (FRED stamps a month on its 1st).
        un_point = unrate_asof.at(day) or unrate_asof.first()
        cpi_point = cpi_asof.at(day) or cpi_asof.first()
        if un_point is None or cpi_point is None:
            raise ValueError("UNRATE and CPIAUCSL need at least one observation")
        if unrate_asof.at(day) is None:
            flag("monthly-backfill", day)
        unemployment = float(un_point[1])  # type: ignore[arg-type]
        un_then = unrate.get(_month_shift(un_point[0], -12))
        if un_then is None:
            un_then = float(unrate_asof.first()[1])  # type: ignore[index,arg-type]
            flag("unrate-short", day)
        un_change = unemployment - un_then
        cpi_now = float(cpi_point[1])  # type: ignore[arg-type]
        cpi_then = cpi.get(_month_shift(cpi_point[0], -12))
        if cpi_then is not None:
            cpi_yoy = (cpi_now / cpi_then - 1.0) * 100.0
        else:
            first_month, first_value = cpi_asof.first()  # type: ignore[misc]
            months = (cpi_point[0].year - first_month.year) * 12 + cpi_point[0].month - first_month.month
            if months >= 3:
                cpi_yoy = ((cpi_now / float(first_value)) ** (12.0 / months) - 1.0) * 100.0
                flag("cpi-annualised", day)
            else:
                cpi_yoy = CPI_PLACEHOLDER_PCT
                flag("cpi-placeholder", day)

        be_point = t10yie.at(day)
        if be_point is not None:
            breakeven = float(be_point[1])  # type: ignore[arg-type]
            if be_point[0] != day:
                flag("t10yie-carried", day)
        else:
            breakeven = cpi_yoy
            flag("t10yie-proxy", day)

        fx: dict[str, Decimal] = {}
        for pair, cursor in fx_asof.items():
            point = cursor.at(day)
            if point is None:
                point = cursor.first()
                if point is None:
                    raise ValueError(f"no observations of {FX_SERIES[pair]}")
                flag(f"fx-backfill:{pair}", day)
            elif point[0] != day:
                flag(f"fx-carried:{pair}", day)
            fx[pair] = Decimal(str(point[1]))

        oil_point = oil_asof.at(day)
        if oil_point is None:
            oil_point = oil_asof.first()
            if oil_point is None:
                raise ValueError("no DCOILWTICO observations")
            flag("oil-backfill", day)
        elif oil_point[0] != day:
            flag("oil-carried", day)
        oil = float(oil_point[1])  # type: ignore[arg-type]
        while oil_seen < len(oil_points) and oil_points[oil_seen][0] <= day:
            if oil_seen > 0:
                before, after = float(oil_points[oil_seen - 1][1]), float(oil_points[oil_seen][1])  # type: ignore[arg-type]
                if before > 0.0 and after > 0.0:  # a negative print (April 2020) has no log return
                    oil_returns.append(math.log(after / before))
            oil_seen += 1
        oil_fresh = oil_seen > 0 and (day - oil_points[oil_seen - 1][0]).days <= OIL_STALE_DAYS
        if not oil_fresh:
            flag("oil-vol-stale", day)

        signals = RegimeSignals(
            rate_vol_bp=_std(rate_changes) if len(rate_changes) >= MIN_VOL_CHANGES else None,
            oil_vol_annual=(
                _std(oil_returns) * math.sqrt(252.0)
                if oil_fresh and len(oil_returns) >= MIN_VOL_CHANGES
                else None
            ),
            fed_funds_change_3m_pts=ff_change,
            unemployment_change_12m_pts=un_change,
            curve_slope_pct=yields["10Y"] - yields["2Y"],
        )
        today, reason, crisis_trigger, stress_trigger = classify_regime(signals)
        if crisis_trigger:
            crisis_last = index
        if stress_trigger:
            stress_last = index
        if index - crisis_last < CRISIS_HOLD_DAYS:
            regime = "crisis"
            if not crisis_trigger:
                reason = f"crisis held: its trigger fired {index - crisis_last} business days ago"
        elif index - stress_last < STRESS_HOLD_DAYS:
            regime = "stress"
            if not stress_trigger:
                reason = f"stress held: its trigger fired {index - stress_last} business days ago"
        else:
            regime = today

        target_drift, target_vol = REGIME_EQUITY[regime]
        if math.isnan(drift):
            drift, vol = target_drift, target_vol
        else:
            drift += alpha * (target_drift - drift)
            vol += alpha * (target_vol - vol)

        if day >= start:
            days.append(
                MacroDay(
                    date=day,
                    yields_pct=MappingProxyType(yields),
                    fed_funds_pct=fed_funds,
                    breakeven_pct=breakeven,
                    unemployment_pct=unemployment,
                    cpi_yoy_pct=cpi_yoy,
                    oil_usd=oil,
                    fx=MappingProxyType(fx),
                    regime=regime,
                    equity_drift_annual=drift,
                    equity_vol_annual=vol,
                    rate_change_bp=rate_change,
                    regime_reason=reason,
                    signals=signals,
                )
            )

    window = [d.date for d in days]
    notes = [*data.notes, _notes_calendar(window)]
    notes.extend(_notes_fills(fills))
    notes.append(
        "regime: crisis = (fed funds cut >= 1 pt in 3 months or unemployment up >= 1.5 pts in 12 months) "
        "and (10Y realised vol >= 9 bp/day or oil vol >= 80%), or rate vol >= 12 bp/day with oil vol >= 100%, "
        "held 42 business days; stress = any one strain "
        "(rate vol >= 8.5 bp/day, oil vol >= 75%, cut >= 1 pt, unemployment up >= 1 pt), held 21 days; "
        "easing / tightening = fed funds down / up >= 0.20 pt in 3 months; calm otherwise. "
        "Signals use only data up to the day: 21-day realised vols, fed funds as the median of the last 10 business days' prints vs 91 days earlier"
    )
    notes.append(
        f"equity drift and vol: exponential smoothing towards the regime's pair, half-life "
        f"{EQUITY_HALF_LIFE_DAYS:g} business days, computed from the first day of the data"
    )
    return MacroHistory(days=tuple(days), source=data.source, notes=tuple(notes))


def _notes_calendar(window: list[dt.date]) -> str:
    return (
        f"business days: dates with a DGS10 (10-year Treasury) value, {_span(window)}; "
        "every other series is aligned to them"
    )


def _notes_fills(fills: Mapping[str, list[dt.date]]) -> list[str]:
    notes = []
    for kind, days in sorted(fills.items()):
        what, _, key = kind.partition(":")
        span = _span(days)
        if what == "tenor":
            notes.append(
                f"{TENOR_SERIES[key]} ({key}) missing on {span}: filled as the day's 10Y plus the last "
                f"observed {key}-10Y spread"
            )
        elif what == "tenor-flat":
            notes.append(
                f"{TENOR_SERIES[key]} ({key}) has no observation yet on {span}: set equal to the 10Y"
            )
        elif what == "fx-carried":
            notes.append(
                f"{FX_SERIES[key]} ({key}) has no fixing on {span} (FX holidays or series end): carried forward"
            )
        elif what == "fx-backfill":
            notes.append(
                f"{FX_SERIES[key]} ({key}) starts later than the curve: its first fixing used on {span}"
            )
        elif what == "t10yie-proxy":
            notes.append(f"T10YIE not yet published on {span}: breakeven inflation is CPI YoY as a proxy")
        elif what == "t10yie-carried":
            notes.append(f"T10YIE has no value on {span}: carried forward")
        elif what == "oil-carried":
            notes.append(f"DCOILWTICO has no value on {span} (holidays or series end): carried forward")
        elif what == "oil-backfill":
            notes.append(f"DCOILWTICO starts later than the curve: its first value used on {span}")
        elif what == "oil-vol-stale":
            notes.append(
                f"oil price older than {OIL_STALE_DAYS} days on {span}: oil volatility left out of the regime"
            )
        elif what == "dff-short":
            notes.append(
                f"fed funds 3 months earlier predates the data on {span}: no policy signal (change taken as 0)"
            )
        elif what == "dff-backfill":
            notes.append(f"DFF starts later than the curve: its first value used on {span}")
        elif what == "unrate-short":
            notes.append(
                f"unemployment 12 months earlier predates the data on {span}: change measured from the first month"
            )
        elif what == "cpi-annualised":
            notes.append(f"CPI YoY needs 12 months: annualised change since the first month used on {span}")
        elif what == "cpi-placeholder":
            notes.append(
                f"fewer than 3 months of CPI on {span}: inflation set to {CPI_PLACEHOLDER_PCT}% (placeholder)"
            )
        elif what == "monthly-backfill":
            notes.append(f"UNRATE/CPIAUCSL start later than the curve: first month used on {span}")
    notes.append(
        "UNRATE and CPIAUCSL are monthly, stamped on the month's first day: a business day uses the latest "
        "month stamped on or before it (FRED's observation date, not its later publication date)"
    )
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
