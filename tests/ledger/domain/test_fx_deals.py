"""FX deals in the ledger, and the revaluation convention that keeps equity at market equal to NAV.

Worked by hand: a dollar mandate buying euros (trade date: receivable and payable through the
currency trading account; settle date: cash), revalued at day ends; then the valuation lines the
day end restates (an instrument's market value converted once, each bond's accrued interest
converted on its own) where account-by-account conversion would be a cent off.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal

import pytest

from services.ledger.domain import chart
from services.ledger.domain.records import JournalDraft, JournalKind
from services.ledger.domain.rules import InstrumentInfo, LedgerBook
from services.ledger.domain.validation import base_imbalance, imbalance

from .builders import MANDATES, Stream

D = Decimal
D1, D2, D3 = dt.date(2024, 3, 4), dt.date(2024, 3, 5), dt.date(2024, 3, 6)
EUR_BOND_1, EUR_BOND_2 = "EU-B1", "EU-B2"
INSTRUMENTS = {
    "EU-BBB": InstrumentInfo("EU-BBB", "EUR", False),
    EUR_BOND_1: InstrumentInfo(EUR_BOND_1, "EUR", True),
    EUR_BOND_2: InstrumentInfo(EUR_BOND_2, "EUR", True),
}


def _stream() -> Stream:
    return Stream(LedgerBook(MANDATES, INSTRUMENTS))


def _legs(draft: JournalDraft) -> list[tuple[str, Decimal, str, Decimal | None]]:
    return [(p.account, p.amount, p.currency, p.base_amount) for p in draft.postings]


def _equity_at_market(drafts: list[JournalDraft], mandate_id: str) -> Decimal:
    """The sum of the base amounts of every Assets and Liabilities posting of the mandate."""
    return sum(
        (
            p.base_amount or D(0)
            for d in drafts
            if d.mandate_id == mandate_id
            for p in d.postings
            if p.account.startswith(("Assets:", "Liabilities:"))
        ),
        D(0),
    )


def _base_balances(drafts: list[JournalDraft], mandate_id: str) -> dict[str, Decimal]:
    out: dict[str, Decimal] = defaultdict(Decimal)
    for draft in drafts:
        if draft.mandate_id == mandate_id:
            for posting in draft.postings:
                out[posting.account] += posting.base_amount or D(0)
    return dict(out)


def test_an_fx_deal_is_booked_on_trade_date_through_the_currency_trading_account() -> None:
    """M-FIFO (USD) buys 800.00 EUR for 1,000.00 USD at 1.25, settling on D3. Each currency balances:
    EUR +800 receivable, -800 conversion; USD +1,000 conversion, -1,000 payable. Every leg carries
    the deal's base amount, 1,000.00 (800 x 1.25), so base balances too and nothing is gained."""
    stream = _stream()
    stream.fx(D1, "EURUSD", "1.25")
    [journal] = stream.fx_deal(
        D1, "FXD-1", "M-FIFO", bought=("800.00", "EUR"), sold=("1000.00", "USD"), rate="1.25", settle=D3
    )
    assert journal.kind is JournalKind.TRADE and journal.idempotency_key == f"mkt:{stream.last_id}"
    assert _legs(journal) == [
        ("Assets:PendingSettlement:EUR", D("800.00"), "EUR", D("1000.00")),
        ("Equity:FxConversion:EUR", D("-800.00"), "EUR", D("-1000.00")),
        ("Equity:FxConversion:USD", D("1000.00"), "USD", D("1000.00")),
        ("Liabilities:PendingSettlement:USD", D("-1000.00"), "USD", D("-1000.00")),
    ]
    assert imbalance(journal.postings) == {} and base_imbalance(journal.postings) == 0
    assert journal.memo == "FX FXD-1: buy 800.00 EUR, sell 1000.00 USD at 1.25"


