"""The backfill (services/dq/domain/backfill.py) raises exactly the failing results the per-event
path (PriceChecks, event by event) raises, over simulated years with many faults: the March 2020
crisis at 30 times market's fault rate, 2008 (Lehman) at 10 times, and a year tampered with to reach
what the simulation never does (zero and off-tick prices, missing quotes of either vendor, held
instruments without a price, a peer group whose prices stand still long enough for the MAD to be
zero). Same check ids, subjects, vendors, value dates, observed and reference values, messages and
evidence; the floats computed from logarithms to 1e-12; and the same number of results (passing
ones too) per check.
"""

from __future__ import annotations

import collections
import dataclasses
import datetime as dt
import functools
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal

import pytest

from services.common.market_events import DayEnd, Instrument, MarketEvent, PriceQuote
from services.common.nav.book import ReportingBook
from services.dq.domain import backfill, curve
from services.dq.domain.config import CheckSet, load_checks
from services.dq.domain.curve import CreditSpread
from services.dq.domain.results import PRIMARY, CheckResult
from services.market.fred import load_macro
from services.market.sim.engine import SimConfig, Simulation

FLOAT_TOLERANCE = 1e-12


@dataclasses.dataclass(frozen=True)
class Year:
    instruments: tuple[Instrument, ...]
    events: tuple[MarketEvent, ...]
    held: Mapping[dt.date, frozenset[str]]


@functools.lru_cache(maxsize=4)
def _year(seed: int, start: dt.date, days: int, fault_rate: float) -> Year:
    sim = Simulation(SimConfig(seed=seed, start=start, days=days, fault_rate=fault_rate), load_macro(start))
    events: list[MarketEvent] = []
    while (result := sim.step()) is not None:
        events += result.events
    book = ReportingBook(sim.mandates, sim.instruments)
    held: dict[dt.date, frozenset[str]] = {}
    for event in events:
        ends = book.apply(event)
        if ends:
            held[ends[0].date] = frozenset(iid for end in ends for iid, q in end.positions.items() if q)
    return Year(tuple(sim.instruments), tuple(events), held)


def _close(a: float, b: float) -> bool:
    return a == b or abs(a - b) <= FLOAT_TOLERANCE * max(1.0, abs(a), abs(b))


def _identity(result: CheckResult) -> tuple[object, ...]:
    return (result.value_date, result.check_id, result.subject, result.vendor, result.caused_by)


def _assert_same(ours: Iterable[CheckResult], theirs: Iterable[CheckResult]) -> None:
    mine, reference = sorted(ours, key=_identity), sorted(theirs, key=_identity)
    assert [_identity(r) for r in mine] == [_identity(r) for r in reference]
    for got, want in zip(mine, reference, strict=True):
        exact = dataclasses.replace(got, deviation=want.deviation, statistics=want.statistics)
        assert exact == want, f"{got}\n  !=\n{want}"
        assert _close(got.deviation, want.deviation), (got.deviation, want.deviation, want.message)
        assert got.statistics.keys() == want.statistics.keys()
        for name, value in want.statistics.items():
            assert _close(got.statistics[name], value), (name, got.statistics[name], value, want.message)


def _check(checks: CheckSet, columns: backfill.PriceColumns) -> tuple[backfill.Backfill, backfill.Backfill]:
    reference = backfill.per_event(checks, columns)
    got = backfill.backfill(checks, columns)
    assert got.fallback == "", got.fallback
    _assert_same(got.failures, reference.failures)
    assert dict(got.evaluated) == dict(reference.evaluated)
    assert dict(got.failed) == dict(reference.failed)
    return got, reference


def _failing_rules(results: Iterable[CheckResult]) -> collections.Counter[str]:
    return collections.Counter(r.rule for r in results)


def test_a_crisis_year_with_thirty_times_the_faults() -> None:
    year = _year(11, dt.date(2020, 2, 3), 252, 30.0)
    columns = backfill.price_columns(year.events, year.instruments, year.held)
    got, reference = _check(load_checks(), columns)
    rules = _failing_rules(reference.failures)
    assert rules["vendor_divergence"] > 500 and rules["stale"] > 300 and rules["spike"] > 50
    assert rules["vs_curve"] > 5
    verdicts = collections.Counter(
        "both" if "both quarantined" in r.message else r.vendor
        for r in reference.failures
        if r.rule == "vendor_divergence"
    )
    assert verdicts[PRIMARY] > 20 and verdicts["vendor_b"] > 300 and verdicts["both"] > 10, verdicts
    assert got.divergent > 500 and got.rounds >= 1
    assert any(r.vendor == PRIMARY and r.rule == "spike" for r in reference.failures)


def test_2008_with_ten_times_the_faults() -> None:
    year = _year(5, dt.date(2008, 1, 2), 252, 10.0)
    columns = backfill.price_columns(year.events, year.instruments, year.held)
    assert any(r is not None and r.regime == "crisis" and r.date.month == 10 for r in columns.regimes)
    _, reference = _check(load_checks(), columns)
    rules = _failing_rules(reference.failures)
    assert rules["vendor_divergence"] > 100 and rules["stale"] > 50 and rules["spike"] > 10


