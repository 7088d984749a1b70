"""The history: MacroDays for the business days of a window, built from the aligned series; and
where the history stands after its last business day, for a continuation past the data (see
extension.py)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from types import MappingProxyType

from services.market.sim.macro.alignment import (
    FX_SERIES,
    AsOf,
    Curve,
    FedFunds,
    Fills,
    Monthly,
    Oil,
    trim_after,
)
from services.market.sim.macro.notes import note_calendar, notes_fills, notes_rules
from services.market.sim.macro.records import MacroDay, MacroHistory, RegimeSignals, outside_the_data
from services.market.sim.macro.regime import RegimeTracker, risk_shock
from services.market.sim.series import SeriesSet, fingerprint


def business_days(series: SeriesSet) -> list[dt.date]:
    """The data's business days, ascending: the dates with a 10-year Treasury yield (DGS10)."""
    full = sorted(day for day, value in series.observations["DGS10"].items() if value is not None)
    if not full:
        raise ValueError("no DGS10 observations: no business days")
    return full


class _Replay:
    """The real data walked one business day at a time, in order: every series aligned and every
    trailing signal updated. Days before a window's start go through it too, for the trailing
    windows and the regime's smoothing."""

    def __init__(self, data: SeriesSet, business: list[dt.date], start: dt.date) -> None:
        obs = data.observations
        self.fills = Fills(start)
        self.curve = Curve(obs)
        self.fed_funds = FedFunds(obs["DFF"], business)
        self.monthly = Monthly(obs)
        self.oil = Oil(obs["DCOILWTICO"])
        self.regime = RegimeTracker()
        self._breakeven_asof = AsOf("T10YIE", obs["T10YIE"])
        self._fx_asof = {pair: AsOf(series_id, data.text[series_id]) for pair, series_id in FX_SERIES.items()}
        self._previous_breakeven: float | None = None

    def day(self, day: dt.date) -> MacroDay:
        fills = self.fills
        yields, rate_change = self.curve.on(day, fills)
        fed_funds_pct, fed_funds_change = self.fed_funds.on(day, fills)
        unemployment, unemployment_change, cpi_yoy = self.monthly.on(day, fills)
        oil_usd, oil_vol = self.oil.on(day, fills)

        breakeven_point = self._breakeven_asof.at(day)
        breakeven_change_bp = 0.0  # only a day with a real print after a real print moves it
        if breakeven_point is None:
            breakeven = cpi_yoy
            fills.flag("t10yie-proxy", day)
            self._previous_breakeven = None
        else:
            breakeven = float(breakeven_point[1])
            if breakeven_point[0] != day:
                fills.flag("t10yie-carried", day)
            else:
                if self._previous_breakeven is not None:
                    breakeven_change_bp = (breakeven - self._previous_breakeven) * 100
                self._previous_breakeven = breakeven

        fx: dict[str, Decimal] = {}
        for pair, cursor in self._fx_asof.items():
            fixing_day, text = cursor.at_or_first(day, fills, f"fx-backfill:{pair}")
            if fixing_day < day:
                fills.flag(f"fx-carried:{pair}", day)
            fx[pair] = Decimal(str(text))  # the published text, never through float

        signals = RegimeSignals(
            rate_vol_bp=self.curve.vol_bp(),
            oil_vol_annual=oil_vol,
            fed_funds_change_3m_pts=fed_funds_change,
            unemployment_change_12m_pts=unemployment_change,
            curve_slope_pct=yields["10Y"] - yields["2Y"],
        )
        regime, reason = self.regime.on(signals)
        return MacroDay(
            date=day,
            yields_pct=MappingProxyType(yields),
            fed_funds_pct=fed_funds_pct,
            breakeven_pct=breakeven,
            unemployment_pct=unemployment,
            cpi_yoy_pct=cpi_yoy,
            oil_usd=oil_usd,
            fx=MappingProxyType(fx),
            regime=regime,
            equity_drift_annual=self.regime.drift,
            equity_vol_annual=self.regime.vol,
            rate_change_bp=rate_change,
            regime_reason=reason,
            signals=signals,
            risk_shock=risk_shock(breakeven_change_bp, rate_change),
        )