def test_the_receivable_is_revalued_until_the_custodian_settles_the_deal() -> None:
    """A 1,000.00 USD subscription pays for the deal. D1 closes at 1.25 (nothing to restate), D2 at
    1.30: the 800 EUR receivable is worth 1,040.00, +40.00 to Income:FxRevaluation. D3 at 1.20: the
    custodian's report moves both legs into cash (the euro legs at the day's 960.00 each, so the
    settlement itself balances in base); the day end takes the receivable's remaining 80.00 off.
    Over the three days the mandate lost 800 x (1.20 - 1.25) = 40.00: it holds 960.00 USD of euros."""
    stream = _stream()
    stream.fx(D1, "EURUSD", "1.25")
    stream.cash_flow(D1, "subscription", "M-FIFO", "1000.00")
    stream.fx_deal(
        D1, "FXD-1", "M-FIFO", bought=("800.00", "EUR"), sold=("1000.00", "USD"), rate="1.25", settle=D3
    )
    assert stream.day_end(D1) == []  # at the deal's own rate: nothing to restate
    stream.regime(D2)
    stream.fx(D2, "EURUSD", "1.30")
    [d2] = stream.day_end(D2)
    assert d2.kind is JournalKind.FX_REVALUATION
    assert _legs(d2) == [
        ("Assets:PendingSettlement:EUR", D(0), "EUR", D("40.00")),
        ("Income:FxRevaluation:USD", D(0), "USD", D("-40.00")),
    ]
    assert _equity_at_market(stream.drafts, "M-FIFO") == D("1040.00")
    stream.regime(D3)
    stream.fx(D3, "EURUSD", "1.20")
    [settlement] = stream.fx_settlement(
        D3, "FXD-1", "M-FIFO", bought=("800.00", "EUR"), sold=("1000.00", "USD")
    )
    assert settlement.kind is JournalKind.SETTLEMENT
    assert _legs(settlement) == [
        ("Assets:Cash:EUR", D("800.00"), "EUR", D("960.00")),
        ("Assets:PendingSettlement:EUR", D("-800.00"), "EUR", D("-960.00")),
        ("Liabilities:PendingSettlement:USD", D("1000.00"), "USD", D("1000.00")),
        ("Assets:Cash:USD", D("-1000.00"), "USD", D("-1000.00")),
    ]
    assert imbalance(settlement.postings) == {} and base_imbalance(settlement.postings) == 0
    [d3] = stream.day_end(D3)
    assert _legs(d3) == [
        ("Assets:PendingSettlement:EUR", D(0), "EUR", D("-80.00")),
        ("Income:FxRevaluation:USD", D(0), "USD", D("80.00")),
    ]
    balances = _base_balances(stream.drafts, "M-FIFO")
    assert _equity_at_market(stream.drafts, "M-FIFO") == D("960.00") == balances["Assets:Cash:EUR"]
    assert balances["Income:FxRevaluation:USD"] == D("40.00")  # a loss: a debit
    # The currency trading account nets to zero in base; its currency balances remain as a record.
    assert balances["Equity:FxConversion:EUR"] + balances["Equity:FxConversion:USD"] == 0
    assert stream.book is not None and stream.book.pending_fx == {}


def test_only_the_first_settled_report_of_a_booked_deal_posts() -> None:
    stream = _stream()
    stream.fx(D1, "EURUSD", "1.25")
    stream.fx_deal(
        D1, "FXD-1", "M-FIFO", bought=("1000.00", "USD"), sold=("800.00", "EUR"), rate="1.25", settle=D3
    )
    legs = {"bought": ("1000.00", "USD"), "sold": ("800.00", "EUR")}
    assert stream.fx_settlement(D3, "FXD-1", "M-FIFO", settled=False, **legs) == []
    assert len(stream.fx_settlement(D3, "FXD-1", "M-FIFO", **legs)) == 1
    assert stream.fx_settlement(D3, "FXD-1", "M-FIFO", **legs) == []  # a repeat
    assert stream.fx_settlement(D3, "FXD-9", "M-FIFO", **legs) == []  # a deal the ledger never booked


