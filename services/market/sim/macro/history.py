"""The history: MacroDays for the business days of a window, built from the aligned series."""

from __future__ import annotations

import datetime as dt
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
from services.market.sim.series import SeriesSet


def business_days(series: SeriesSet) -> list[dt.date]:
    """The data's business days, ascending: the dates with a 10-year Treasury yield (DGS10)."""
    full = sorted(day for day, value in series.observations["DGS10"].items() if value is not None)
    if not full:
        raise ValueError("no DGS10 observations: no business days")
    return full


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

    obs = data.observations
    fills = Fills(start)
    curve = Curve(obs)
    fed_funds = FedFunds(obs["DFF"], business)
    monthly = Monthly(obs)
    oil = Oil(obs["DCOILWTICO"])
    breakeven_asof = AsOf("T10YIE", obs["T10YIE"])
    fx_asof = {pair: AsOf(series_id, data.text[series_id]) for pair, series_id in FX_SERIES.items()}
    regime_state = RegimeTracker()
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

    notes = [*data.notes, note_calendar([d.date for d in days]), *notes_fills(fills.days), *notes_rules()]
    return MacroHistory(
        days=tuple(days),
        source=data.source,
        notes=tuple(notes),
        asked_from=start,
        data_first=full[0],
        data_last=full[-1],
    )
