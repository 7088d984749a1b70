"""The primary's bad prints (PRIMARY_PRICE_SPIKE): seeded draws, on-demand targets, and what the
world does with a price that only the published price.tick carries.

Draws (primary.py): each day n uniforms for the chance, n sizes U(0.08, 0.25) and n uniforms for
the sign (up below 0.5) from `np_stream(seed, "primary")`; an on-demand fault draws its target,
size and sign from `py_stream(seed, "primary.on_demand")`. Replaying those streams gives every
published price exactly.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import Counter
from decimal import Decimal

import pytest

from services.market.sim.desk import BOND_SLIPPAGE_TICKS, EQUITY_SLIPPAGE_TICKS
from services.market.sim.engine import SimConfig, Simulation
from services.market.sim.faults import SEEDED_RATES, FaultBook
from services.market.sim.macro import MacroHistory
from services.market.sim.prices import PriceModel, to_tick
from services.market.sim.primary import PrimaryPublisher
from services.market.sim.records import (
    AssetClass,
    FaultKind,
    FaultRequest,
    FaultStatus,
    Fill,
    Instrument,
    PriceQuote,
)
from services.market.sim.rng import np_stream, py_stream
from services.market.sim.universe import build_universe
from services.market.sim.vendor import SPIKE_RANGE
from tests.market.conftest import SYNTHETIC_START, Run, all_events, run, synthetic_history

K = FaultKind
DAY1, DAY2 = dt.date(2022, 5, 2), dt.date(2022, 5, 3)
FINE = Decimal("0.00000001")
PRICES = {"A": "100.00", "B": "250.00", "C": "40.00", "D": "12.50", "E": "75.00", "F": "310.00"}
INSTRUMENTS = {iid: Instrument(iid, iid, iid, AssetClass.EQUITY, "USD", "X", "US", FINE, 2) for iid in PRICES}
N = len(PRICES)


def _true(day: dt.date) -> list[PriceQuote]:
    return [PriceQuote(iid, Decimal(p), "USD", "primary", day) for iid, p in PRICES.items()]


def _draws(rng) -> dict[str, list]:
    return {
        "chance": rng.random(N).tolist(),
        "size": rng.uniform(0.08, 0.25, N).tolist(),
        "up": (rng.random(N) < 0.5).tolist(),
    }


def _spiked(price: Decimal, size: float, up: bool, tick: Decimal = FINE) -> tuple[Decimal, float]:
    factor = 1.0 + size if up else 1.0 - size
    return to_tick(float(price) * factor, tick), factor


# ---------------------------------------------------------------- the publisher alone


def test_with_no_fault_the_published_quotes_are_the_true_ones() -> None:
    quotes = PrimaryPublisher(7, FaultBook(0.0)).publish(DAY1, _true(DAY1), INSTRUMENTS)
    assert quotes == [(q, None) for q in _true(DAY1)]


def test_seeded_bad_prints_fire_below_their_probability_with_the_seeded_size_and_sign() -> None:
    """Rate 2500: 0.0002 x 2500 = 0.5. A quote is a bad print exactly when its chance draw is below
    0.5: the true price times 1 + size (sign draw below 0.5) or 1 - size, to the tick. The draws of
    the second day follow the first day's three arrays."""
    seed = 8
    rng = np_stream(seed, "primary")
    book = FaultBook(2500.0)
    publisher = PrimaryPublisher(seed, book)
    signs, clean = set(), 0
    for day in (DAY1, DAY2):
        draws = _draws(rng)
        quotes = publisher.publish(day, _true(day), INSTRUMENTS)
        for k, ((quote, fault), true) in enumerate(zip(quotes, _true(day), strict=True)):
            if draws["chance"][k] < 0.5:
                expected, factor = _spiked(true.price, draws["size"][k], draws["up"][k])
                signs.add(draws["up"][k])
                assert fault is not None and fault.kind is K.PRIMARY_PRICE_SPIKE and not fault.on_demand
                assert (fault.status, fault.applied_date, fault.instrument_id) == (
                    FaultStatus.APPLIED,
                    day,
                    true.instrument_id,
                )
                assert quote == dataclasses.replace(true, price=expected)
                assert fault.description == (
                    f"primary printed {true.instrument_id} at {expected} ({(factor - 1) * 100:+.1f}%); "
                    f"the true price is {true.price}"
                )
            else:
                clean += 1
                assert (quote, fault) == (true, None)
    assert signs == {True, False} and clean > 0


