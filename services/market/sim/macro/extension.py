"""The world after the data: a synthetic extension of the macro history, anchored to the real data,
so a live simulation never runs out of days.

Past the data's last business day, each day is a real day's joint changes applied to the synthetic
levels (a block bootstrap):

- Blocks: BLOCK_DAYS (20) consecutive real business days. A block may start on any real day from
  which 20 days in a row can be drawn; a day can be drawn when every daily series (the five yields,
  DFF, T10YIE, the three FX fixings, WTI) was observed on it and on the business day before, and
  UNRATE and CPI have its month and the month before. So nothing carried forward is ever drawn: not
  a holiday's repeated fixing, and not DCOILWTICO's flat days after it ends (2020-03-13 in the
  snapshot), which leaves the snapshot's draws between 2003 (T10YIE begins) and March 2020.
- Drawn by regime: a new block's start is drawn uniformly, from the seeded stream
  py_stream(seed, "macro.extension"), among the starts whose real regime (the one the real history
  gave the block's first day) is the synthetic regime of the day before; among all starts when no
  block starts in that regime. Drawn regardless of the regime, a synthetic tightening or easing day
  replayed a 2008 or 2020 stress or crisis day a quarter of the time, and brought that day's FX
  moves and risk shock (equities load on it) into regimes the real data shows quiet; drawn by
  regime, each regime's days move as the real regime's did. Only the start is matched: the block
  then runs its 20 real days whatever their real regime, so a block drawn late in a real crisis
  carries the real way out of it, and one drawn late in a calm the real way into stress. The
  synthetic regime so keeps the real ways out of and into each regime, and none absorbs the
  synthetic years (test_macro_extension.py checks the shares and spell lengths against the real
  history's); ending a block where its real regime changes would drop those exits and entries,
  and calm would take three synthetic days in four.
- Changes applied: each tenor's yield change and the breakeven change in points, the change of the
  fed funds policy level (the median of 10 prints the regime reads), oil's and each FX pair's ratio
  to the day before; the mean change of each market series over the draws is taken off, so the
  sample's trend (rates fell from 2003 to 2020) does not push the synthetic levels to a floor. The
  policy level keeps its real steps (its mean would make it creep every day); the guards below
  keep it in line with the bill.
- Monthly series: on the first synthetic business day of a month, unemployment moves by the real
  UNRATE change, and the CPI index by the real CPI ratio, of the month of the real day drawn that
  day; CPI YoY is the synthetic index against 12 synthetic months earlier, as the history computes
  it from the real index.
- The day's risk shock is the real day's (equities load on it, so a drawn crash day is a crash day
  again) and the regime rule (regime.py) runs on the synthetic signals as on real days.
- Published like a real day: yields, fed funds, breakeven and oil to 2 decimals, unemployment to 1,
  FX as Decimal to H.10's decimals (EURUSD and GBPUSD 4, USDJPY 2); the levels behind them are kept
  unrounded, so rounding never accumulates. FX is multiplied in exact decimals.

Guards (guards.py; the bounds are the lowest and highest the real history reached up to its last
business day, guards.Ranges):

- The 10Y stays within its range; every other tenor's spread to the 10Y stays within its range,
  so the curve keeps a shape the history has seen; each tenor's level then stays within its own
  range. Breakeven, oil and each FX pair stay within theirs (oil and FX in log terms, so oil stays
  positive). Unemployment and CPI YoY stay within theirs.
- At a bound these reflect: the part of a move past the bound comes back inside. A reflected day
  keeps the size of its real move (the volatility the regime reads), where a clamp would stick
  the level on the bound for runs of flat days. A tenor whose spread allows a level beyond its own
  range (bills below zero while the 10Y is at its low) is clamped there, as bills sat at zero.
- The fed funds policy level is clamped, not reflected, to its range and to its range against the
  3-month bill: a cut at the floor does nothing (reflecting it would turn it into a hike), and tying
  it to the bill keeps easing and tightening in line with the curve.
- A pull towards the real history's mean, closing half the gap in a year, for the series the
  history shows anchored: each tenor's spread to the 10Y (inversions end), breakeven inflation and
  unemployment. It is small beside a day's move, so volatility is the real one, but without it a
  walk of real changes would leave breakevens near zero or unemployment above 8% for years, which
  the ranges allow and the history never did. The 10Y level, oil and FX have no anchor: they wander
  their whole ranges, as they did over the history.

Continuation: the first synthetic day follows the last real business day on the NYSE calendar
(market_days.py), and every trailing window (10Y and oil volatility, the policy level's 3-month
change, unemployment's 12-month change) and the regime's holds and equity smoothing carry on from
the real history's state (history.replay_to_end). A real oil window that is stale at the end (oil
ended months before) is not carried: the synthetic oil volatility starts afresh.

Deterministic for (data, seed): the same days whatever the run's start. Memory is bounded: the real
material is fixed in size, and the generator holds one block position and the trailing windows.
"""