def _tampered(year: Year) -> tuple[list[MarketEvent], dict[dt.date, frozenset[str]]]:
    """The year with what the simulation never publishes: a few zero and off-tick prices of both
    vendors, days without a primary (of a held instrument, too) or without vendor_b, and the JPY
    equities standing still for 40 business days."""
    instruments = {i.instrument_id: i for i in year.instruments}
    jpy = sorted(i for i, x in instruments.items() if x.currency == "JPY" and x.asset_class.value == "EQUITY")
    held_any = sorted({iid for ids in year.held.values() for iid in ids})
    dates = sorted({e.payload.price_date for e in year.events if isinstance(e.payload, PriceQuote)})
    flat_from, flat_to = dates[30], dates[70]
    frozen: dict[tuple[str, str], Decimal] = {}
    out: list[MarketEvent] = []
    for n, event in enumerate(year.events):
        quote = event.payload
        if not isinstance(quote, PriceQuote):
            out.append(event)
            continue
        iid, day = quote.instrument_id, dates.index(quote.price_date)
        tick = instruments[iid].tick_size
        price = quote.price
        if iid in jpy and flat_from <= quote.price_date <= flat_to:
            price = frozen.setdefault((iid, quote.vendor), price)
        if n % 997 == 0:
            price = Decimal(0)
        elif n % 1009 == 0:
            price = -price
        elif n % 503 == 0:
            price += tick / 2
        if quote.vendor == PRIMARY and (n % 211 == 0 or (iid == held_any[0] and day % 29 == 5)):
            continue  # no primary price that day (the held instrument's is missing)
        if quote.vendor != PRIMARY and n % 193 == 0:
            continue  # no vendor_b price that day
        out.append(dataclasses.replace(event, payload=dataclasses.replace(quote, price=price)))
    return out, dict(year.held)


def test_a_tampered_year_reaches_every_rule_and_fallback() -> None:
    year = _year(11, dt.date(2020, 2, 3), 252, 1.0)
    events, held = _tampered(year)
    columns = backfill.price_columns(events, year.instruments, held)
    got, reference = _check(load_checks(), columns)
    rules = _failing_rules(reference.failures)
    for rule in ("non_positive", "off_tick", "missing", "vendor_divergence", "stale", "spike"):
        assert rules[rule] > 0, (rule, rules)
    assert got.mean_abs_fallbacks > 0  # windows of the standing-still JPY equities


def _renamed(events: Iterable[MarketEvent], vendor: str, every: int) -> list[MarketEvent]:
    out = []
    for n, event in enumerate(events):
        quote = event.payload
        if isinstance(quote, PriceQuote) and quote.vendor != PRIMARY and n % every == 0:
            event = dataclasses.replace(event, payload=dataclasses.replace(quote, vendor=vendor))
        out.append(event)
    return out


def _late_primary(events: Iterable[MarketEvent]) -> list[MarketEvent]:
    """The first day's first primary price moved after that day's vendor quotes."""
    out = list(events)
    first = next(k for k, e in enumerate(out) if isinstance(e.payload, PriceQuote))
    end = next(k for k, e in enumerate(out) if isinstance(e.payload, DayEnd))
    out.insert(end - 1, out.pop(first))
    return out


@pytest.mark.parametrize(
    ("layout", "reason"),
    [(lambda e: _renamed(e, "vendor_c", 50), "more than one vendor"), (_late_primary, "after the day's")],
)
def test_layouts_the_backfill_does_not_handle_are_checked_per_event(
    layout: Callable[[list[MarketEvent]], list[MarketEvent]], reason: str
) -> None:
    year = _year(11, dt.date(2020, 2, 3), 252, 1.0)
    events = [
        e for e in year.events if isinstance(e.payload, PriceQuote | DayEnd) or e.kind == "market.regime"
    ]
    thirtieth_end = [k for k, e in enumerate(events) if isinstance(e.payload, DayEnd)][29]
    events = layout(events[: thirtieth_end + 1])
    columns = backfill.price_columns(events, year.instruments, year.held)
    assert reason in columns.unsupported
    got = backfill.backfill(load_checks(), columns)
    assert got.fallback == columns.unsupported
    reference = backfill.per_event(load_checks(), dataclasses.replace(columns, unsupported=""))
    _assert_same(got.failures, reference.failures)


def test_the_float_curve_prices_round_as_the_rule_does() -> None:
    """The guard (a price within 1e-6 of a half tick goes to rules.vs_curve) is far wider than the
    float curve prices' error against curve.clean_price."""
    checks = load_checks()
    year = _year(11, dt.date(2020, 2, 3), 252, 30.0)
    columns = backfill.price_columns(year.events, year.instruments, year.held)
    state = backfill._Year(checks, columns)  # the float prices are internal: read them after a run
    state.run()
    assert state.curve_model is not None
    inst, days, model = state.curve_model
    multipliers: dict[str, list[float | None]] = {}
    for check in checks.of_rule(backfill.P, "vs_curve"):
        credit = CreditSpread(
            {r: check.threshold(f"spread_multiplier_{r}") for r in backfill._REGIMES},
            check.threshold("spread_adjustment_per_day"),
        )
        series: list[float | None] = []
        for regime in columns.regimes:
            if regime is not None:
                credit.observe(regime.regime)
            series.append(credit.multiplier)
        multipliers[check.check_id] = series
    worst = 0.0
    for i, day, price in zip(inst.tolist(), days.tolist(), model.tolist(), strict=True):
        bond, regime, check = columns.instruments[i], columns.regimes[day], state.sel["vs_curve"][i]
        assert bond.maturity is not None and bond.coupon_rate_pct is not None
        assert regime is not None and check is not None
        spread = bond.spread_bp * (multipliers[check.check_id][day] or 1.0) / 100.0
        ytm = curve.implied_yield_pct(regime.curve_pct, bond.maturity, columns.dates[day], spread)
        exact = curve.clean_price(
            columns.dates[day],
            bond.maturity,
            bond.coupon_rate_pct,
            bond.coupons_per_year,
            ytm,
            bond.day_count,
        )
        worst = max(worst, abs(exact - price) / float(bond.tick_size))
    assert len(model) > 2000
    assert worst < backfill.HALF_TICK_GUARD / 1000, worst