def test_a_bonds_bad_print_moves_its_clean_price_only_and_stays_on_its_tick() -> None:
    """A bond quote keeps its accrued interest and yield; the price is on the 0.001 tick."""
    tick = Decimal("0.001")
    bond = Instrument("B-1", "B 1", "B", AssetClass.CORPORATE_BOND, "USD", "Corporate Credit", "US", tick, 2)
    true = PriceQuote("B-1", Decimal("98.765"), "USD", "primary", DAY1, Decimal("1.23456789"), 4.25)
    book = FaultBook(0.0)
    fault = book.request(FaultRequest(K.PRIMARY_PRICE_SPIKE, instrument_id="B-1"))
    [(quote, carried)] = PrimaryPublisher(5, book).publish(DAY1, [true], {"B-1": bond})
    on_demand = py_stream(5, "primary.on_demand")
    expected, _ = _spiked(true.price, on_demand.uniform(*SPIKE_RANGE), on_demand.random() < 0.5, tick)
    assert carried is fault and quote == dataclasses.replace(true, price=expected)
    assert quote.price == quote.price.quantize(tick)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_a_requested_bad_print_takes_its_size_and_sign_from_the_on_demand_stream(seed: int) -> None:
    """A named request hits its instrument with on_demand.uniform(0.08, 0.25) and on_demand.random()
    < 0.5, drawn in that order; the other quotes stay true and the seeded draws are not shifted."""
    on_demand = py_stream(seed, "primary.on_demand")
    size, up = on_demand.uniform(0.08, 0.25), on_demand.random() < 0.5
    book = FaultBook(0.0)
    fault = book.request(FaultRequest(K.PRIMARY_PRICE_SPIKE, instrument_id="C"))
    quotes = PrimaryPublisher(seed, book).publish(DAY1, _true(DAY1), INSTRUMENTS)
    expected, factor = _spiked(Decimal("40.00"), size, up)
    assert quotes[2] == (dataclasses.replace(_true(DAY1)[2], price=expected), fault)
    assert fault.on_demand and fault.applied_date == DAY1 and fault.instrument_id == "C"
    assert (
        fault.description
        == f"primary printed C at {expected} ({(factor - 1) * 100:+.1f}%); the true price is 40.00"
    )
    assert [q for k, q in enumerate(quotes) if k != 2] == [
        (q, None) for k, q in enumerate(_true(DAY1)) if k != 2
    ]


def test_requested_bad_prints_draw_both_signs_over_the_seeds_above() -> None:
    signs = set()
    for seed in range(4):
        stream = py_stream(seed, "primary.on_demand")
        stream.uniform(0.08, 0.25)
        signs.add(stream.random() < 0.5)
    assert signs == {True, False}


def test_unnamed_requests_pick_free_instruments_with_the_on_demand_stream() -> None:
    seed = 9
    stream = py_stream(seed, "primary.on_demand")
    ids = list(PRICES)
    first_target = ids[stream.randrange(6)]
    rest = [i for i in ids if i != first_target]
    second_target = rest[stream.randrange(5)]
    book = FaultBook(0.0)
    first = book.request(FaultRequest(K.PRIMARY_PRICE_SPIKE))
    second = book.request(FaultRequest(K.PRIMARY_PRICE_SPIKE))
    quotes = PrimaryPublisher(seed, book).publish(DAY1, _true(DAY1), INSTRUMENTS)
    assert {iid: f for iid, (_, f) in zip(ids, quotes, strict=True) if f is not None} == {
        first_target: first,
        second_target: second,
    }
    for iid, (quote, fault) in zip(ids, quotes, strict=True):
        if fault is not None:
            size, up = stream.uniform(0.08, 0.25), stream.random() < 0.5
            assert quote.price == _spiked(Decimal(PRICES[iid]), size, up)[0]


