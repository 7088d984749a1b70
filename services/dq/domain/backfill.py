"""Price checks over a whole history at once (a backfill): the rules of prices.py over columns.

PriceChecks judges one event at a time, as market's stream arrives. A backfill (loading or
re-checking a year of prices) knows every day up front; this module gives the same failing results
for the same events at a small fraction of the cost per price point
(tests/dq/domain/test_backfill_matches_per_event.py compares every result of faulty simulated
years; bench/dq_checks.py measures both). The service does not use it, and dq's service does not
import it (it needs NumPy).

Vectorised, exactly (prices are int64 counts of 10^-6 and thresholds exact ratios, so every
comparison of prices is exact):
- the quote's own checks (non_positive, off_tick), the vendor_divergence test, stale counts (runs
  of an unchanged published price) and missing prices of held instruments;
- the peers' move of each day (the median of the other peers' log returns, and the share that
  moved) and each instrument's running peer index;
- each price's move from its last good price, and the spike's robust z against the last `window`
  accepted returns (sorted windows: median, MAD, the floor), the stale verdict. A z is computed
  in full only where it can matter: the floor bounds it once the median is known, and a price whose
  bound reaches no threshold and that decides no blame cannot fail (its z is left NaN).
Vectorised with a guard: a bond's price against the curve (vs_curve). The curve-implied price is
computed in floats for every bond and day; any whose rounding to the tick lies within 1e-6 of a
half tick is recomputed by rules.vs_curve itself (Backfill.scalar_curve counts them).
Vectorised in rounds: which vendor to blame when the two diverge. The blame needs each vendor's
spike score, which depends on which earlier prices were accepted, which depends on earlier blames:
every evidence array is computed for an assumed acceptance (a first guess of the blames), the blame
steps of rules.blame are applied to every divergent day at once, and the instruments whose blames
changed are computed again, until nothing changes. A day's blame depends only on earlier days, so
the fixed point is the per-event answer (Backfill.rounds: one or two on simulated years).
Per event, by the per-event code itself:
- the MAD's fallback (1.2533 x the mean absolute deviation, a correctly rounded fsum mean) for the
  windows whose MAD is zero;
- the final word on every divergent day: rules.blame, from the final evidence, words the verdict
  and must blame as the rounds did (else the whole stretch is checked per event);
- the failing results themselves, built by price_rules.py's functions from the evidence, so their
  values and messages are the per-event ones. Floats computed from logarithms (returns, z, medians)
  may differ from the per-event ones in the last place (NumPy's log against math.log).

Layouts this module does not handle are checked by PriceChecks instead (Backfill.fallback says why):
days not in market's order (the regime, every primary, every vendor quote, the day end), a second
price of the same instrument, vendor and day, more than one vendor besides the primary, unknown
instruments, prices finer than 10^-6 or too large, a day neither a vendor quote nor a day end
closed.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import statistics
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from services.common.market_events import DayEnd, Instrument, MarketEvent, PriceQuote, RegimeState
from services.dq.domain import curve, robust
from services.dq.domain import price_rules as rules
from services.dq.domain.config import Check, CheckSet
from services.dq.domain.curve import TENOR_YEARS, CreditSpread
from services.dq.domain.price_rules import Evidence
from services.dq.domain.price_series import Move
from services.dq.domain.prices import REFERENCE_VOL, PriceChecks
from services.dq.domain.results import PRIMARY, CheckResult, Family, quarantines

BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

SCALE = 6
UNIT = 10**SCALE
MAX_UNITS = 2**50  # |price| in units: exact as a float, and room for products with thresholds' denominators
HALF_TICK_GUARD = 1e-6  # a float curve price this close to a half tick is recomputed exactly
_REGIMES = ("calm", "tightening", "easing", "stress", "crisis")
_RULE_ORDER = ("non_positive", "off_tick", "vs_curve", "vendor_divergence", "stale", "spike", "missing")
P = Family.PRICE


# ---------------------------------------------------------------- the columns


@dataclass(frozen=True)
class PriceColumns:
    """The price stream of a stretch of days as columns.

    dates: the business days, in order (a day's index is its position); instruments: the reference
    data (an instrument's code is its position); vendor: the one vendor besides the primary.
    quotes, event_ids, units: one row per quote, in stream order (units: the price in 10^-6).
    primary_row, vendor_row: (instrument, day) -> the quote's row, -1 for none.
    regimes, regime_events: each day's regime (None: no regime that day); day_end: the days with a
    day end; held: (instrument, day) -> held at that day end. stream and held_ids: the same events in
    their order, and the held instruments by day, for the per-event fallback. unsupported: why the backfill cannot run ("": it can).
    """

    dates: tuple[dt.date, ...]
    instruments: tuple[Instrument, ...]
    vendor: str
    quotes: tuple[PriceQuote, ...]
    event_ids: tuple[str, ...]
    units: IntArray
    primary_row: IntArray
    vendor_row: IntArray
    regimes: tuple[RegimeState | None, ...]
    regime_events: tuple[str, ...]
    day_end: BoolArray
    held: BoolArray
    stream: tuple[MarketEvent, ...]
    held_ids: Mapping[dt.date, frozenset[str]]
    unsupported: str = ""

    @property
    def price_points(self) -> int:
        return len(self.quotes)


def price_columns(
    events: Iterable[MarketEvent],
    instruments: Iterable[Instrument],
    held: Mapping[dt.date, Collection[str]] | None = None,
) -> PriceColumns:
    """The regime, price and day-end events of `events` as columns (other kinds are skipped).
    held: the instruments held at each day end (the per-event day_end's `held`). ValueError for a
    date before the day being read, as PriceChecks raises."""
    universe = tuple(instruments)
    code = {instrument.instrument_id: k for k, instrument in enumerate(universe)}
    dates: list[dt.date] = []
    regimes: list[RegimeState | None] = []
    regime_events: list[str] = []
    ends: list[bool] = []
    closed: list[bool] = []
    quotes: list[PriceQuote] = []
    event_ids: list[str] = []
    units: list[int] = []
    codes: list[int] = []
    days: list[int] = []
    primaries: list[bool] = []
    stream: list[MarketEvent] = []
    vendors: set[str] = set()
    problems: list[str] = []
    current: dt.date | None = None
    day = -1
    phase = 0  # of the current day: 0 nothing yet, 1 regime, 2 primaries, 3 vendor quotes, 4 day end
    for event in events:
        payload = event.payload
        if isinstance(payload, PriceQuote):
            date = payload.price_date
        elif isinstance(payload, RegimeState) or (
            isinstance(payload, DayEnd) and event.kind == "clock.day_end"
        ):
            date = payload.date
        else:
            continue
        if date != current:
            if current is not None and date < current:
                raise ValueError(f"price date {date} is before the day being checked, {current}")
            current = date
            dates.append(date)
            regimes.append(None)
            regime_events.append("")
            ends.append(False)
            closed.append(False)
            day += 1
            phase = 0
        stream.append(event)
        if isinstance(payload, PriceQuote):
            vendor = payload.vendor
            if vendor == PRIMARY:
                if phase > 2:
                    problems.append(f"{date}: a primary price after the day's vendor quotes or day end")
                phase = 2
                primaries.append(True)
            else:
                if phase > 3:
                    problems.append(f"{date}: a {vendor} price after the day end")
                phase = 3
                primaries.append(False)
                vendors.add(vendor)
                closed[day] = True
            instrument_code = code.get(payload.instrument_id)
            if instrument_code is None:
                problems.append(f"{payload.instrument_id}: not in the reference data")
                instrument_code = 0
            numerator, denominator = payload.price.as_integer_ratio()
            scaled = numerator * (UNIT // denominator)
            if UNIT % denominator or not -MAX_UNITS <= scaled <= MAX_UNITS:
                problems.append(
                    f"{payload.instrument_id} {payload.price}: finer than 10^-{SCALE} or too large"
                )
                scaled = 0
            units.append(scaled)
            codes.append(instrument_code)
            days.append(day)
            quotes.append(payload)
            event_ids.append(event.event_id)
        elif isinstance(payload, RegimeState):
            if phase != 0:
                problems.append(f"{date}: a regime after the day's first price or a second regime")
            regimes[day], regime_events[day] = payload, event.event_id
            phase = 1
        else:
            ends[day] = closed[day] = True
            phase = 4
    if len(vendors) > 1:
        problems.append(f"more than one vendor besides the primary: {sorted(vendors)}")
    if not all(closed):
        problems.append(f"{dates[closed.index(False)]}: a day with neither a vendor price nor a day end")
    n, d = len(universe), len(dates)
    primary_row = np.full((n, d), -1, dtype=np.int64)
    vendor_row = np.full((n, d), -1, dtype=np.int64)
    if quotes:
        inst = np.array(codes, dtype=np.int64)
        on = np.array(days, dtype=np.int64)
        is_primary = np.array(primaries, dtype=np.bool_)
        for target, mask in ((primary_row, is_primary), (vendor_row, ~is_primary)):
            k = np.flatnonzero(mask)
            target[inst[k], on[k]] = k
            if int((target >= 0).sum()) != len(k):
                problems.append("a second price of the same instrument, vendor and day")
    for listed in universe:
        if UNIT % listed.tick_size.as_integer_ratio()[1]:
            problems.append(f"{listed.instrument_id}: tick {listed.tick_size} finer than 10^-{SCALE}")
    held_matrix = np.zeros((n, d), dtype=np.bool_)
    held_ids: dict[dt.date, frozenset[str]] = {}
    index = {date: k for k, date in enumerate(dates)}
    for date, ids in (held or {}).items():
        held_day = index.get(date)
        if held_day is None or not ends[held_day]:
            continue
        held_ids[date] = frozenset(ids)
        for iid in ids:
            if iid in code:
                held_matrix[code[iid], held_day] = True
            else:
                problems.append(f"{iid}: held but not in the reference data")
    return PriceColumns(
        dates=tuple(dates),
        instruments=universe,
        vendor=next(iter(sorted(vendors)), ""),
        quotes=tuple(quotes),
        event_ids=tuple(event_ids),
        units=np.asarray(units, dtype=np.int64),
        primary_row=primary_row,
        vendor_row=vendor_row,
        regimes=tuple(regimes),
        regime_events=tuple(regime_events),
        day_end=np.asarray(ends, dtype=np.bool_),
        held=held_matrix,
        stream=tuple(stream),
        held_ids=held_ids,
        unsupported=problems[0] if problems else "",
    )


# ---------------------------------------------------------------- the result


@dataclass(frozen=True)
class Backfill:
    """failures: every failing result, as the per-event path raises them (by date).
    evaluated / failed: results per check id, passing and failing / failing only.
    rounds: evaluations until the blames settled; divergent: instrument-days whose two vendors
    diverged (each given rules.blame's final word); scalar_curve: bond prices recomputed by
    rules.vs_curve; mean_abs_fallbacks: windows scored in full (over all rounds) whose MAD was zero;
    fallback: why PriceChecks checked the whole stretch instead ("" when the backfill did)."""

    failures: tuple[CheckResult, ...]
    evaluated: Mapping[str, int]
    failed: Mapping[str, int]
    rounds: int = 0
    divergent: int = 0
    scalar_curve: int = 0
    mean_abs_fallbacks: int = 0
    fallback: str = ""


def per_event(checks: CheckSet, columns: PriceColumns) -> Backfill:
    """The same stretch through PriceChecks, event by event (the fallback, and the reference)."""
    prices = PriceChecks(checks, columns.instruments)
    evaluated: dict[str, int] = {}
    failed: dict[str, int] = {}
    failing: list[CheckResult] = []
    results: list[CheckResult] = []
    for event in columns.stream:
        payload = event.payload
        if isinstance(payload, RegimeState):
            prices.regime(event.event_id, payload)
            continue
        if isinstance(payload, PriceQuote):
            if payload.vendor == PRIMARY:
                results = prices.primary(event.event_id, payload)
            else:
                results = prices.vendor(event.event_id, payload)
        elif isinstance(payload, DayEnd):
            results = prices.day_end(payload.date, columns.held_ids.get(payload.date, ()))
        else:
            continue
        for result in results:  # counted, and only the failures kept (the service keeps no more)
            evaluated[result.check_id] = evaluated.get(result.check_id, 0) + 1
            if not result.success:
                failed[result.check_id] = failed.get(result.check_id, 0) + 1
                failing.append(result)
    return Backfill(tuple(failing), evaluated, failed, fallback=columns.unsupported or "per event")


# ---------------------------------------------------------------- helpers


def _ratio(check: Check, name: str) -> tuple[int, int]:
    """A threshold as an exact ratio (numerator, denominator) of the Decimal the rules compare with."""
    return check.decimal(name).as_integer_ratio()


def _select_each(checks: CheckSet, rule: str, universe: Sequence[Instrument]) -> list[Check | None]:
    """CheckSet.select of the rule for each instrument (the most specific match, the first among
    equals), with the candidates found once."""
    candidates = checks.of_rule(P, rule)
    position = {c.check_id: checks.checks.index(c) for c in candidates}
    keys = sorted({key for c in candidates for key in c.subject})
    chosen: dict[tuple[str | None, ...], Check | None] = {}
    out: list[Check | None] = []
    for instrument in universe:
        attributes = rules.attributes(instrument)
        seen = tuple(attributes.get(key) for key in keys)  # all a subject filter can look at
        if seen not in chosen:
            matching = [c for c in candidates if c.matches(attributes)]
            chosen[seen] = (
                max(matching, key=lambda c: (len(c.subject), -position[c.check_id])) if matching else None
            )
        out.append(chosen[seen])
    return out


def _per_instrument(selected: Sequence[Check | None], name: str, default: float = 0.0) -> FloatArray:
    return np.array([c.threshold(name) if c is not None else default for c in selected], dtype=np.float64)


def _ratios(selected: Sequence[Check | None], name: str) -> tuple[IntArray, IntArray]:
    pairs = [_ratio(c, name) if c is not None else (0, 1) for c in selected]
    return (
        np.array([p[0] for p in pairs], dtype=np.int64)[:, None],
        np.array([p[1] for p in pairs], dtype=np.int64)[:, None],
    )


def _last(mask: BoolArray, days: IntArray) -> tuple[IntArray, IntArray]:
    """(before, through): per row and day, the last day < d (<= d) where mask holds, -1 for none."""
    through = np.maximum.accumulate(np.where(mask, days, -1), axis=1)
    before = np.empty_like(through)
    before[:, 0] = -1
    before[:, 1:] = through[:, :-1]
    return before, through


def _at(values: npt.NDArray[Any], index: IntArray) -> npt.NDArray[Any]:
    """values[row, index[row, day]] for every row and day (index -1 reads column 0)."""
    rows, days = values.shape
    flat = (np.arange(rows, dtype=np.int64) * days)[:, None] + np.maximum(index, 0)
    taken: npt.NDArray[Any] = values.reshape(-1)[flat]
    return taken


def _none(value: float) -> float | None:
    return None if value != value else float(value)  # NaN is None


@functools.lru_cache(maxsize=1024)
def _coupon_dates(
    maturity: dt.date, step: int, first: dt.date
) -> tuple[IntArray, IntArray, IntArray, IntArray]:
    """A bond's coupon dates stepped back from maturity to before `first`, ascending: ordinals,
    years, months, days."""
    out: list[dt.date] = []
    k = 0
    while True:
        date = curve._months_back(maturity, k * step)
        out.append(date)
        if date <= first:
            break
        k += 1
    out.reverse()
    return (
        np.array([d.toordinal() for d in out], dtype=np.int64),
        np.array([d.year for d in out], dtype=np.int64),
        np.array([d.month for d in out], dtype=np.int64),
        np.array([d.day for d in out], dtype=np.int64),
    )


# ---------------------------------------------------------------- the backfill


@dataclass
class _Leg:
    """One vendor's series of every instrument (rows) and day (columns)."""

    has: BoolArray
    units: IntArray
    floats: FloatArray
    row: IntArray
    rejected: BoolArray
    published_before: IntArray  # the last day < d it published a price
    stale_days: IntArray
    # evidence, for the acceptance of the last round
    last_good: IntArray
    moved: BoolArray  # a move exists (a last good price to measure from)
    net: FloatArray
    gap: IntArray
    per_day: FloatArray
    prior: FloatArray
    scored: BoolArray
    z: FloatArray
    median: FloatArray
    mad: FloatArray
    scale: FloatArray
    source: FloatArray
    spike: BoolArray
    stale: BoolArray
    other_move: FloatArray  # NaN: none


def backfill(checks: CheckSet, columns: PriceColumns) -> Backfill:
    """Every price check of the stretch at once; the per-event results' failures and counts."""
    if columns.unsupported:
        return per_event(checks, columns)
    return _Year(checks, columns).run()


class _Year:
    def __init__(self, checks: CheckSet, columns: PriceColumns) -> None:
        self.checks = checks
        self.c = columns
        universe = columns.instruments
        n, d = columns.primary_row.shape
        self.n, self.d = n, d
        self.days = np.broadcast_to(np.arange(d, dtype=np.int64), (n, d))
        self.sel = {rule: _select_each(checks, rule, universe) for rule in _RULE_ORDER}
        self.has_check = {
            rule: np.array([c is not None for c in selected], dtype=np.bool_)[:, None]
            for rule, selected in self.sel.items()
        }
        ticks = [i.tick_size.as_integer_ratio() for i in universe]
        self.tick_units = np.array([t[0] * (UNIT // t[1]) for t in ticks], dtype=np.int64)[:, None]
        self.tick_floats = np.array([float(i.tick_size) for i in universe], dtype=np.float64)[:, None]
        self.ordinals = np.array([date.toordinal() for date in columns.dates], dtype=np.int64)
        self.date_parts = np.array(
            [(date.year, date.month, date.day) for date in columns.dates], dtype=np.int64
        )
        self.date_parts = self.date_parts.reshape(d, 3).T
        self.primary = self._leg(columns.primary_row)
        self.vendor = self._leg(columns.vendor_row)
        self.scalar_curve = 0
        self.mean_abs_fallbacks = 0
        self.curve_results: dict[tuple[int, int], CheckResult] = {}
        self.curve_evaluated = np.zeros((n, d), dtype=np.bool_)
        self.curve_model: tuple[IntArray, IntArray, FloatArray] | None = None
        self.found: list[tuple[tuple[int, int, int], CheckResult]] = []  # ((day, row, rule), result)
        self.evaluated: dict[str, int] = {}
        self.failed: dict[str, int] = {}

    # ------------------------------------------------------------ static evidence

    def _leg(self, row: IntArray) -> _Leg:
        has = row >= 0
        units = np.where(has, self.c.units[np.maximum(row, 0)] if len(self.c.units) else 0, 0)
        before, _ = _last(has, self.days)
        previous = _at(units, before)
        same = has & (before >= 0) & (units == previous)
        _, run_start = _last(has & ~same, self.days)
        stale_days = np.where(same, self.days - _at(run_start, before), 0)
        n, d = row.shape
        zeros_f = np.zeros((n, d), dtype=np.float64)
        zeros_b = np.zeros((n, d), dtype=np.bool_)
        zeros_i = np.zeros((n, d), dtype=np.int64)
        return _Leg(
            has=has,
            units=units,
            floats=units.astype(np.float64),
            row=row,
            rejected=zeros_b.copy(),
            published_before=before,
            stale_days=stale_days,
            last_good=zeros_i - 1,
            moved=zeros_b.copy(),
            net=zeros_f.copy(),
            gap=zeros_i.copy(),
            per_day=zeros_f.copy(),
            prior=zeros_f.copy(),
            scored=zeros_b.copy(),
            z=zeros_f.copy(),
            median=zeros_f.copy(),
            mad=zeros_f.copy(),
            scale=zeros_f.copy(),
            source=zeros_f.copy(),
            spike=zeros_b.copy(),
            stale=zeros_b.copy(),
            other_move=np.full((n, d), np.nan),
        )

    def _quote_checks(self, leg: _Leg) -> tuple[BoolArray, BoolArray, BoolArray]:
        """(non_positive fails, off_tick fails, off_tick evaluated) of a leg's quotes."""
        non_positive = leg.has & self.has_check["non_positive"] & (leg.units <= 0)
        tick_evaluated = leg.has & self.has_check["off_tick"] & (self.tick_units > 0)
        off_tick = tick_evaluated & (leg.units % np.maximum(self.tick_units, 1) != 0)
        return non_positive, off_tick, tick_evaluated

    def _rejects(self, rule: str, failing: BoolArray) -> BoolArray:
        quarantining = np.array(
            [c is not None and quarantines(c.family, c.severity, False) for c in self.sel[rule]],
            dtype=np.bool_,
        )[:, None]
        return failing & quarantining

    def _vs_curve(self) -> BoolArray:
        """vs_curve of the primary prices: failing (instrument, day); fills curve_evaluated and
        curve_results (the failing ones, and those recomputed by the rule)."""
        c = self.c
        primary = self.primary
        failing = np.zeros((self.n, self.d), dtype=np.bool_)
        selected = self.sel["vs_curve"]
        bonds = [
            i
            for i, check in enumerate(selected)
            if check is not None
            and c.instruments[i].maturity is not None
            and c.instruments[i].coupon_rate_pct is not None
        ]
        if not bonds:
            return failing
        # The credit multiplier of each check, day by day, as PriceChecks.regime observes it.
        spreads: dict[str, list[float | None]] = {}
        for check in {s.check_id: s for s in selected if s is not None}.values():
            credit = CreditSpread(
                {r: check.threshold(f"spread_multiplier_{r}") for r in _REGIMES},
                check.threshold("spread_adjustment_per_day"),
            )
            series: list[float | None] = []
            for regime in c.regimes:
                if regime is not None:
                    credit.observe(regime.regime)
                series.append(credit.multiplier)
            spreads[check.check_id] = series
        regime_days = np.array([r is not None and bool(r.curve_pct) for r in c.regimes], dtype=np.bool_)
        ordinals = self.ordinals
        # Every bond's priceable days: a primary price above zero, a regime that day, before maturity.
        pair_bond: list[IntArray] = []
        pair_day: list[IntArray] = []
        for position, i in enumerate(bonds):
            instrument = c.instruments[i]
            assert instrument.maturity is not None
            if instrument.coupons_per_year not in (1, 2, 4, 12) or instrument.day_count not in (
                "ACT/ACT",
                "30/360",
            ):
                continue  # clean_price refuses it: no result, as per event
            on = np.flatnonzero(
                primary.has[i]
                & regime_days
                & (primary.units[i] > 0)
                & (ordinals < instrument.maturity.toordinal())
            )
            pair_bond.append(np.full(len(on), position, dtype=np.int64))
            pair_day.append(on)
        if not pair_day or not sum(len(p) for p in pair_day):
            return failing
        bond_of, day = np.concatenate(pair_bond), np.concatenate(pair_day)
        inst = np.array(bonds, dtype=np.int64)[bond_of]
        self.curve_evaluated[inst, day] = True
        tenor_sets = {
            tuple(sorted(t for t in r.curve_pct if t in TENOR_YEARS)) for r in c.regimes if r is not None
        }
        exact: IntArray
        if len(tenor_sets) != 1 or len(next(iter(tenor_sets))) < 2:
            exact = np.arange(len(day))  # the curve's tenors change: every price by the rule
        else:
            exact = self._curve_floats(bonds, bond_of, day, inst, ordinals, spreads, failing)
        for k in exact:  # the per-event rule itself
            self.scalar_curve += 1
            bond_check = selected[int(inst[k])]
            assert bond_check is not None
            result = self._curve_result(int(inst[k]), int(day[k]), bond_check, spreads)
            failing[inst[k], day[k]] = result is not None and not result.success
        for i, k_day in zip(*np.nonzero(failing), strict=True):  # confirmed, and worded, by the rule
            bond_check = selected[i]
            assert bond_check is not None
            found = self.curve_results.get((int(i), int(k_day)))
            if found is None:
                found = self._curve_result(int(i), int(k_day), bond_check, spreads)
            failing[i, k_day] = found is not None and not found.success
        return failing

    def _curve_floats(
        self,
        bonds: Sequence[int],
        bond_of: IntArray,
        day: IntArray,
        inst: IntArray,
        ordinals: IntArray,
        spreads: Mapping[str, Sequence[float | None]],
        failing: BoolArray,
    ) -> IntArray:
        """The curve-implied prices of the (bond, day) pairs in floats, as curve.clean_price computes
        them; marks the failing prices, and returns the pairs too close to a half tick to round."""
        c = self.c
        instruments = [c.instruments[i] for i in bonds]
        selected = [self.sel["vs_curve"][i] for i in bonds]
        tenors = sorted(
            (t for t in next(r.curve_pct for r in c.regimes if r is not None) if t in TENOR_YEARS),
            key=lambda t: TENOR_YEARS[t],
        )
        xs = np.array([TENOR_YEARS[t] for t in tenors], dtype=np.float64)
        ys = np.array(
            [[r.curve_pct[t] for t in tenors] if r is not None else [0.0] * len(tenors) for r in c.regimes],
            dtype=np.float64,
        ).reshape(self.d, len(tenors))[day]
        maturity = np.array([i.maturity.toordinal() for i in instruments if i.maturity], dtype=np.int64)
        per_year = np.array([i.coupons_per_year for i in instruments], dtype=np.int64)[bond_of]
        thirty = np.array([i.day_count == "30/360" for i in instruments], dtype=np.bool_)[bond_of]
        by_check = {
            check_id: np.array([m or 1.0 for m in series], dtype=np.float64)
            for check_id, series in spreads.items()
        }
        multiplier = np.stack([by_check[s.check_id] if s else np.ones(self.d) for s in selected])[
            bond_of, day
        ]
        spread_bp = np.array([i.spread_bp for i in instruments], dtype=np.float64)[bond_of]
        spread_pct = spread_bp * multiplier / 100.0
        # The curve's yield at the bond's years to maturity: linear between tenors, flat beyond.
        tenor_years = (maturity[bond_of] - ordinals[day]) / curve.DAYS_PER_YEAR
        j = np.searchsorted(xs, tenor_years, side="left")
        inner = np.clip(j, 1, len(xs) - 1)
        x0, x1 = xs[inner - 1], xs[inner]
        y0 = np.take_along_axis(ys, (inner - 1)[:, None], axis=1)[:, 0]
        y1 = np.take_along_axis(ys, inner[:, None], axis=1)[:, 0]
        inside = y0 + (y1 - y0) * (tenor_years - x0) / (x1 - x0)
        ytm = np.where(j == 0, ys[:, 0], np.where(j >= len(xs), ys[:, -1], inside)) + spread_pct
        # Coupon dates: every bond's schedule, one after the other (keys: bond, then ordinal).
        first = c.dates[int(day.min())]
        schedules = [
            _coupon_dates(i.maturity, 12 // i.coupons_per_year, first) for i in instruments if i.maturity
        ]
        ends = np.cumsum([len(s[0]) for s in schedules])
        keys = np.concatenate([s[0] + (k << 32) for k, s in enumerate(schedules)])
        c_year, c_month, c_day = (np.concatenate([s[f] for s in schedules]) for f in (1, 2, 3))
        following = np.searchsorted(keys, ordinals[day] + (bond_of << 32), side="right")
        previous = following - 1
        settle = [self.date_parts[f][day] for f in range(3)]
        d1 = np.where(c_day[previous] == 31, 30, c_day[previous])
        d2 = np.where((settle[2] == 31) & (d1 >= 30), 30, settle[2])
        accrued_days = np.where(
            thirty,
            360 * (settle[0] - c_year[previous]) + 30 * (settle[1] - c_month[previous]) + (d2 - d1),
            ordinals[day] - (keys[previous] - (bond_of << 32)),
        )
        period_days = np.where(thirty, 360 // per_year, keys[following] - keys[previous])
        accrued = accrued_days / period_days
        to_next = 1.0 - accrued
        remaining = ends[bond_of] - following
        coupon = (
            np.array([float(i.coupon_rate_pct or 0) for i in instruments], dtype=np.float64)[bond_of]
            / per_year
        )
        base = 1.0 + ytm / 100.0 / per_year
        # dirty = sum over k < remaining of flow_k x base^-(to_next + k): the coupons as a geometric
        # series (expm1 keeps it accurate for yields near zero), the redemption on its own.
        log_base = np.log(base)
        with np.errstate(divide="ignore", invalid="ignore"):
            series_sum = np.where(
                log_base == 0.0, remaining, np.expm1(-remaining * log_base) / np.expm1(-log_base)
            )
        first_discount = np.exp(-to_next * log_base)
        dirty = coupon * first_discount * series_sum + 100.0 * np.exp(-(to_next + remaining - 1) * log_base)
        model = dirty - coupon * accrued
        self.curve_model = (inst, day, model)  # for tests: the floats against curve.clean_price
        # Rounded to the tick (half-even) and compared exactly, as rules.vs_curve does; a price too
        # close to a half tick for floats to round it as the rule does is left to the rule.
        in_ticks = model / self.tick_floats[inst, 0]
        halfway = np.abs(in_ticks - np.floor(in_ticks) - 0.5) < HALF_TICK_GUARD
        tick_units = self.tick_units[inst, 0]
        implied = np.rint(in_ticks).astype(np.int64) * tick_units
        difference = np.abs(self.primary.units[inst, day] - implied)
        tol_n, tol_d = (r[:, 0][bond_of] for r in _ratios(selected, "tolerance"))
        ticks_n, ticks_d = (r[:, 0][bond_of] for r in _ratios(selected, "ticks"))
        ok = (difference * tol_d <= tol_n * implied) | (difference * ticks_d <= ticks_n * tick_units)
        bad = ~ok & ~halfway
        failing[inst[bad], day[bad]] = True
        return np.flatnonzero(halfway)

    def _curve_result(
        self, i: int, day: int, check: Check, spreads: Mapping[str, Sequence[float | None]]
    ) -> CheckResult | None:
        """rules.vs_curve of one primary price (None, and not evaluated, when it gives none)."""
        c = self.c
        regime = c.regimes[day]
        assert regime is not None
        instrument = c.instruments[i]
        row = int(self.primary.row[i, day])
        multiplier = spreads[check.check_id][day]
        spread_pct = instrument.spread_bp * (multiplier or 1.0) / 100.0
        result = rules.vs_curve(
            check,
            c.quotes[row],
            instrument,
            regime.curve_pct,
            spread_pct,
            c.event_ids[row],
            c.regime_events[day],
        )
        if result is None:
            self.curve_evaluated[i, day] = False
        else:
            self.curve_results[(i, day)] = result
        return result

    def _peers(self) -> tuple[FloatArray, FloatArray, FloatArray]:
        """(median, moved share, running index) of each instrument's peers each day (NaN: none)."""
        primary = self.primary
        _, yesterday_units = self._yesterday(primary)
        valid = (
            primary.has
            & ~primary.rejected
            & (primary.published_before == self.days - 1)
            & (primary.units > 0)
            & (yesterday_units > 0)
        )
        with np.errstate(divide="ignore", invalid="ignore"):
            returns = np.where(valid, np.log(primary.floats / yesterday_units.astype(np.float64)), np.nan)
        moved = valid & (primary.units != yesterday_units)
        median = np.full((self.n, self.d), np.nan)
        share = np.full((self.n, self.d), np.nan)
        groups: dict[tuple[str, str], list[int]] = {}
        for k, instrument in enumerate(self.c.instruments):
            groups.setdefault((instrument.asset_class.value, instrument.currency), []).append(k)
        for members in groups.values():
            idx = np.array(members, dtype=np.int64)
            r, v, m = returns[idx], valid[idx], moved[idx]
            order = np.argsort(r, axis=0, kind="stable")  # NaN (no return) last
            ordered = np.take_along_axis(r, order, axis=0)
            rank = np.empty_like(order)
            np.put_along_axis(rank, order, np.broadcast_to(np.arange(len(idx))[:, None], order.shape), axis=0)
            count = v.sum(axis=0)[None, :]
            others = np.where(v, count - 1, count)
            low, high = (others - 1) // 2, others // 2
            low = np.where(v & (low >= rank), low + 1, low)
            high = np.where(v & (high >= rank), high + 1, high)
            take_low = np.take_along_axis(ordered, np.clip(low, 0, len(idx) - 1), axis=0)
            take_high = np.take_along_axis(ordered, np.clip(high, 0, len(idx) - 1), axis=0)
            moved_total = m.sum(axis=0)[None, :]
            with np.errstate(divide="ignore", invalid="ignore"):
                median[idx] = np.where(others > 0, (take_low + take_high) / 2, np.nan)
                share[idx] = np.where(others > 0, (moved_total - m) / others, np.nan)
        index = np.cumsum(np.where(np.isnan(median), 0.0, median), axis=1)
        return median, share, index

    def _yesterday(self, leg: _Leg) -> tuple[IntArray, IntArray]:
        before = leg.published_before
        return before, np.where(before >= 0, _at(leg.units, before), 0)

    # ------------------------------------------------------------ evidence for an acceptance

    def _moves(self, leg: _Leg, accepted: BoolArray, ix: IntArray) -> None:
        """Each price's move from its last good price and its robust score, for rows ix."""
        days = self.days[ix]
        has, units, floats = leg.has[ix], leg.units[ix], leg.floats[ix]
        accepted = accepted[ix]
        good_before, _ = _last(accepted, days)
        moved = has & (good_before >= 0) & (units > 0) & self.spike_on[ix]
        index = self.peer_index[ix]
        with np.errstate(divide="ignore", invalid="ignore"):
            net = np.log(floats / _at(floats, good_before)) - (index - _at(index, good_before))
            gap = days - good_before
            per_day = net / np.sqrt(gap)
            factor = self.factor[ix]
            standardised = per_day / factor
            prior = per_day / (self.min_scale[ix] * np.maximum(factor, 1.0))
        kept = accepted & moved  # the standardised returns the history keeps
        count: IntArray = np.cumsum(kept, axis=1) - kept  # kept before each day
        window = self.window[ix]
        length = np.minimum(count, window)
        scored = moved & (length >= self.min_history[ix])
        z = np.full_like(net, np.nan)  # NaN: |z| is at most the smallest threshold it meets (below)
        median = np.zeros_like(net)
        mad = np.zeros_like(net)
        scale = np.zeros_like(net)
        source = np.zeros_like(net)
        rows, cols = np.nonzero(scored)
        if len(rows):
            size = int(window.max())
            # Each row's kept returns after `size` NaNs, so a window is a slice: a short history
            # comes padded with NaN, which sorts last.
            per_row = kept.sum(axis=1)
            base = np.concatenate(([0], np.cumsum(per_row + size)[:-1])) + size
            padded = np.full(int((per_row + size).sum()), np.nan)
            kept_rows, kept_cols = np.nonzero(kept)
            padded[base[kept_rows] + count[kept_rows, kept_cols]] = standardised[kept_rows, kept_cols]
            end = base[rows] + count[rows, cols]
            windows = np.lib.stride_tricks.sliding_window_view(padded, size)[end - size]
            n_values = length[rows, cols]
            short = n_values < size
            if short.any() and (window[rows, 0] < size).any():  # a check with a shorter window
                position = np.arange(size)[None, :]
                windows = np.where(position >= (size - n_values)[:, None], windows, np.nan)
            windows.sort(axis=1)
            low, high = (n_values - 1) // 2, n_values // 2
            at = np.arange(len(rows))
            centre = (windows[at, low] + windows[at, high]) / 2
            row_factor = factor[rows, cols]
            row_per_day = per_day[rows, cols]
            floor = self.min_scale[ix][rows, 0]
            # The floor bounds the scale from below, so |z| <= bound: rows whose bound reaches no
            # threshold (spike z, the stale check's max_other_z) and that decide no blame are
            # known not to fail without their MAD.
            bound = np.abs(row_per_day - centre * row_factor) / floor
            exact = np.flatnonzero((bound > self.smallest_z[ix][rows, 0]) | self.diverging[ix][rows, cols])
            deviations = np.abs(windows[exact] - centre[exact, None])
            deviations.sort(axis=1)
            e_low, e_high = low[exact], high[exact]
            row_mad = (
                deviations[np.arange(len(exact)), e_low] + deviations[np.arange(len(exact)), e_high]
            ) / 2
            spread = robust.MAD_TO_SD * row_mad
            row_source = np.full(len(exact), robust.FROM_MAD)
            for k in np.flatnonzero(spread == 0.0):  # the mean-absolute fallback, as robust.score
                self.mean_abs_fallbacks += 1
                values = deviations[k, : n_values[exact[k]]]
                spread[k] = robust.MEAN_ABS_TO_SD * statistics.fmean(values.tolist())
                row_source[k] = robust.FROM_MEAN_ABS
            row_scale = spread * row_factor[exact]
            row_floor = floor[exact]
            row_source = np.where(row_scale < row_floor, robust.FROM_FLOOR, row_source)
            row_scale = np.where(row_scale < row_floor, row_floor, row_scale)
            r, c = rows[exact], cols[exact]
            z[r, c] = (row_per_day[exact] - centre[exact] * row_factor[exact]) / row_scale
            median[r, c], mad[r, c] = centre[exact], row_mad
            scale[r, c], source[r, c] = row_scale, row_source
        leg.last_good[ix] = good_before
        leg.moved[ix] = moved
        leg.net[ix], leg.gap[ix], leg.per_day[ix], leg.prior[ix] = net, gap, per_day, prior
        leg.scored[ix], leg.z[ix], leg.median[ix], leg.mad[ix] = scored, z, median, mad
        leg.scale[ix], leg.source[ix] = scale, source
        with np.errstate(invalid="ignore"):
            leg.spike[ix] = scored & (np.abs(z) > self.spike_z[ix])

    def _stale(self, leg: _Leg, other: _Leg, other_accepted: BoolArray, ix: IntArray) -> None:
        """Whether each of leg's prices is stale against the other vendor's price of the day."""
        days = self.days[ix]
        before = other.published_before[ix]
        other_units = other.units[ix]
        previous = np.where(before >= 0, _at(other_units, before), 0)
        credible = other.has[ix] & (before >= 0) & _at(other_accepted[ix], before)
        measurable = credible & (before == days - 1) & (previous > 0) & (other_units > 0)
        change = other_units - previous
        with np.errstate(divide="ignore", invalid="ignore"):
            other_move = np.where(measurable, change.astype(np.float64) / previous.astype(np.float64), np.nan)
        other_z = np.where(other.moved[ix], np.where(other.scored[ix], other.z[ix], other.prior[ix]), np.nan)
        ticks_n, ticks_d = self.stale_ticks
        tick_units = self.tick_units[ix]
        enough_ticks = (tick_units == 0) | (np.abs(change) * ticks_d[ix] >= ticks_n[ix] * tick_units)
        peers = self.peer_share[ix]
        leg.stale[ix] = (
            self.has_check["stale"][ix]
            & leg.has[ix]
            & (leg.stale_days[ix] >= self.stale_days_min[ix])
            & measurable
            & ~(np.abs(other_z) > self.max_other_z[ix])
            & (np.abs(other_move) >= self.min_other_move[ix])
            & enough_ticks
            & (np.isnan(peers) | (peers >= self.peer_moved_share[ix]))
        )
        leg.other_move[ix] = other_move

    def _evidence(self, leg: _Leg, i: int, day: int) -> Evidence:
        move = None
        spike: bool | None = None
        if leg.moved[i, day]:
            score = None
            if leg.scored[i, day]:
                score = robust.RobustScore(
                    z=float(leg.z[i, day]),
                    median=float(leg.median[i, day]),
                    mad=float(leg.mad[i, day]),
                    scale=float(leg.scale[i, day]),
                    source=float(leg.source[i, day]),
                )
                spike = bool(leg.spike[i, day])
            move = Move(
                net=float(leg.net[i, day]),
                gap=int(leg.gap[i, day]),
                standardised=float(leg.per_day[i, day] / self.factor[i, day]),
                score=score,
                prior_z=float(leg.prior[i, day]),
            )
        return Evidence(
            move,
            spike,
            int(leg.stale_days[i, day]),
            bool(leg.stale[i, day]),
            _none(float(leg.other_move[i, day])),
            _none(float(self.peer_share[i, day])),
        )

    # ------------------------------------------------------------ the year

    def _thresholds(self) -> None:
        spike, stale = self.sel["spike"], self.sel["stale"]
        self.spike_on = self.has_check["spike"]
        self.spike_z = _per_instrument(spike, "z")[:, None]
        self.window = _per_instrument(spike, "window", 1).astype(np.int64)[:, None]
        self.min_history = _per_instrument(spike, "min_history", 1).astype(np.int64)[:, None]
        self.min_scale = _per_instrument(spike, "min_scale", 1.0)[:, None]
        scaling = np.array([s is not None and bool(s.whole("regime_scaling")) for s in spike])[:, None]
        vol: float | None = None
        vols = []
        for regime in self.c.regimes:
            if regime is not None:
                vol = regime.equity_vol_annual
            vols.append(vol / REFERENCE_VOL if vol else 1.0)
        self.factor = np.where(scaling, np.array(vols, dtype=np.float64)[None, :], 1.0)
        self.stale_days_min = _per_instrument(stale, "days").astype(np.int64)[:, None]
        self.max_other_z = _per_instrument(stale, "max_other_z")[:, None]
        self.min_other_move = _per_instrument(stale, "min_other_move")[:, None]
        self.peer_moved_share = _per_instrument(stale, "peer_moved_share")[:, None]
        self.stale_ticks = _ratios(stale, "min_other_ticks")
        divergence = self.sel["vendor_divergence"]
        self.blame_min_z = _per_instrument(divergence, "blame_min_z")
        self.blame_ratio = _per_instrument(divergence, "blame_ratio")
        other_z = np.where(self.has_check["stale"][:, 0], self.max_other_z[:, 0], np.inf)
        self.smallest_z = np.minimum(self.spike_z[:, 0], other_z)[:, None]

    def run(self) -> Backfill:
        c = self.c
        primary, vendor = self.primary, self.vendor
        self._thresholds()
        p_non_positive, p_off_tick, p_tick_evaluated = self._quote_checks(primary)
        v_non_positive, v_off_tick, v_tick_evaluated = self._quote_checks(vendor)
        curve_failing = self._vs_curve()
        primary.rejected = (
            self._rejects("non_positive", p_non_positive)
            | self._rejects("off_tick", p_off_tick)
            | self._rejects("vs_curve", curve_failing)
        )
        vendor.rejected = self._rejects("non_positive", v_non_positive) | self._rejects(
            "off_tick", v_off_tick
        )
        self.peer_median, self.peer_share, self.peer_index = self._peers()
        # Divergence is a fact of the two prices; who is blamed is decided below.
        both = primary.has & vendor.has & self.has_check["vendor_divergence"]
        tol_n, tol_d = _ratios(self.sel["vendor_divergence"], "tolerance")
        ticks_n, ticks_d = _ratios(self.sel["vendor_divergence"], "ticks")
        difference = np.abs(vendor.units - primary.units)
        diverging = both & (difference * tol_d > tol_n * np.abs(primary.units))
        diverging &= difference * ticks_d > ticks_n * self.tick_units
        self.diverging = diverging
        divergent = list(zip(*(a.tolist() for a in np.nonzero(diverging)), strict=True))
        own_p = primary.has & ~primary.rejected & (primary.units > 0)
        own_v = vendor.has & ~vendor.rejected & (vendor.units > 0)
        blamed_p, blamed_v = self._first_guess(diverging)
        ix = np.arange(self.n, dtype=np.int64)
        rounds = 0
        while len(ix):
            rounds += 1
            if rounds > self.d + 2:  # cannot happen: each round settles at least one more day
                return per_event(self.checks, c)
            accepted_p, accepted_v = own_p & ~blamed_p, own_v & ~blamed_v
            self._moves(primary, accepted_p, ix)
            self._moves(vendor, accepted_v, ix)
            self._stale(vendor, primary, accepted_p, ix)
            self._stale(primary, vendor, accepted_v, ix)
            ix = self._blame(ix, blamed_p, blamed_v)
        blamed = self._verdicts(divergent, blamed_p, blamed_v)
        if blamed is None:
            return dataclasses.replace(per_event(self.checks, c), fallback="rules.blame disagreed")
        self.accepted_p = own_p & ~blamed_p
        quote_checks = {
            "non_positive": ((p_non_positive, v_non_positive), (primary.has, vendor.has)),
            "off_tick": ((p_off_tick, v_off_tick), (p_tick_evaluated, v_tick_evaluated)),
        }
        return self._results(quote_checks, both, divergent, blamed, rounds)

    def _verdicts(
        self, divergent: Sequence[tuple[int, int]], blamed_p: BoolArray, blamed_v: BoolArray
    ) -> dict[tuple[int, int], tuple[frozenset[str], str]] | None:
        """rules.blame itself on every divergent day, from the final evidence: the verdicts' words,
        and the last word (None if it ever blamed otherwise than the arrays did)."""
        c, primary, vendor = self.c, self.primary, self.vendor
        blamed: dict[tuple[int, int], tuple[frozenset[str], str]] = {}
        for i, day in divergent:
            check = self.sel["vendor_divergence"][i]
            assert check is not None
            verdict = rules.blame(
                check,
                c.vendor,
                bool(vendor.rejected[i, day]),
                bool(primary.rejected[i, day]),
                self._evidence(vendor, i, day),
                self._evidence(primary, i, day),
            )
            if (PRIMARY in verdict[0], c.vendor in verdict[0]) != (blamed_p[i, day], blamed_v[i, day]):
                return None
            blamed[(i, day)] = verdict
        return blamed

    def _blame(self, ix: IntArray, blamed_p: BoolArray, blamed_v: BoolArray) -> IntArray:
        """rules.blame's steps on every divergent day of the instruments ix, from this round's
        evidence (prices.py lists them: a vendor rejected by its own checks, else the stale one,
        else the spiking one, else one whose |z| is at least blame_min_z and blame_ratio x the
        other's, the vendor first; else both). Updates the blames; returns the instruments whose
        blames changed."""
        p, v = self.primary, self.vendor
        rows = np.zeros(self.n, dtype=np.bool_)
        rows[ix] = True
        i, day = np.nonzero(self.diverging & rows[:, None])
        p_z = np.where(p.moved[i, day], np.where(p.scored[i, day], p.z[i, day], p.prior[i, day]), np.nan)
        v_z = np.where(v.moved[i, day], np.where(v.scored[i, day], v.z[i, day], v.prior[i, day]), np.nan)
        floor, ratio = self.blame_min_z[i], self.blame_ratio[i]
        both_z = ~np.isnan(p_z) & ~np.isnan(v_z)
        with np.errstate(invalid="ignore"):
            v_out = both_z & (np.abs(v_z) >= floor) & (np.abs(v_z) >= ratio * np.abs(p_z))
            p_out = both_z & (np.abs(p_z) >= floor) & (np.abs(p_z) >= ratio * np.abs(v_z))
        p_rejected, v_rejected = p.rejected[i, day], v.rejected[i, day]
        p_stale, v_stale = p.stale[i, day], v.stale[i, day]
        p_spike, v_spike = p.spike[i, day], v.spike[i, day]
        steps = [p_rejected != v_rejected, p_stale != v_stale, p_spike != v_spike, v_out, p_out]
        on_v = np.select(steps, [v_rejected, v_stale, v_spike, True, False], default=True)
        on_p = np.select(steps, [p_rejected, p_stale, p_spike, False, True], default=True)
        changed = (on_v != blamed_v[i, day]) | (on_p != blamed_p[i, day])
        blamed_v[i, day], blamed_p[i, day] = on_v, on_p
        return np.unique(i[changed])

    def _first_guess(self, diverging: BoolArray) -> tuple[BoolArray, BoolArray]:
        """Blames to start from, as the rules would mostly decide them: a vendor rejected by its
        own checks, else one that repeats its price while the other moved, else one whose move from
        its previous price is at least twice the other's, else both. Only the number of rounds
        depends on it, not the answer."""
        p, v = self.primary, self.vendor
        with np.errstate(divide="ignore", invalid="ignore"):
            p_move = np.abs(np.log(p.floats / _at(p.floats, p.published_before)))
            v_move = np.abs(np.log(v.floats / _at(v.floats, v.published_before)))
        p_repeats, v_repeats = p.stale_days > 0, v.stale_days > 0
        blame_p = np.where(
            p.rejected != v.rejected,
            p.rejected,
            np.where(p_repeats != v_repeats, p_repeats, ~(v_move >= 2 * p_move)),
        )
        blame_v = np.where(
            p.rejected != v.rejected,
            v.rejected,
            np.where(p_repeats != v_repeats, v_repeats, ~(p_move >= 2 * v_move)),
        )
        return diverging & blame_p, diverging & blame_v

    # ------------------------------------------------------------ results

    def _count(self, rule: str, mask: BoolArray, times: int = 1) -> None:
        per_instrument = mask.sum(axis=1)
        for i, check in enumerate(self.sel[rule]):
            if check is not None and per_instrument[i]:
                self.evaluated[check.check_id] = self.evaluated.get(check.check_id, 0) + times * int(
                    per_instrument[i]
                )

    def _add(self, rule: str, row: int, day: int, result: CheckResult) -> None:
        self.found.append(((day, row, _RULE_ORDER.index(rule)), result))
        if not result.success:
            self.failed[result.check_id] = self.failed.get(result.check_id, 0) + 1

    def _results(
        self,
        quote_checks: Mapping[str, tuple[tuple[BoolArray, BoolArray], tuple[BoolArray, BoolArray]]],
        both: BoolArray,
        divergent: Sequence[tuple[int, int]],
        blamed: Mapping[tuple[int, int], tuple[frozenset[str], str]],
        rounds: int,
    ) -> Backfill:
        c = self.c
        primary, vendor = self.primary, self.vendor
        for rule, (fails, evaluated_masks) in quote_checks.items():
            for leg, failing, mask in zip((primary, vendor), fails, evaluated_masks, strict=True):
                self._count(rule, mask)
                for i, day in zip(*np.nonzero(failing), strict=True):
                    check = self.sel[rule][i]
                    assert check is not None
                    row = int(leg.row[i, day])
                    quote = c.quotes[row]
                    if rule == "non_positive":
                        result = rules.non_positive(check, quote, c.event_ids[row])
                    else:
                        result = rules.off_tick(check, quote, c.instruments[i].tick_size, c.event_ids[row])
                    self._add(rule, row, int(day), result)
        self._count("vs_curve", self.curve_evaluated)
        for (i, day), result in self.curve_results.items():
            if not result.success:
                self._add("vs_curve", int(primary.row[i, day]), day, result)
        self._count("vendor_divergence", both, times=2)  # one result for each vendor
        for i, day in divergent:
            check = self.sel["vendor_divergence"][i]
            assert check is not None
            who, verdict = blamed[(i, day)]
            p_row, v_row = int(primary.row[i, day]), int(vendor.row[i, day])
            p_quote, v_quote = c.quotes[p_row], c.quotes[v_row]
            p_event, v_event = c.event_ids[p_row], c.event_ids[v_row]
            tick = c.instruments[i].tick_size
            if c.vendor in who:
                result = rules.divergence(check, v_quote, p_quote, tick, True, verdict, (v_event, p_event))
                self._add("vendor_divergence", v_row, day, result)
            if PRIMARY in who:
                result = rules.divergence(check, p_quote, v_quote, tick, True, verdict, (p_event, v_event))
                self._add("vendor_divergence", p_row, day, result)
        for leg, other in ((primary, vendor), (vendor, primary)):
            self._count("stale", leg.has & self.has_check["stale"])
            self._count("spike", leg.scored)
            self._judged(leg, other)
        self._missing()
        self.found.sort(key=lambda entry: entry[0])
        return Backfill(
            failures=tuple(result for _, result in self.found),
            evaluated=self.evaluated,
            failed=self.failed,
            rounds=rounds,
            divergent=len(divergent),
            scalar_curve=self.scalar_curve,
            mean_abs_fallbacks=self.mean_abs_fallbacks,
        )

    def _judged(self, leg: _Leg, other: _Leg) -> None:
        """The failing stale and spike results of one vendor's prices."""
        c = self.c
        for rule, failing in (("stale", leg.stale), ("spike", leg.spike)):
            for i, day in zip(*np.nonzero(failing), strict=True):
                check = self.sel[rule][i]
                assert check is not None
                row = int(leg.row[i, day])
                quote = c.quotes[row]
                evidence = self._evidence(leg, int(i), int(day))
                if rule == "stale":
                    other_row = int(other.row[i, day])
                    other_quote = c.quotes[other_row] if other_row >= 0 else None
                    result = rules.stale(check, quote, evidence, other_quote, c.event_ids[row])
                else:
                    good_row = int(leg.row[i, leg.last_good[i, day]])
                    spiked = rules.spike(
                        check,
                        quote,
                        evidence,
                        c.quotes[good_row].price,
                        _none(float(self.peer_median[i, day])),
                        float(self.factor[i, day]),
                        c.event_ids[row],
                    )
                    assert spiked is not None
                    result = spiked
                self._add(rule, row, int(day), result)

    def _missing(self) -> None:
        """Held instruments without a primary price at a day end."""
        c = self.c
        primary = self.primary
        held = c.held & c.day_end[None, :] & self.has_check["missing"]
        self._count("missing", held)
        before = primary.published_before
        days_without = np.where(primary.has, 0, np.where(before >= 0, self.days - before, 1))
        threshold = _per_instrument(self.sel["missing"], "days").astype(np.int64)[:, None]
        _, good_through = _last(self.accepted_p, self.days)
        for i, day in zip(*np.nonzero(held & (days_without >= threshold)), strict=True):
            check = self.sel["missing"][i]
            assert check is not None
            good = int(good_through[i, day])
            last_good = c.quotes[int(primary.row[i, good])].price if good >= 0 else None
            result = rules.missing(
                check, c.instruments[i].instrument_id, c.dates[day], int(days_without[i, day]), last_good, ()
            )
            self._add("missing", -1, int(day), result)