from __future__ import annotations

import copy
import datetime as dt
import math
import random
import statistics
from collections import deque
from collections.abc import Iterator, Mapping
from decimal import Decimal
from types import MappingProxyType

from services.market.sim.bonds import TENORS
from services.market.sim.macro.alignment import (
    FED_FUNDS_LOOKBACK_DAYS,
    FED_FUNDS_MEDIAN_OBS,
    MIN_VOL_CHANGES,
    VOL_WINDOW,
    sample_std,
)
from services.market.sim.macro.bootstrap import (
    BLOCK_DAYS,
    MONTHS_HELD,
    ExtensionBasis,
    RealChange,
    extension_basis,
)
from services.market.sim.macro.guards import (
    DAILY_PULL,
    EXACT,
    MONTHLY_PULL,
    clamp,
    pulled,
    reflect,
    reflect_decimal,
    reflect_ratio,
)
from services.market.sim.macro.market_days import MarketDays
from services.market.sim.macro.records import MacroDay, RegimeSignals, SyntheticOrigin
from services.market.sim.rng import py_stream
from services.market.sim.series import SeriesSet

RNG_PURPOSE = "macro.extension"
FX_QUANTUM: Mapping[str, Decimal] = MappingProxyType(
    {"EURUSD": Decimal("0.0001"), "GBPUSD": Decimal("0.0001"), "USDJPY": Decimal("0.01")}
)
_LOOKBACK = dt.timedelta(days=FED_FUNDS_LOOKBACK_DAYS)