def test_a_request_for_an_instrument_not_priced_today_or_already_taken_waits() -> None:
    """A named instrument that is not priced (a matured bond) keeps its fault pending, as does a
    second request for an instrument another request took today; the next day serves it."""
    book = FaultBook(0.0)
    publisher = PrimaryPublisher(3, book)
    gone = book.request(FaultRequest(K.PRIMARY_PRICE_SPIKE, instrument_id="GONE"))
    first = book.request(FaultRequest(K.PRIMARY_PRICE_SPIKE, instrument_id="A"))
    again = book.request(FaultRequest(K.PRIMARY_PRICE_SPIKE, instrument_id="A"))
    quotes = publisher.publish(DAY1, _true(DAY1), INSTRUMENTS)
    assert [f for _, f in quotes] == [first, None, None, None, None, None]
    assert book.pending([K.PRIMARY_PRICE_SPIKE]) == [gone, again]
    assert publisher.publish(DAY2, _true(DAY2), INSTRUMENTS)[0][1] is again
    assert gone.status is FaultStatus.PENDING


def test_over_many_days_the_seeded_rate_is_the_calibrated_one() -> None:
    """At fault rate 1, 0.02 % per instrument-day: 100 instruments over 5,000 days expect 100 bad
    prints (Poisson, sd 10); the seed's count sits well within a factor of 1.5 of it."""
    ids = [f"I{k:03d}" for k in range(100)]
    instruments = {
        i: Instrument(i, i, i, AssetClass.EQUITY, "USD", "X", "US", Decimal("0.01"), 2) for i in ids
    }
    book = FaultBook(1.0)
    publisher = PrimaryPublisher(21, book)
    day = dt.date(2000, 1, 3)
    for _ in range(5000):
        publisher.publish(day, [PriceQuote(i, Decimal(50), "USD", "primary", day) for i in ids], instruments)
        day += dt.timedelta(days=1)
    expected = SEEDED_RATES[K.PRIMARY_PRICE_SPIKE] * len(ids) * 5000
    assert expected == pytest.approx(100)
    assert expected / 1.5 < len(book.records()) < expected * 1.5


# ---------------------------------------------------------------- in the world


@pytest.fixture(scope="module")
def long_run() -> Run:
    """250 synthetic business days at ten times the seeded rates: 0.2 % per instrument-day."""
    history = synthetic_history(days=250)
    return run(SimConfig(seed=5, start=SYNTHETIC_START, days=250, fault_rate=10.0), history)


def _true_prices(history: MacroHistory, seed: int, days: int) -> dict[tuple[str, dt.date], PriceQuote]:
    """The true primary quotes of a run, replayed from the price model with the run's seed."""
    universe = build_universe(history.days[0].date, history.days[0].yields_pct)
    model = PriceModel(universe, seed)
    out = {}
    for macro_day in history.days[:days]:
        for quote in model.step(
            macro_day.date,
            macro_day.equity_drift_annual,
            macro_day.equity_vol_annual,
            macro_day.yields_pct,
            macro_day.regime,
            macro_day.risk_shock,
        ):
            out[quote.instrument_id, quote.price_date] = quote
    return out


def test_over_a_long_run_bad_prints_come_at_the_seeded_rate(long_run: Run) -> None:
    """0.0002 x 10 per instrument-day over about 54 x 250 instrument-days: about 27 expected."""
    instrument_days = sum(1 for e in all_events(long_run) if e.kind == "price.tick")
    bad = [f for f in long_run.sim.faults() if f.kind is K.PRIMARY_PRICE_SPIKE]
    expected = SEEDED_RATES[K.PRIMARY_PRICE_SPIKE] * 10 * instrument_days
    assert 20 < expected < 30
    assert expected / 2 < len(bad) < expected * 2
    assert all(f.status is FaultStatus.APPLIED and not f.on_demand and f.corrected_date is None for f in bad)
    assert len({f.instrument_id for f in bad}) > 10  # spread over the universe, bonds among them
    assert any(long_run.sim.instrument(f.instrument_id).maturity is not None for f in bad)


