"""vendor_b's quotes against its seeded draws, replayed from identically seeded generators.

Each day the vendor draws, in this order and whatever happens, from `np_stream(seed, "vendor")`:
n normals N(0, 3 bp), n uniforms for staleness, n for spikes, n spike sizes U(0.08, 0.25) and n
uniforms for the spike's sign (up when below 0.5), n being the number of primary quotes. On-demand
faults draw from `py_stream(seed, "vendor.on_demand")`: a randrange to pick an unnamed target, then
for each on-demand spike, in quote order, its size and its sign. Replaying those streams gives every
published price exactly; a 1e-8 tick keeps the noise visible (3 bp of 100 is 0.03, far above it).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from services.market.sim.faults import FaultBook
from services.market.sim.prices import to_tick
from services.market.sim.records import (
    AssetClass,
    FaultKind,
    FaultRequest,
    FaultStatus,
    Instrument,
    PriceQuote,
)
from services.market.sim.rng import np_stream, py_stream
from services.market.sim.vendor import SecondVendor

DAY1, DAY2 = dt.date(2022, 5, 2), dt.date(2022, 5, 3)
FINE = Decimal("0.00000001")
PRICES = {"A": "100.00", "B": "250.00", "C": "40.00", "D": "12.50", "E": "75.00", "F": "310.00"}
INSTRUMENTS = {iid: Instrument(iid, iid, iid, AssetClass.EQUITY, "USD", "X", "US", FINE, 2) for iid in PRICES}
N = len(PRICES)


def _primary(day: dt.date, bump: str = "0") -> list[PriceQuote]:
    return [PriceQuote(iid, Decimal(p) + Decimal(bump), "USD", "primary", day) for iid, p in PRICES.items()]


def _draws(rng) -> dict[str, list]:
    return {
        "noise": rng.normal(0.0, 0.0003, N).tolist(),
        "stale": rng.random(N).tolist(),
        "spike": rng.random(N).tolist(),
        "size": rng.uniform(0.08, 0.25, N).tolist(),
        "up": (rng.random(N) < 0.5).tolist(),
    }


def _spiked(price: Decimal, size: float, up: bool) -> tuple[Decimal, float]:
    factor = 1.0 + size if up else 1.0 - size
    return to_tick(float(price) * factor, FINE), factor


def test_clean_quotes_are_the_primary_times_one_plus_the_seeded_noise_on_every_day() -> None:
    """The noise is N(0, 3 bp) of the primary and each day uses a fresh set of five draws per quote:
    the second day's noise comes after the first day's five arrays, so drawing fewer or more of any
    array, or a different scale, shifts the prices."""
    rng = np_stream(7, "vendor")
    vendor = SecondVendor(7, FaultBook(0.0))
    for day in (DAY1, DAY2):
        draws = _draws(rng)
        quotes = vendor.quotes(day, _primary(day), INSTRUMENTS)
        for k, ((quote, fault), primary) in enumerate(zip(quotes, _primary(day), strict=True)):
            assert fault is None
            assert quote.price == to_tick(float(primary.price) * (1.0 + draws["noise"][k]), FINE)
            assert quote.price != primary.price  # the noise is visible at this tick


def test_seeded_spikes_fire_below_their_probability_with_the_seeded_size_and_sign() -> None:
    """Rate 1000: a spike's probability is 0.0005 x 1000 = 0.5 and staleness 0.002 x 1000 = 2, capped at 1.
    On the first day nothing has a previous vendor_b price, so staleness cannot fire, and an instrument
    spikes exactly when its spike draw is below 0.5: by 1 + size when its sign draw is below 0.5, else
    by 1 - size."""
    seed = 8
    draws = _draws(np_stream(seed, "vendor"))
    book = FaultBook(1000.0)
    quotes = SecondVendor(seed, book).quotes(DAY1, _primary(DAY1), INSTRUMENTS)
    signs = set()
    for k, ((quote, fault), primary) in enumerate(zip(quotes, _primary(DAY1), strict=True)):
        if draws["spike"][k] < 0.5:
            expected, factor = _spiked(primary.price, draws["size"][k], draws["up"][k])
            signs.add(draws["up"][k])
            assert fault is not None and fault.kind is FaultKind.VENDOR_PRICE_SPIKE and not fault.on_demand
            assert (fault.status, fault.applied_date, fault.instrument_id) == (
                FaultStatus.APPLIED,
                DAY1,
                primary.instrument_id,
            )
            assert quote.price == expected
            assert fault.description == (
                f"vendor_b spiked {primary.instrument_id} to {expected} ({(factor - 1) * 100:+.1f}%); "
                f"primary is {primary.price}"
            )
        else:
            assert fault is None
            assert quote.price == to_tick(float(primary.price) * (1.0 + draws["noise"][k]), FINE)
    assert signs == {True, False}  # this seed has spikes both up and down and quotes that do not spike
    assert any(f is None for _, f in quotes)


def test_seeded_staleness_comes_before_a_spike_and_each_fires_below_its_probability() -> None:
    """Rate 250: staleness 0.002 x 250 = 0.5, spikes 0.0005 x 250 = 0.125. On the second day an
    instrument is stale when its stale draw is below 0.5 (whatever its spike draw), otherwise it
    spikes when its spike draw is below 0.125. The seed gives stale, spiked and clean quotes."""
    seed = 12
    rng = np_stream(seed, "vendor")
    book = FaultBook(250.0)
    vendor = SecondVendor(seed, book)
    first_draws = _draws(rng)
    first = vendor.quotes(DAY1, _primary(DAY1), INSTRUMENTS)
    draws = _draws(rng)
    second = vendor.quotes(DAY2, _primary(DAY2, bump="1"), INSTRUMENTS)
    kinds = []
    for k, ((quote, fault), primary, (before, _)) in enumerate(
        zip(second, _primary(DAY2, bump="1"), first, strict=True)
    ):
        if draws["stale"][k] < 0.5:
            kinds.append("stale")
            assert fault is not None and fault.kind is FaultKind.VENDOR_STALE_PRICE
            assert quote.price == before.price and quote.price_date == DAY2
        elif draws["spike"][k] < 0.125:
            kinds.append("spike")
            assert fault is not None and fault.kind is FaultKind.VENDOR_PRICE_SPIKE
            assert quote.price == _spiked(primary.price, draws["size"][k], draws["up"][k])[0]
        else:
            kinds.append("clean")
            assert fault is None
            assert quote.price == to_tick(float(primary.price) * (1.0 + draws["noise"][k]), FINE)
    assert set(kinds) == {"stale", "spike", "clean"}
    # The first day, with no history, had no stale quote even where its stale draw was below 0.5.
    assert any(d < 0.5 for d in first_draws["stale"])
    assert all(f is None or f.kind is FaultKind.VENDOR_PRICE_SPIKE for _, f in first)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_a_requested_spike_takes_its_size_and_sign_from_the_on_demand_stream(seed: int) -> None:
    """A requested spike must not use the seeded spike draws (those stay fixed per quote, so seeded
    outcomes never depend on injections): its size is on_demand.uniform(0.08, 0.25), its sign
    on_demand.random() < 0.5, drawn in that order."""
    on_demand = py_stream(seed, "vendor.on_demand")
    size, up = on_demand.uniform(0.08, 0.25), on_demand.random() < 0.5
    book = FaultBook(0.0)
    fault = book.request(FaultRequest(FaultKind.VENDOR_PRICE_SPIKE, instrument_id="C"))
    quotes = SecondVendor(seed, book).quotes(DAY1, _primary(DAY1), INSTRUMENTS)
    expected, factor = _spiked(Decimal("40.00"), size, up)
    assert quotes[2] == (quotes[2][0], fault)
    assert quotes[2][0].price == expected
    assert (
        fault.description == f"vendor_b spiked C to {expected} ({(factor - 1) * 100:+.1f}%); primary is 40.00"
    )
    # The other quotes keep their seeded noise: the injection shifted none of the vendor's draws.
    noise = _draws(np_stream(seed, "vendor"))["noise"]
    for k in (0, 1, 3, 4, 5):
        assert quotes[k][1] is None
        assert quotes[k][0].price == to_tick(float(_primary(DAY1)[k].price) * (1.0 + noise[k]), FINE)


def test_requested_spikes_draw_both_signs_over_a_few_seeds() -> None:
    """The parametrised seeds above must cover an up and a down spike, or a sign mix-up could pass."""
    signs = set()
    for seed in range(4):
        stream = py_stream(seed, "vendor.on_demand")
        stream.uniform(0.08, 0.25)
        signs.add(stream.random() < 0.5)
    assert signs == {True, False}


def test_unnamed_requests_pick_their_targets_with_the_on_demand_stream() -> None:
    """Unnamed requests choose uniformly among the instruments not yet taken, in request order:
    the first among all six, the second among the five left. Their sizes and signs are then drawn
    in quote order."""
    seed = 9
    stream = py_stream(seed, "vendor.on_demand")
    ids = list(PRICES)
    first_target = ids[stream.randrange(6)]
    rest = [i for i in ids if i != first_target]
    second_target = rest[stream.randrange(5)]
    book = FaultBook(0.0)
    first = book.request(FaultRequest(FaultKind.VENDOR_PRICE_SPIKE))
    second = book.request(FaultRequest(FaultKind.VENDOR_PRICE_SPIKE))
    quotes = SecondVendor(seed, book).quotes(DAY1, _primary(DAY1), INSTRUMENTS)
    assert {iid: f for iid, (_, f) in zip(ids, quotes, strict=True) if f is not None} == {
        first_target: first,
        second_target: second,
    }
    for iid, (quote, fault) in zip(ids, quotes, strict=True):
        if fault is not None:
            size, up = stream.uniform(0.08, 0.25), stream.random() < 0.5
            assert quote.price == _spiked(Decimal(PRICES[iid]), size, up)[0]
            assert fault.instrument_id == iid


def test_a_second_request_for_a_taken_instrument_waits_for_the_next_day() -> None:
    """One fault per instrument a day: a named request for an instrument another fault already took
    waits, and an unnamed stale request takes only an instrument that is still free."""
    book = FaultBook(0.0)
    vendor = SecondVendor(3, book)
    vendor.quotes(DAY1, _primary(DAY1), INSTRUMENTS)  # every instrument has a vendor_b price now
    named = book.request(FaultRequest(FaultKind.VENDOR_STALE_PRICE, instrument_id="A"))
    again = book.request(FaultRequest(FaultKind.VENDOR_PRICE_SPIKE, instrument_id="A"))
    quotes = vendor.quotes(DAY2, _primary(DAY2), INSTRUMENTS)
    assert quotes[0][1] is named
    assert all(f is None for _, f in quotes[1:])
    assert book.pending([FaultKind.VENDOR_PRICE_SPIKE]) == [again]


def test_an_unnamed_stale_request_never_takes_an_instrument_already_taken_today() -> None:
    """Only A has a previous price, and a named spike takes A first: the stale request finds no free
    instrument with history and waits (it must not land on A, nor on one without history)."""
    book = FaultBook(0.0)
    vendor = SecondVendor(3, book)
    vendor.quotes(DAY1, _primary(DAY1)[:1], INSTRUMENTS)
    spike = book.request(FaultRequest(FaultKind.VENDOR_PRICE_SPIKE, instrument_id="A"))
    stale = book.request(FaultRequest(FaultKind.VENDOR_STALE_PRICE))
    quotes = vendor.quotes(DAY2, _primary(DAY2), INSTRUMENTS)
    assert [f for _, f in quotes] == [spike, None, None, None, None, None]
    assert book.pending([FaultKind.VENDOR_STALE_PRICE]) == [stale]
