"""The regime: a rule over a day's trailing signals, held through crises and stress, with the equity
drift and volatility it pulls towards; and the day's risk shock. The numbers are the rule, so they
live here in one place."""

from __future__ import annotations

import math
from collections.abc import Mapping
from types import MappingProxyType

from services.market.sim.macro.records import RegimeSignals

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


class RegimeTracker:
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
