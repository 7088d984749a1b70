"""The second vendor: the primary price plus a few bp of noise, or a stale or spiked price as a fault."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from services.market.sim.faults import FaultBook
from services.market.sim.records import (
    AssetClass,
    FaultKind,
    FaultRequest,
    FaultStatus,
    Instrument,
    PriceQuote,
)
from services.market.sim.vendor import SecondVendor

DAY1, DAY2, DAY3 = dt.date(2020, 3, 2), dt.date(2020, 3, 3), dt.date(2020, 3, 4)


def _instrument(instrument_id: str, currency: str, tick: str, asset_class=AssetClass.EQUITY) -> Instrument:
    return Instrument(
        instrument_id, instrument_id, instrument_id, asset_class, currency, "X", "US", Decimal(tick), 2
    )


INSTRUMENTS = {
    "A": _instrument("A", "USD", "0.01"),
    "J": _instrument("J", "JPY", "1"),
    "B": _instrument("B", "USD", "0.001", AssetClass.GOVERNMENT_BOND),
}


def _primary(day: dt.date, a: str = "100.00") -> list[PriceQuote]:
    return [
        PriceQuote("A", Decimal(a), "USD", "primary", day),
        PriceQuote("J", Decimal(5000), "JPY", "primary", day),
        PriceQuote("B", Decimal("99.500"), "USD", "primary", day, Decimal("1.23456789"), 2.5),
    ]


def test_clean_quotes_are_the_primary_within_a_few_bp_rounded_to_the_tick() -> None:
    vendor = SecondVendor(2, FaultBook(0.0))
    for day in (DAY1, DAY2, DAY3):
        quotes = vendor.quotes(day, _primary(day), INSTRUMENTS)
        assert [q.instrument_id for q, _ in quotes] == ["A", "J", "B"]
        for (quote, fault), primary in zip(quotes, _primary(day), strict=True):
            assert fault is None
            assert (quote.vendor, quote.price_date, quote.currency) == ("vendor_b", day, primary.currency)
            # N(0, 3 bp): 20 bp is beyond 6 sigma; plus half a tick of rounding.
            tick = INSTRUMENTS[quote.instrument_id].tick_size
            assert abs(quote.price - primary.price) <= primary.price * Decimal("0.002") + tick / 2
            assert quote.price == quote.price.quantize(tick)
        bond = quotes[2][0]
        assert bond.accrued_interest == Decimal("1.23456789") and bond.yield_pct is None


def test_a_requested_stale_price_waits_for_a_previous_price_and_repeats_it() -> None:
    book = FaultBook(0.0)
    fault = book.request(FaultRequest(FaultKind.VENDOR_STALE_PRICE, instrument_id="A"))
    vendor = SecondVendor(2, book)
    first = vendor.quotes(DAY1, _primary(DAY1), INSTRUMENTS)
    assert all(f is None for _, f in first)  # no previous vendor_b price yet: the fault waits
    assert book.pending([FaultKind.VENDOR_STALE_PRICE]) == [fault]
    repeated = first[0][0].price
    second = vendor.quotes(DAY2, _primary(DAY2, a="150.00"), INSTRUMENTS)
    quote, applied = second[0]
    assert applied is fault and fault.status is FaultStatus.APPLIED and fault.applied_date == DAY2
    assert quote.price == repeated and quote.price_date == DAY2
    assert fault.description == f"vendor_b repeated its {DAY1} price {repeated} for A; primary is 150.00"
    assert fault.instrument_id == "A"
    assert all(f is None for _, f in second[1:])


def test_a_requested_spike_moves_the_price_8_to_25_percent() -> None:
    for seed in range(6):
        book = FaultBook(0.0)
        fault = book.request(FaultRequest(FaultKind.VENDOR_PRICE_SPIKE, instrument_id="J"))
        quotes = SecondVendor(seed, book).quotes(DAY1, _primary(DAY1), INSTRUMENTS)
        quote, applied = quotes[1]
        assert applied is fault and fault.applied_date == DAY1
        move = quote.price / Decimal(5000) - 1
        # 5000 x (1 +/- 0.08..0.25), rounded to 1 yen: at least 400 and at most 1250 yen off.
        assert Decimal("0.08") <= abs(move) <= Decimal("0.25")
        sign = "+" if move > 0 else "-"
        assert fault.description.startswith(f"vendor_b spiked J to {quote.price} ({sign}")
        assert fault.description.endswith("%); primary is 5000")
        assert quotes[0][1] is None and quotes[2][1] is None


def test_unnamed_requests_take_distinct_instruments_and_a_named_absent_one_waits() -> None:
    book = FaultBook(0.0)
    absent = book.request(FaultRequest(FaultKind.VENDOR_PRICE_SPIKE, instrument_id="GONE"))
    spikes = [book.request(FaultRequest(FaultKind.VENDOR_PRICE_SPIKE)) for _ in range(3)]
    extra = book.request(FaultRequest(FaultKind.VENDOR_PRICE_SPIKE))
    quotes = SecondVendor(3, book).quotes(DAY1, _primary(DAY1), INSTRUMENTS)
    applied = [f for _, f in quotes]
    assert sorted(f.fault_id for f in applied) == sorted(f.fault_id for f in spikes)  # one each
    assert book.pending([FaultKind.VENDOR_PRICE_SPIKE]) == [absent, extra]


def test_an_unnamed_stale_request_only_takes_an_instrument_with_a_previous_price() -> None:
    book = FaultBook(0.0)
    vendor = SecondVendor(3, book)
    vendor.quotes(DAY1, _primary(DAY1)[:1], INSTRUMENTS)  # only A has a vendor_b price
    fault = book.request(FaultRequest(FaultKind.VENDOR_STALE_PRICE))
    quotes = vendor.quotes(DAY2, _primary(DAY2), INSTRUMENTS)
    assert [f is fault for _, f in quotes] == [True, False, False]


def test_certain_seeded_staleness_repeats_every_previous_price() -> None:
    # 0.002 x 500 = 1: from the second day every price is stale (a spike needs no history, and
    # 0.0005 x 500 = 0.25 of first-day prices spike).
    book = FaultBook(500.0)
    vendor = SecondVendor(4, book)
    first = vendor.quotes(DAY1, _primary(DAY1), INSTRUMENTS)
    assert all(f is None or f.kind is FaultKind.VENDOR_PRICE_SPIKE for _, f in first)
    second = vendor.quotes(DAY2, _primary(DAY2, a="120.00"), INSTRUMENTS)
    for (quote, fault), (before, _) in zip(second, first, strict=True):
        assert fault is not None and fault.kind is FaultKind.VENDOR_STALE_PRICE and not fault.on_demand
        assert quote.price == before.price
