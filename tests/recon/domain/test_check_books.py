"""The books the day-end check compares (domain/check.py), from records, on hand-worked figures."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from services.common.market_events import Book, FxQuote, PriceQuote
from services.recon.domain.check import LedgerBalance, Reference, books_of, ledger_book_items, valuation_of
from services.recon.domain.records import InstrumentRef, ItemKey, Scope

D = Decimal
DAY = dt.date(2020, 3, 2)
REFERENCE = Reference(
    {"BAL-USD": "USD", "EQ-EUR": "EUR"},
    {"US-AAPL": InstrumentRef("EQUITY", "USD"), "UST-2030": InstrumentRef("GOVERNMENT_BOND", "USD")},
)


def test_unit_values_prefer_the_primary_vendor_and_bonds_are_per_100_face() -> None:
    valuation = valuation_of(
        [
            PriceQuote("US-AAPL", D("151.00"), "USD", "vendor_b", DAY),
            PriceQuote("US-AAPL", D("150.00"), "USD", "primary", DAY),
            PriceQuote("UST-2030", D("99.50"), "USD", "primary", DAY, accrued_interest=D("0.40")),
            PriceQuote("US-MSFT", D("170.00"), "USD", "vendor_b", DAY),  # only the second vendor quotes it
        ],
        [],
        REFERENCE,
    )
    # A bond quoted 99.50 per 100 face is worth 0.995 per unit of face.
    assert valuation.unit_values == {"US-AAPL": D("150.00"), "UST-2030": D("0.995"), "US-MSFT": D("170.00")}
    assert valuation.base_currency == {"BAL-USD": "USD", "EQ-EUR": "EUR"}


def test_fx_is_kept_both_ways_primary_first_and_a_zero_rate_is_ignored() -> None:
    valuation = valuation_of(
        [],
        [
            FxQuote("EUR", "USD", D("1.25"), "cross", DAY),
            FxQuote("EUR", "USD", D("1.10"), "primary", DAY),
            FxQuote("GBP", "USD", D("0"), "primary", DAY),
        ],
        REFERENCE,
    )
    # EURUSD 1.10 is USD per EUR; the inverse is 1 / 1.10 EUR per USD.
    assert valuation.fx_to_base[("EUR", "USD")] == D("1.10")
    assert valuation.fx_to_base[("USD", "EUR")] == 1 / D("1.10")
    assert ("GBP", "USD") not in valuation.fx_to_base and ("USD", "GBP") not in valuation.fx_to_base


def test_the_ledger_book_is_units_of_securities_and_cash_with_suspense_counted_as_cash() -> None:
    items = dict(
        ledger_book_items(
            "BAL-USD",
            [
                LedgerBalance("Assets:Securities:US-AAPL", D("1500.00"), D("10")),
                LedgerBalance("Assets:Cash:USD", D("98500.00")),
                # An aged break of -40.00 moved from cash to suspense: cash 98,460.00 + suspense 40.00.
                LedgerBalance("Assets:Suspense:USD", D("40.00")),
                LedgerBalance("Equity:Capital:USD", D("-100000.00")),
            ],
        )
    )
    assert items == {
        ItemKey("BAL-USD", Scope.POSITION, instrument_id="US-AAPL"): D("10"),
        ItemKey("BAL-USD", Scope.CASH, currency="USD"): D("98540.00"),
    }


def test_books_list_every_mandate_of_the_internal_book_and_no_ledger_when_it_did_not_answer() -> None:
    internal = [
        Book("BAL-USD", {"US-AAPL": D("10")}, {"USD": D("98500.00")}),
        Book("EQ-EUR", {}, {"EUR": D("5")}),
    ]
    custodian = [Book("BAL-USD", {"US-AAPL": D("10")}, {"USD": D("98500.00")})]
    valuation = valuation_of([], [], REFERENCE)
    books = books_of(DAY, internal, custodian, valuation, None)
    assert books.as_of_date == DAY
    assert books.mandates == frozenset({"BAL-USD", "EQ-EUR"})
    assert books.ledger is None
    assert dict(books.internal)[ItemKey("EQ-EUR", Scope.CASH, currency="EUR")] == D("5")
    assert len(books.custodian) == 2
    with_ledger = books_of(
        DAY, internal, custodian, valuation, {"BAL-USD": [LedgerBalance("Assets:Cash:USD", D("1"))]}
    )
    assert with_ledger.ledger == {"BAL-USD": ((ItemKey("BAL-USD", Scope.CASH, currency="USD"), D("1")),)}


def test_a_zero_rate_is_skipped_without_dropping_the_rates_after_it() -> None:
    """A missing (zero) primary rate sorts among the primary rates: the ones after it still count."""
    valuation = valuation_of(
        [],
        [FxQuote("GBP", "USD", D("0"), "primary", DAY), FxQuote("EUR", "USD", D("1.25"), "primary", DAY)],
        REFERENCE,
    )
    # EURUSD 1.25; its inverse 1 / 1.25 = 0.8 EUR per USD
    assert valuation.fx_to_base == {("EUR", "USD"): D("1.25"), ("USD", "EUR"): D("0.8")}


def test_ledger_lines_of_one_account_add_up_and_suspense_alone_is_cash() -> None:
    """The ledger may report an account in several lines; a mandate whose only EUR balance is suspense
    still has EUR cash (the suspense line counts from zero, not from a cash line before it)."""
    items = dict(
        ledger_book_items(
            "EQ-EUR",
            [
                LedgerBalance("Assets:Securities:SAP", D("900.00"), D("7")),
                LedgerBalance("Assets:Securities:SAP", D("300.00"), D("3")),
                LedgerBalance("Assets:Suspense:EUR", D("-12.50")),
                LedgerBalance("Assets:Cash:USD", D("20.00")),
                LedgerBalance("Assets:Cash:USD", D("5.00")),
            ],
        )
    )
    assert items == {
        ItemKey("EQ-EUR", Scope.POSITION, instrument_id="SAP"): D("10"),  # 7 + 3 units
        ItemKey("EQ-EUR", Scope.CASH, currency="EUR"): D("-12.50"),
        ItemKey("EQ-EUR", Scope.CASH, currency="USD"): D("25.00"),  # 20.00 + 5.00
    }
