"""FX publication: the three primary pairs as given, exact crosses, and distorted crosses as faults."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest

from services.market.sim.faults import FaultBook
from services.market.sim.fx import FxPublisher, cross_rate
from services.market.sim.records import FaultKind, FaultRequest, FaultStatus
from services.market.sim.rng import py_stream

DAY = dt.date(2020, 3, 2)
FX = {"EURUSD": Decimal("1.1000"), "GBPUSD": Decimal("1.3000"), "USDJPY": Decimal("108.50")}
# Exact crosses: 1.1 / 1.3 = 0.846153846... -> 0.846154; 1.1 x 108.5 = 119.35; 1.3 x 108.5 = 141.05.
CROSSES = {"EURGBP": Decimal("0.846154"), "EURJPY": Decimal("119.35"), "GBPJPY": Decimal("141.05")}


def test_a_cross_exactly_halfway_rounds_to_even() -> None:
    # 1.0001 / 1.6 = 0.62506250 exactly: halfway between 0.625062 and 0.625063 -> the even 0.625062.
    primary = {"EURUSD": Decimal("1.0001"), "GBPUSD": Decimal("1.6000"), "USDJPY": Decimal("100.00")}
    assert cross_rate("EURGBP", primary) == Decimal("0.625062")
    # 1.0003 / 1.6 = 0.62518750: halfway between 0.625187 and 0.625188 -> the even 0.625188.
    primary["EURUSD"] = Decimal("1.0003")
    assert cross_rate("EURGBP", primary) == Decimal("0.625188")


@pytest.mark.parametrize("pair", ["EURUSD", "USDEUR", "GBPEUR", ""])
def test_only_the_three_crosses_are_derived(pair: str) -> None:
    with pytest.raises(ValueError, match=rf"currency_pair: '{pair}' is not one of EURGBP, EURJPY, GBPJPY"):
        cross_rate(pair, FX)


def test_without_faults_the_six_rates_are_the_primaries_then_the_exact_crosses() -> None:
    quotes = FxPublisher(1, FaultBook(0.0)).quotes(DAY, FX)
    assert [(q.base_currency, q.quote_currency, q.rate, q.vendor, q.rate_date) for q, _ in quotes] == [
        ("EUR", "USD", Decimal("1.1000"), "primary", DAY),
        ("GBP", "USD", Decimal("1.3000"), "primary", DAY),
        ("USD", "JPY", Decimal("108.50"), "primary", DAY),
        ("EUR", "GBP", CROSSES["EURGBP"], "cross", DAY),
        ("EUR", "JPY", CROSSES["EURJPY"], "cross", DAY),
        ("GBP", "JPY", CROSSES["GBPJPY"], "cross", DAY),
    ]
    assert all(fault is None for _, fault in quotes)


def _distortion(published: Decimal, pair: str) -> Decimal:
    return published / CROSSES[pair] - 1


def test_a_certain_seeded_fault_distorts_every_cross_by_half_to_three_percent() -> None:
    # The seeded rate 0.004 per cross-day times 250 is 1: every cross, every day, is distorted.
    book = FaultBook(250.0)
    publisher = FxPublisher(3, book)
    directions = set()
    for offset in range(10):
        day = DAY + dt.timedelta(days=offset)
        crosses = publisher.quotes(day, FX)[3:]
        for quote, fault in crosses:
            assert fault is not None and fault.kind is FaultKind.FX_CROSS_INCONSISTENT
            assert not fault.on_demand and fault.status is FaultStatus.APPLIED
            assert fault.applied_date == day and fault.currency_pair == quote.pair
            # 0.5 % to 3 % either way; the published rate is rounded to 1e-6, worth < 1.2e-6 relatively.
            size = abs(_distortion(quote.rate, quote.pair))
            assert Decimal("0.005") - Decimal("1.2e-6") <= size <= Decimal("0.03") + Decimal("1.2e-6")
            assert quote.rate == quote.rate.quantize(Decimal("0.000001"))
            assert fault.description.startswith(
                f"{quote.pair} published at {quote.rate} instead of {CROSSES[quote.pair].quantize(Decimal('0.000001'))} ("
            )
            # The description's percentage is the distortion, to 2 decimals: published / exact - 1
            # is the factor to within 1e-6 relative, so the two agree to 0.005 + 1e-4 points.
            percent = float(re.search(r"\(([+-]\d+\.\d\d)%\)$", fault.description).group(1))
            assert percent == pytest.approx(float(_distortion(quote.rate, quote.pair)) * 100, abs=0.0052)
            directions.add(quote.rate > CROSSES[quote.pair])
    assert directions == {True, False}  # 30 coin flips: both directions
    assert len(book.records()) == 30


def test_an_on_demand_fault_for_a_named_cross_distorts_only_that_cross() -> None:
    book = FaultBook(0.0)
    requested = book.request(FaultRequest(FaultKind.FX_CROSS_INCONSISTENT, currency_pair="EURJPY"))
    quotes = FxPublisher(5, book).quotes(DAY, FX)
    by_pair = {quote.pair: (quote, fault) for quote, fault in quotes}
    quote, fault = by_pair["EURJPY"]
    assert fault is requested and fault.status is FaultStatus.APPLIED and fault.applied_date == DAY
    assert Decimal("0.005") <= abs(_distortion(quote.rate, "EURJPY")) <= Decimal("0.03")
    assert by_pair["EURGBP"] == (by_pair["EURGBP"][0], None)
    assert by_pair["EURGBP"][0].rate == CROSSES["EURGBP"]
    assert by_pair["GBPJPY"][0].rate == CROSSES["GBPJPY"] and by_pair["GBPJPY"][1] is None
    assert book.pending([FaultKind.FX_CROSS_INCONSISTENT]) == []


def test_unnamed_on_demand_faults_take_one_free_cross_each_and_the_rest_wait() -> None:
    book = FaultBook(0.0)
    named = book.request(FaultRequest(FaultKind.FX_CROSS_INCONSISTENT, currency_pair="GBPJPY"))
    unnamed = [book.request(FaultRequest(FaultKind.FX_CROSS_INCONSISTENT)) for _ in range(3)]
    quotes = FxPublisher(5, book).quotes(DAY, FX)
    faults = {quote.pair: fault for quote, fault in quotes[3:]}
    # GBPJPY is the named one's; two of the unnamed take EURGBP and EURJPY; the third finds no
    # free cross today and stays pending for tomorrow.
    assert faults["GBPJPY"] is named
    assert {faults["EURGBP"].fault_id, faults["EURJPY"].fault_id} == {f.fault_id for f in unnamed[:2]}
    assert book.pending([FaultKind.FX_CROSS_INCONSISTENT]) == [unnamed[2]]
    assert all(quote.rate != CROSSES[quote.pair] for quote, _ in quotes[3:])
    tomorrow = FxPublisher(5, book).quotes(DAY + dt.timedelta(days=1), FX)
    assert [fault for _, fault in tomorrow[3:] if fault is not None] == [unnamed[2]]


def test_two_requests_for_the_same_cross_take_two_days() -> None:
    book = FaultBook(0.0)
    first, second = (
        book.request(FaultRequest(FaultKind.FX_CROSS_INCONSISTENT, currency_pair="EURGBP")) for _ in range(2)
    )
    publisher = FxPublisher(5, book)
    assert [f for _, f in publisher.quotes(DAY, FX) if f is not None] == [first]
    assert [f for _, f in publisher.quotes(DAY + dt.timedelta(days=1), FX) if f is not None] == [second]


def test_seeded_faults_do_not_move_when_faults_are_injected() -> None:
    # Rate 100: each cross is distorted with probability 0.4. One publisher also serves an
    # on-demand EURGBP fault every day; the seeded draws of the others must not shift.
    plain = FxPublisher(9, FaultBook(100.0))
    injected_book = FaultBook(100.0)
    injected = FxPublisher(9, injected_book)
    seeded_days = 0
    for offset in range(15):
        day = DAY + dt.timedelta(days=offset)
        injected_book.request(FaultRequest(FaultKind.FX_CROSS_INCONSISTENT, currency_pair="EURGBP"))
        a = plain.quotes(day, FX)
        b = injected.quotes(day, FX)
        assert [q for q, _ in a[4:]] == [q for q, _ in b[4:]]  # EURJPY and GBPJPY
        assert b[3][1] is not None and b[3][1].on_demand
        seeded_days += sum(f is not None for _, f in a[4:])
    assert 0 < seeded_days < 30


def _expected_published(pair: str, size: float, direction: float) -> Decimal:
    factor = 1 + size if direction < 0.5 else 1 - size
    return CROSSES[pair] * Decimal(factor)


def test_seeded_decisions_follow_the_fx_faults_stream_three_draws_a_cross_a_day() -> None:
    # A restart replays the world from its seed (docs/design-notes.md, "Restart"), so which cross is
    # distorted, by how much and which way comes from the "fx.faults" stream: per day, per cross in
    # EURGBP, EURJPY, GBPJPY order, a chance, a size in [0.5 %, 3 %] and a direction (up below 0.5).
    for seed in (9, 10):
        reference = py_stream(seed, "fx.faults")
        publisher = FxPublisher(seed, FaultBook(100.0))  # each cross distorted with probability 0.4
        for offset in range(6):
            quotes = publisher.quotes(DAY + dt.timedelta(days=offset), FX)[3:]
            for quote, fault in quotes:
                chance, size, direction = (
                    reference.random(),
                    reference.uniform(0.005, 0.03),
                    reference.random(),
                )
                assert (fault is not None) == (chance < 0.4)
                if fault is not None:
                    expected = _expected_published(quote.pair, size, direction)
                    assert abs(quote.rate - expected) <= expected * Decimal("2e-6")


def test_an_unnamed_request_draws_its_cross_and_distortion_from_the_on_demand_stream() -> None:
    for seed in (9, 10, 11):
        reference = py_stream(seed, "fx.on_demand")
        pair = ("EURGBP", "EURJPY", "GBPJPY")[reference.randrange(3)]
        size, direction = reference.uniform(0.005, 0.03), reference.random()
        book = FaultBook(0.0)
        fault = book.request(FaultRequest(FaultKind.FX_CROSS_INCONSISTENT))
        quotes = {q.pair: (q, f) for q, f in FxPublisher(seed, book).quotes(DAY, FX)[3:]}
        quote, applied = quotes[pair]
        assert applied is fault
        expected = _expected_published(pair, size, direction)
        assert abs(quote.rate - expected) <= expected * Decimal("2e-6")