def test_only_the_published_tick_is_bad_and_vendor_b_shows_the_true_price(long_run: Run) -> None:
    """Each bad print: its one event is that day's price.tick of the instrument, the true price
    spiked by 8-25 % to the tick; vendor_b that day is within its noise of the true price (a vendor
    fault of its own aside); the next day's tick is the true price again (another bad print aside)."""
    history = synthetic_history(days=250)
    true = _true_prices(history, 5, 250)
    events = {e.event_id: e for e in all_events(long_run)}
    ticks = {
        (e.payload.instrument_id, e.payload.price_date): e for e in events.values() if e.kind == "price.tick"
    }
    vendor = {
        (e.payload.instrument_id, e.payload.price_date): e
        for e in events.values()
        if e.kind == "price.vendor"
    }
    bad = {
        (f.instrument_id, f.applied_date) for f in long_run.sim.faults() if f.kind is K.PRIMARY_PRICE_SPIKE
    }
    vendor_faulted = {
        (f.instrument_id, f.applied_date) for f in long_run.sim.faults() if f.kind.name.startswith("VENDOR_")
    }
    dates = [d.date for d in long_run.days]
    checked = 0
    for key, tick in ticks.items():
        if key not in bad:
            assert tick.payload == true[key]
    for fault in (f for f in long_run.sim.faults() if f.kind is K.PRIMARY_PRICE_SPIKE):
        key = (fault.instrument_id, fault.applied_date)
        (event_id,) = fault.event_ids
        assert events[event_id] is ticks[key]
        printed, real = ticks[key].payload.price, true[key].price
        assert ticks[key].payload == dataclasses.replace(true[key], price=printed)
        rounding = long_run.sim.instrument(fault.instrument_id).tick_size / real  # the print is on the tick
        assert Decimal("0.08") - rounding <= abs(printed / real - 1) <= Decimal("0.25") + rounding
        if key not in vendor_faulted:
            assert abs(vendor[key].payload.price / real - 1) < Decimal("0.0025")
            assert abs(printed / vendor[key].payload.price - 1) > Decimal("0.07")
        following = dates.index(fault.applied_date) + 1
        if following < len(dates):
            after = (fault.instrument_id, dates[following])
            if after in ticks and after not in bad:
                assert ticks[after].payload == true[after]
                checked += 1
    assert checked > 10


def _fills_on(result: Run, day: dt.date) -> list[Fill]:
    return [e.payload for e in all_events(result) if e.kind == "trade.fill" and e.payload.trade_date == day]


