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

After the data's last business day the world goes on as a synthetic extension (extension.py):
a block bootstrap of real days' joint changes, carrying on the real history's trailing signals and
regime, on the NYSE calendar. Its days say so (MacroDay.origin names the real day and block drawn).

The parts: records.py (MacroDay, MacroHistory), regime.py (the rule and its numbers),
alignment.py (each series carried onto the business days), history.py (build_history, and
replay_to_end: the state at the data's end) and notes.py; for the extension, bootstrap.py (the real
changes and blocks), guards.py (ranges, anchors, reflection), market_days.py (NYSE business days)
and extension.py (extend). The extension is imported from its module, not from here, so reading the
real history needs neither the `holidays` package nor numpy. Loading the data (the shipped snapshot
or live FRED) is I/O and lives outside the simulation, in services/market/fred.py.
"""

from services.market.sim.bonds import TENOR_YEARS, TENORS
from services.market.sim.macro.history import build_history, business_days
from services.market.sim.macro.records import (
    MacroDay,
    MacroHistory,
    RegimeSignals,
    SyntheticOrigin,
    outside_the_data,
)
from services.market.sim.macro.regime import REGIME_EQUITY, REGIMES, classify_regime, risk_shock

__all__ = [
    "REGIMES",
    "REGIME_EQUITY",
    "TENORS",
    "TENOR_YEARS",
    "MacroDay",
    "MacroHistory",
    "RegimeSignals",
    "SyntheticOrigin",
    "build_history",
    "business_days",
    "classify_regime",
    "outside_the_data",
    "risk_shock",
]
