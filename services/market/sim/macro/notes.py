"""The history's notes: every alignment decision and rule, in words."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from services.market.sim.macro.alignment import (
    CPI_PLACEHOLDER_PCT,
    FED_FUNDS_LOOKBACK_DAYS,
    FED_FUNDS_MEDIAN_OBS,
    FX_SERIES,
    OIL_STALE_DAYS,
    TENOR_SERIES,
    VOL_WINDOW,
)
from services.market.sim.macro.regime import (
    CRISIS_FED_CUT_PTS,
    CRISIS_HOLD_DAYS,
    CRISIS_OIL_VOL,
    CRISIS_RATE_VOL_BP,
    CRISIS_UNEMPLOYMENT_RISE_PTS,
    EQUITY_HALF_LIFE_DAYS,
    PANIC_OIL_VOL,
    PANIC_RATE_VOL_BP,
    POLICY_MOVE_PTS,
    STRESS_HOLD_DAYS,
    STRESS_OIL_VOL,
    STRESS_RATE_VOL_BP,
    STRESS_UNEMPLOYMENT_RISE_PTS,
)


def span(days: list[dt.date]) -> str:
    return f"{len(days)} business days between {days[0].isoformat()} and {days[-1].isoformat()}"


def note_calendar(window: list[dt.date]) -> str:
    return (
        f"business days: dates with a DGS10 (10-year Treasury) value, {span(window)}; "
        "every other series is aligned to them"
    )


def notes_rules() -> list[str]:
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


def notes_fills(fills: Mapping[str, list[dt.date]]) -> list[str]:
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
        notes.append(templates[what].format(series=series_id, key=key, span=span(days)))
    return notes