def test_the_desk_fills_at_the_true_price_on_a_bad_print_day_and_fees_accrue_on_the_published(
    synthetic: MacroHistory,
) -> None:
    """A clean run picks a day and an instrument the desk trades; the same run with a bad print of
    that instrument requested the day before fills exactly as the clean one (at the true price, not
    the print), while the day-end snapshot shows the print, and the next morning's fee accrual of a
    mandate holding the instrument is on a NAV with the print (the stream's NAV, fees.py)."""
    config = SimConfig(seed=3, start=SYNTHETIC_START, days=12, fault_rate=0.0)
    clean = run(config, synthetic)
    k = next(i for i in range(1, len(clean.days) - 1) if _fills_on(clean, clean.days[i].date))
    day = clean.days[k].date
    target = _fills_on(clean, day)[0]
    request = FaultRequest(K.PRIMARY_PRICE_SPIKE, instrument_id=target.instrument_id)
    hit = run(config, synthetic, injections={k: [request]})
    (fault,) = hit.sim.faults()
    assert (fault.instrument_id, fault.applied_date, fault.status) == (
        target.instrument_id,
        day,
        FaultStatus.APPLIED,
    )
    true = next(p for p in clean.days[k].snapshot.prices if p.instrument_id == target.instrument_id)
    printed = next(p for p in hit.days[k].snapshot.prices if p.instrument_id == target.instrument_id)
    assert Decimal("0.079") < abs(printed.price / true.price - 1) < Decimal("0.251")
    [tick] = [e for e in hit.days[k].events if e.event_id == fault.event_ids[0]]
    assert tick.kind == "price.tick" and tick.payload == printed
    assert _fills_on(hit, day) == _fills_on(clean, day)
    instrument = hit.sim.instrument(target.instrument_id)
    span = (BOND_SLIPPAGE_TICKS if instrument.maturity else EQUITY_SLIPPAGE_TICKS) * instrument.tick_size
    for fill in (f for f in _fills_on(hit, day) if f.instrument_id == target.instrument_id):
        assert abs(fill.price - true.price) <= span < abs(fill.price - printed.price)
    # Each fill of the instrument still names that day's tick as its cause: the event that priced it,
    # though the price it published is the print and the fill is at the true price.
    fill_events = [
        e
        for e in hit.days[k].events
        if e.kind == "trade.fill" and e.payload.instrument_id == target.instrument_id
    ]
    assert fill_events and all(e.caused_by == (tick.event_id,) for e in fill_events)
    assert hit.days[k].snapshot.internal_books == clean.days[k].snapshot.internal_books
    assert [p for p in hit.days[k].snapshot.prices if p != printed] == [
        p for p in clean.days[k].snapshot.prices if p != true
    ]
    # The next day is true again, and its fees accrued on yesterday's published NAV: the NAV of
    # exactly the mandates that held the instrument at that day end moved.
    assert hit.days[k + 1].snapshot.prices == clean.days[k + 1].snapshot.prices
    holders = {
        b.mandate_id for b in hit.days[k].snapshot.internal_books if b.positions.get(target.instrument_id)
    }
    assert holders

    def fee_navs(result: Run) -> dict[str, Decimal]:
        return {
            e.mandate_id: e.payload.nav_basis for e in result.days[k + 1].events if e.kind == "fee.accrued"
        }

    clean_navs, hit_navs = fee_navs(clean), fee_navs(hit)
    assert {m for m in clean_navs if clean_navs[m] != hit_navs[m]} == holders


def test_the_same_seed_gives_the_same_events_with_bad_prints(synthetic: MacroHistory) -> None:
    config = SimConfig(seed=13, start=SYNTHETIC_START, days=40, fault_rate=20.0)
    first, second = run(config, synthetic), run(config, synthetic)
    assert [e for d in first.days for e in d.events] == [e for d in second.days for e in d.events]
    assert first.sim.faults() == second.sim.faults()
    assert Counter(f.kind for f in first.sim.faults())[K.PRIMARY_PRICE_SPIKE] > 0


def test_a_bad_print_can_be_requested_with_an_instrument_but_no_mandate(synthetic: MacroHistory) -> None:
    sim = Simulation(SimConfig(seed=3, start=SYNTHETIC_START, days=2), synthetic)
    with pytest.raises(
        ValueError, match=r"^mandate_id: not used by PRIMARY_PRICE_SPIKE; give instrument_id or nothing$"
    ):
        sim.inject(FaultRequest(K.PRIMARY_PRICE_SPIKE, mandate_id="BAL-USD", instrument_id="US-NWSF"))
    with pytest.raises(ValueError, match=r"^instrument_id: unknown instrument 'XX-NONE'$"):
        sim.inject(FaultRequest(K.PRIMARY_PRICE_SPIKE, instrument_id="XX-NONE"))
    with pytest.raises(ValueError, match=r"^currency_pair: "):
        sim.inject(FaultRequest(K.PRIMARY_PRICE_SPIKE, currency_pair="EURGBP"))
    assert sim.inject(FaultRequest(K.PRIMARY_PRICE_SPIKE)).status is FaultStatus.PENDING