def build_history(series: SeriesSet, start: dt.date, end: dt.date | None = None) -> MacroHistory:
    """MacroDays for the business days in [start, end] (end None: the last one in the data).

    Everything is computed from the first observation of the data onwards, so a
    day's figures do not depend on start; series are cut at end first, so they
    cannot depend on anything after end either.
    """
    if end is not None and end < start:
        raise ValueError(f"end {end} is before start {start}")
    full = business_days(series)
    available = f"{full[0].isoformat()} .. {full[-1].isoformat()}"
    if start < full[0] or start > full[-1]:
        raise ValueError(outside_the_data(start, full[0], full[-1]))
    data = trim_after(series, end)
    business = [day for day in full if end is None or day <= end]
    if not business or business[-1] < start:
        raise ValueError(f"no business day between {start} and {end}; available {available}")

    replay = _Replay(data, business, start)
    # Days before start are computed for the trailing windows and the smoothing, not returned.
    days = [macro_day for macro_day in map(replay.day, business) if macro_day.date >= start]
    notes = [
        *data.notes,
        note_calendar([d.date for d in days]),
        *notes_fills(replay.fills.days),
        *notes_rules(),
    ]
    return MacroHistory(
        days=tuple(days),
        source=data.source,
        notes=tuple(notes),
        asked_from=start,
        data_first=full[0],
        data_last=full[-1],
        data_hash=fingerprint(series),
    )


def replayed_regimes(series: SeriesSet) -> list[str]:
    """The regime of every business day of the data, in order: build_history(series, first business
    day)'s days' regimes, replayed one day at a time rather than kept as MacroDays. Kept, the ~5,500
    days of the snapshot are about 7 MiB at once, in the market process that builds the extension
    years into its run, and freed memory there stays resident around what the run keeps."""
    business = business_days(series)
    replay = _Replay(series, business, business[0])
    return [replay.day(day).regime for day in business]


@dataclass(frozen=True)
class HistoryEnd:
    """Where the real history stands after its last business day: the last day and the state of
    every trailing signal, which a continuation past the data carries on from.

    regime: the tracker after the last day (its hold counters and equity smoothing). Mutable:
        whoever continues from it works on a copy (RegimeTracker holds scalars only).
    rate_changes_bp: the 10Y changes in the rate-volatility window, oldest first.
    oil_returns: the oil log returns in the oil-volatility window, oldest first; empty when the
        last oil print is stale on the last day (DCOILWTICO ends early), since then the real
        history already leaves oil out of the regime and those returns describe another time.
    fed_funds_prints: the prints whose median is the policy level, oldest first.
    fed_funds_medians: (business day, policy median), from the last business day on or before
        the last day's 3-month lookback (all any later day can look back to) to the last day.
    """

    last: MacroDay
    regime: RegimeTracker
    rate_changes_bp: tuple[float, ...]
    oil_returns: tuple[float, ...]
    fed_funds_prints: tuple[float, ...]
    fed_funds_medians: tuple[tuple[dt.date, float], ...]


def replay_to_end(series: SeriesSet) -> HistoryEnd:
    """The whole data replayed as build_history(series, first business day) does, kept only at
    its end."""
    business = business_days(series)
    last = business[-1]
    replay = _Replay(series, business, last)
    macro_day: MacroDay | None = None
    for day in business:
        macro_day = replay.day(day)
    assert macro_day is not None  # business_days is never empty
    return HistoryEnd(
        last=macro_day,
        regime=replay.regime,
        rate_changes_bp=tuple(replay.curve.changes_bp),
        oil_returns=replay.oil.window_if_fresh(last),
        fed_funds_prints=replay.fed_funds.prints(),
        fed_funds_medians=replay.fed_funds.medians_since(last),
    )
