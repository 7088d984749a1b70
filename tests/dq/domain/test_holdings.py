"""Holdings checks over one mandate: weights summing to one, stated market values against
quantity x price, and book vs custodian vs ledger positions with the feed that looks wrong."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from services.common.market_events import AssetClass, Book, Instrument
from services.dq.domain.config import load_checks
from services.dq.domain.holdings import StatedValue, check_market_values, check_weights, compare_feeds
from services.dq.domain.results import IssueKind
from tests.dq.domain.builders import equity

D = Decimal
DAY = dt.date(2020, 3, 2)
CHECKS = load_checks()
BOND = Instrument(
    instrument_id="UST-20270215",
    symbol="T",
    name="bond",
    asset_class=AssetClass.GOVERNMENT_BOND,
    currency="USD",
    sector="Government",
    market="US",
    tick_size=D("0.001"),
    settlement_days=1,
)
INSTRUMENTS = {i.instrument_id: i for i in (equity("US-A"), equity("EU-X", "EUR"), BOND)}
BOOK = Book(
    "M1",
    positions={"US-A": D(100), "UST-20270215": D(10000), "EU-X": D(200)},
    cash={"USD": D(850), "EUR": D(100)},
)
PRICES = {"US-A": D("50.00"), "UST-20270215": D("101.50"), "EU-X": D("20.00")}
FX = {"EURUSD": D("1.1000"), "GBPUSD": D("1.3000"), "USDJPY": D("110.00")}


def test_weights_of_a_fully_priced_mandate_sum_to_one() -> None:
    # US-A 100 x 50.00 = 5,000; the bond 10,000 x 101.50 / 100 = 10,150; EU-X 200 x 20.00 EUR x
    # 1.10 = 4,400; cash 850 + 100 EUR x 1.10 = 960. NAV 20,510.
    result = check_weights(
        CHECKS.get("holdings.weights"), BOOK, "USD", INSTRUMENTS, PRICES, FX, DAY, ("e-1",)
    )
    assert result.success and result.kind is IssueKind.HOLDINGS_WEIGHTS and result.mandate_id == "M1"
    assert result.statistics["nav"] == pytest.approx(20510)
    assert abs(result.deviation) < 1e-20
    assert result.unexpected_count == 0


def test_a_position_without_a_price_leaves_its_weight_missing() -> None:
    # EU-X has no price today; at its last good 19.00 it is 200 x 19.00 x 1.10 = 4,180 of a NAV of
    # 5,000 + 10,150 + 960 + 4,180 = 20,290: the priced weights sum to 16,110 / 20,290 = 0.793987.
    prices = {k: v for k, v in PRICES.items() if k != "EU-X"}
    result = check_weights(
        CHECKS.get("holdings.weights"),
        BOOK,
        "USD",
        INSTRUMENTS,
        prices,
        FX,
        DAY,
        last_good={"EU-X": D("19.00")},
    )
    assert not result.success and not result.quarantine  # holdings never quarantine
    assert result.unexpected_count == 1
    assert [dict(row) for row in result.sample] == [
        {"instrument_id": "EU-X", "quantity": "200", "reason": "no primary price"}
    ]
    assert result.deviation == pytest.approx(1 - 16110 / 20290)
    assert (
        result.message == "M1: weights sum to 0.793987; 1 item(s) cannot be valued: EU-X (no primary price)"
    )


def test_a_currency_without_a_rate_cannot_be_valued() -> None:
    book = Book("M1", positions={"US-A": D(100)}, cash={"USD": D(10), "CHF": D(5)})
    result = check_weights(CHECKS.get("holdings.weights"), book, "USD", INSTRUMENTS, PRICES, FX, DAY)
    assert not result.success
    assert [row["reason"] for row in result.sample] == ["no CHF rate"]


@pytest.mark.parametrize(
    ("stated", "success"), [("5000.00", True), ("5000.01", True), ("4999.99", True), ("5000.02", False)]
)
def test_stated_market_values_against_quantity_times_price(stated: str, success: bool) -> None:
    # 100 x 50.00 = 5,000.00; the limit is max(0.01, 1e-6 x 5,000) = 0.01, at the limit passes.
    rows = [StatedValue("US-A", D(100), D(stated)), StatedValue("UST-20270215", D(10000), D("10150.00"))]
    result = check_market_values(CHECKS.get("holdings.market_value"), "M1", rows, INSTRUMENTS, PRICES, DAY)
    assert result.success is success
    assert result.unexpected_count == (0 if success else 1)
    if not success:
        assert (
            result.message == "M1: 1 of 2 market values differ from quantity x price: US-A 5000.02 vs 5000.00"
        )


def test_the_referee_feed_says_which_feed_looks_wrong() -> None:
    book = {"US-A": D(100), "US-B": D(50)}
    # The custodian alone differs on US-B: the ledger agrees with the book.
    results = compare_feeds(CHECKS, "M1", book, {"US-A": D(100), "US-B": D(40)}, dict(book), DAY)
    vs_custodian, vs_ledger = results
    assert vs_custodian.kind is IssueKind.HOLDINGS_BOOK_VS_CUSTODIAN and not vs_custodian.success
    assert vs_custodian.vendor == "custodian" and vs_custodian.unexpected_count == 1
    assert (
        vs_custodian.message
        == "M1: 1 position(s) differ between book and custodian: US-B book 50 vs custodian 40 (custodian looks wrong)"
    )
    assert vs_ledger.kind is IssueKind.HOLDINGS_BOOK_VS_LEDGER and vs_ledger.success
    # The custodian and the ledger agree against the book: the book looks wrong, in both.
    both = {"US-A": D(100), "US-B": D(40)}
    vs_custodian, vs_ledger = compare_feeds(CHECKS, "M1", book, both, dict(both), DAY)
    assert (vs_custodian.vendor, vs_ledger.vendor) == ("book", "book")
    # All three differ: nobody can be told apart.
    vs_custodian, vs_ledger = compare_feeds(CHECKS, "M1", book, both, {"US-A": D(100), "US-B": D(45)}, DAY)
    assert (vs_custodian.vendor, vs_ledger.vendor) == ("", "")
    assert vs_custodian.sample[0]["suspect"] == ""


def test_bond_positions_allow_half_a_unit() -> None:
    # quantity 0.5 (face units): 10,000 vs 10,000.5 is rounding, 10,001 is a break.
    book = {"UST-20270215": D(10000)}
    [ok, _] = compare_feeds(CHECKS, "M1", book, {"UST-20270215": D("10000.5")}, dict(book), DAY)
    [off, _] = compare_feeds(CHECKS, "M1", book, {"UST-20270215": D(10001)}, dict(book), DAY)
    assert ok.success and not off.success