def test_a_sweep_books_the_foreign_leg_at_the_deals_rate_and_a_deal_without_a_base_leg_is_refused() -> None:
    """Selling 800 EUR for 1,000.00 USD: the payable in EUR and its conversion leg carry 800 x 1.25."""
    stream = _stream()
    stream.fx(D1, "EURUSD", "1.30")  # the day's rate does not matter: the deal's does
    [journal] = stream.fx_deal(
        D1, "FXD-2", "M-FIFO", bought=("1000.00", "USD"), sold=("800.00", "EUR"), rate="1.25", settle=D3
    )
    assert _legs(journal) == [
        ("Assets:PendingSettlement:USD", D("1000.00"), "USD", D("1000.00")),
        ("Equity:FxConversion:USD", D("-1000.00"), "USD", D("-1000.00")),
        ("Equity:FxConversion:EUR", D("800.00"), "EUR", D("1000.00")),
        ("Liabilities:PendingSettlement:EUR", D("-800.00"), "EUR", D("-1000.00")),
    ]
    with pytest.raises(ValueError, match="neither leg is in M-FIFO's base currency USD"):
        stream.fx_deal(
            D1, "FXD-3", "M-FIFO", bought=("100.00", "GBP"), sold=("117.00", "EUR"), rate="1.3", settle=D3
        )


def test_an_instruments_market_value_is_converted_once_not_cost_and_mark_apart() -> None:
    """1 EU-BBB bought at 10.05 EUR, marked at 10.10, EURUSD 1.1. Account by account: cost 10.05 x 1.1
    = 11.055 -> 11.06 and unrealized 0.05 x 1.1 = 0.055 -> 0.06 (half-even), 11.12; but NAV converts
    the holding's market value once: 10.10 x 1.1 = 11.11. The day end restates Securities to 11.06
    and Unrealized to 11.11 - 11.06 = 0.05, so the line is 11.11 as in NAV."""
    stream = _stream()
    stream.fx(D1, "EURUSD", "1.1")
    stream.fill(
        D1, "F1", "M-FIFO", "EU-BBB", "BUY", "1", "10.05", gross="10.05", net="10.05", ccy="EUR", settle=D1
    )
    stream.settlement(D1, "F1", "M-FIFO", "EU-BBB", settled=True, quantity="1", cash="-10.05", ccy="EUR")
    stream.price(D1, "EU-BBB", "10.10", "EUR")
    stream.day_end(D1)
    balances = _base_balances(stream.drafts, "M-FIFO")
    assert balances[chart.securities("EU-BBB")] == D("11.06")
    assert balances[chart.unrealized("EU-BBB")] == D("0.05")
    assert balances[chart.securities("EU-BBB")] + balances[chart.unrealized("EU-BBB")] == D("11.11")
    # Cash, a line of its own: -10.05 x 1.1 = -11.055 -> -11.06.
    assert balances[chart.cash("EUR")] == D("-11.06")
    assert _equity_at_market(stream.drafts, "M-FIFO") == D("11.11") + D("-11.06")


def test_each_bonds_accrued_interest_is_converted_on_its_own() -> None:
    """Two EUR bonds, 100 face each at 100 with 0.05 accrued per 100: 0.05 EUR carried each. At 1.1
    each converts to 0.055 -> 0.06, so NAV's accrued interest is 0.12 USD; the account's 0.10 EUR
    converted once would be 0.11. The day end restates Assets:AccruedInterest:EUR to 0.12."""
    stream = _stream()
    stream.fx(D1, "EURUSD", "1.1")
    for n, bond in enumerate((EUR_BOND_1, EUR_BOND_2)):
        stream.fill(D1, f"F{n}", "M-FIFO", bond, "BUY", "100", "100", gross="100.00", net="100.00", ccy="EUR")
        stream.price(D1, bond, "100", "EUR", accrued="0.05")
    stream.day_end(D1)
    balances = _base_balances(stream.drafts, "M-FIFO")
    assert balances[chart.accrued_interest("EUR")] == D("0.12")
    assert stream.book is not None
    assert stream.book.accrued_interest["M-FIFO"] == {EUR_BOND_1: D("0.05"), EUR_BOND_2: D("0.05")}


def test_a_book_restored_mid_deal_settles_it() -> None:
    stream = _stream()
    stream.fx(D1, "EURUSD", "1.25")
    stream.fx_deal(
        D1, "FXD-1", "M-FIFO", bought=("800.00", "EUR"), sold=("1000.00", "USD"), rate="1.25", settle=D3
    )
    assert stream.book is not None
    stream.book = LedgerBook.from_json(stream.book.to_json())
    assert list(stream.book.pending_fx) == ["FXD-1"]
    assert (
        len(stream.fx_settlement(D3, "FXD-1", "M-FIFO", bought=("800.00", "EUR"), sold=("1000.00", "USD")))
        == 1
    )