class SyntheticMacro(Iterator[MacroDay]):
    """The synthetic days after the data, one per next(): unbounded, computed as they are asked for."""

    def __init__(self, basis: ExtensionBasis, seed: int) -> None:
        end = basis.end
        last = end.last
        self._basis = basis
        self._rng: random.Random = py_stream(seed, RNG_PURPOSE)
        self._calendar = MarketDays(after=last.date)
        self._previous = last  # the day before the next one: its published levels and month
        # The levels behind the published figures, unrounded.
        self._ten = last.yields_pct["10Y"]
        self._spreads = {tenor: last.yields_pct[tenor] - self._ten for tenor in TENORS if tenor != "10Y"}
        self._policy = last.fed_funds_pct
        self._breakeven = last.breakeven_pct
        self._oil = last.oil_usd
        self._fx = dict(last.fx)
        self._cpi_yoy = last.cpi_yoy_pct
        self._unemployment = last.unemployment_pct
        self._unemployment_months: deque[float] = deque(basis.unemployment_months, maxlen=MONTHS_HELD)
        self._cpi_months: deque[float] = deque(basis.cpi_months, maxlen=MONTHS_HELD)
        # The trailing windows and the regime, carried on from the real history.
        self._rate_changes_bp: deque[float] = deque(end.rate_changes_bp, maxlen=VOL_WINDOW)
        self._oil_returns: deque[float] = deque(end.oil_returns, maxlen=VOL_WINDOW)
        self._policy_prints: deque[float] = deque(end.fed_funds_prints, maxlen=FED_FUNDS_MEDIAN_OBS)
        self._policy_medians: deque[tuple[dt.date, float]] = deque(end.fed_funds_medians)
        self._regime = copy.copy(end.regime)  # RegimeTracker holds scalars only: a copy is independent
        self._block_start = 0
        self._block_offset = BLOCK_DAYS  # no block yet: the first day draws one

    def __iter__(self) -> SyntheticMacro:
        return self

    def buffer_sizes(self) -> Mapping[str, int]:
        """How many items each buffer that changes with the days holds: all bounded."""
        return {
            "rate_changes_bp": len(self._rate_changes_bp),
            "oil_returns": len(self._oil_returns),
            "policy_prints": len(self._policy_prints),
            "policy_medians": len(self._policy_medians),
            "unemployment_months": len(self._unemployment_months),
            "cpi_months": len(self._cpi_months),
            "holidays": self._calendar.holidays_held(),
        }

    def __next__(self) -> MacroDay:
        day = self._calendar.next_day()
        change, origin = self._draw()
        yields = self._move_curve(change)
        fed_funds = self._move_policy(change)
        breakeven = self._move_breakeven(change)
        oil = self._move_oil(change)
        fx = self._move_fx(change)
        if (day.year, day.month) != (self._previous.date.year, self._previous.date.month):
            self._new_month(change)
        rate_change_bp = (yields["10Y"] - self._previous.yields_pct["10Y"]) * 100.0
        signals = RegimeSignals(
            rate_vol_bp=self._rate_vol(rate_change_bp),
            oil_vol_annual=self._oil_vol(oil),
            fed_funds_change_3m_pts=self._policy_change(day, fed_funds),
            unemployment_change_12m_pts=self._unemployment_months[-1] - self._unemployment_months[0],
            curve_slope_pct=yields["10Y"] - yields["2Y"],
        )
        regime, reason = self._regime.on(signals)
        today = MacroDay(
            date=day,
            yields_pct=MappingProxyType(yields),
            fed_funds_pct=fed_funds,
            breakeven_pct=breakeven,
            unemployment_pct=self._unemployment_months[-1],
            cpi_yoy_pct=self._cpi_yoy,
            oil_usd=oil,
            fx=MappingProxyType(fx),
            regime=regime,
            equity_drift_annual=self._regime.drift,
            equity_vol_annual=self._regime.vol,
            rate_change_bp=rate_change_bp,
            regime_reason=reason,
            signals=signals,
            risk_shock=change.risk_shock,
            origin=origin,
        )
        self._previous = today
        return today

    def _draw(self) -> tuple[RealChange, SyntheticOrigin]:
        """The real day whose changes today applies: the next of the block, or a new block's first."""
        days = self._basis.days
        if self._block_offset == BLOCK_DAYS:
            # Among the blocks that began in the regime the synthetic world is in (yesterday's).
            starts = self._basis.starts_by_regime.get(self._previous.regime, self._basis.block_starts)
            self._block_start = starts[self._rng.randrange(len(starts))]
            self._block_offset = 0
        change = days[self._block_start + self._block_offset]
        first, final = days[self._block_start], days[self._block_start + BLOCK_DAYS - 1]
        assert change is not None and first is not None and final is not None  # block_starts' promise
        self._block_offset += 1
        return change, SyntheticOrigin(replayed=change.date, block_first=first.date, block_last=final.date)

    def _move_curve(self, change: RealChange) -> dict[str, float]:
        drift, ranges, anchors = self._basis.drift.tenor_pts, self._basis.ranges, self._basis.anchors
        ten_move = change.tenor_pts["10Y"] - drift["10Y"]
        self._ten = reflect(self._ten + ten_move, *ranges.yields["10Y"])
        yields = {}
        for tenor in TENORS:
            if tenor == "10Y":
                yields[tenor] = round(self._ten, 2)
                continue
            spread_move = change.tenor_pts[tenor] - drift[tenor] - ten_move
            spread = pulled(self._spreads[tenor], anchors.spread_to_10y[tenor], DAILY_PULL)
            spread = reflect(spread + spread_move, *ranges.spread_to_10y[tenor])
            level = clamp(self._ten + spread, *ranges.yields[tenor])
            self._spreads[tenor] = level - self._ten
            yields[tenor] = round(level, 2)
        return yields

    def _move_policy(self, change: RealChange) -> float:
        ranges = self._basis.ranges
        low, high = ranges.policy
        bill = self._ten + self._spreads["3M"]
        below, above = ranges.policy_over_3m
        level = clamp(self._policy + change.policy_pts, low, high)
        # Both ranges at once; were the bill ever where no real policy level could sit beside it,
        # the policy's own range alone would hold.
        if max(low, bill + below) <= min(high, bill + above):
            level = clamp(level, max(low, bill + below), min(high, bill + above))
        self._policy = level
        return round(level, 2)

    def _move_breakeven(self, change: RealChange) -> float:
        basis = self._basis
        pulled_in = pulled(self._breakeven, basis.anchors.breakeven, DAILY_PULL)
        self._breakeven = reflect(
            pulled_in + change.breakeven_pts - basis.drift.breakeven_pts, *basis.ranges.breakeven
        )
        return round(self._breakeven, 2)

    def _move_oil(self, change: RealChange) -> float:
        self._oil = reflect_ratio(
            self._oil * change.oil_ratio * self._basis.drift.oil_factor, *self._basis.ranges.oil
        )
        return round(self._oil, 2)

    def _move_fx(self, change: RealChange) -> dict[str, Decimal]:
        fx = {}
        for pair, level in self._fx.items():
            moved = EXACT.multiply(
                EXACT.multiply(level, change.fx_ratio[pair]), self._basis.drift.fx_factor[pair]
            )
            self._fx[pair] = reflect_decimal(moved, *self._basis.ranges.fx[pair])
            fx[pair] = self._fx[pair].quantize(FX_QUANTUM[pair], context=EXACT)
        return fx

    def _new_month(self, change: RealChange) -> None:
        """A synthetic month begins: the monthly series move by the drawn day's month's real change."""
        ranges = self._basis.ranges
        unemployment = pulled(self._unemployment, self._basis.anchors.unemployment, MONTHLY_PULL)
        self._unemployment = reflect(unemployment + change.unemployment_pts, *ranges.unemployment)
        self._unemployment_months.append(round(self._unemployment, 1))  # published to 0.1 pt, as BLS does
        year_ago = self._cpi_months[1]  # the oldest drops out when the new month is appended
        index = self._cpi_months[-1] * change.cpi_ratio
        year_on_year = reflect((index / year_ago - 1.0) * 100.0, *ranges.cpi_yoy)
        self._cpi_months.append(year_ago * (1.0 + year_on_year / 100.0))
        self._cpi_yoy = year_on_year

    def _rate_vol(self, rate_change_bp: float) -> float | None:
        self._rate_changes_bp.append(rate_change_bp)
        return sample_std(self._rate_changes_bp) if len(self._rate_changes_bp) >= MIN_VOL_CHANGES else None

    def _oil_vol(self, oil: float) -> float | None:
        self._oil_returns.append(math.log(oil / self._previous.oil_usd))
        if len(self._oil_returns) < MIN_VOL_CHANGES:
            return None
        return sample_std(self._oil_returns) * math.sqrt(252.0)

    def _policy_change(self, day: dt.date, fed_funds: float) -> float:
        """The policy level (median of the last prints) against the last business day at least 3
        months earlier, as FedFunds computes it on real days."""
        self._policy_prints.append(fed_funds)
        median = statistics.median(self._policy_prints)
        self._policy_medians.append((day, median))
        lookback = day - _LOOKBACK
        while len(self._policy_medians) >= 2 and self._policy_medians[1][0] <= lookback:
            self._policy_medians.popleft()  # older than anything a later day looks back to
        then_day, then_median = self._policy_medians[0]
        return median - then_median if then_day <= lookback else 0.0


def extend(series: SeriesSet, seed: int) -> SyntheticMacro:
    """The synthetic days after the last business day of `series`, for `seed`."""
    return SyntheticMacro(extension_basis(series), seed)
