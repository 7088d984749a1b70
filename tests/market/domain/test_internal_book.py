"""The internal book: positions on trade date, cash on settle date, income and investor flows on their day."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from services.market.sim.books import InternalBook, signed_fill
from services.market.sim.records import Book, CashFlow, CashFlowKind, Fill, Side

MON, TUE, WED, THU = (dt.date(2020, 3, d) for d in (2, 3, 4, 5))


def fill(
    fill_id: str,
    side: Side,
    quantity: str,
    net: str,
    *,
    settle: dt.date = WED,
    instrument: str = "US-AAA",
    mandate: str = "M1",
    currency: str = "USD",
) -> Fill:
    return Fill(
        fill_id=fill_id,
        order_id="O-" + fill_id,
        mandate_id=mandate,
        instrument_id=instrument,
        side=side,
        quantity=Decimal(quantity),
        price=Decimal("10.00"),
        currency=currency,
        gross_amount=Decimal(net),
        accrued_interest=Decimal(0),
        commission=Decimal(0),
        fees=Decimal(0),
        net_amount=Decimal(net),
        trade_date=MON,
        settle_date=settle,
        broker="b",
    )


def new_book() -> InternalBook:
    return InternalBook(["M1", "M2"], {"M1": "USD", "M2": "EUR"})


def test_a_buy_adds_units_and_costs_cash_a_sell_the_reverse() -> None:
    assert signed_fill(fill("F1", Side.BUY, "100", "1000.50")) == (Decimal(100), Decimal("-1000.50"))
    assert signed_fill(fill("F2", Side.SELL, "100", "999.50")) == (Decimal(-100), Decimal("999.50"))


def test_positions_move_on_trade_date_and_cash_on_settle_date() -> None:
    book = new_book()
    book.apply_fill(fill("F1", Side.BUY, "100", "1000.00", settle=WED))
    assert book.position("M1", "US-AAA") == 100
    assert book.settled_position("M1", "US-AAA") == 0
    assert book.cash("M1", "USD") == 0
    assert book.pending_cash("M1", "USD") == [(WED, Decimal("-1000.00"))]
    assert book.pending_cash("M1", "EUR") == []
    assert [p.fill_id for p in book.pending("M1")] == ["F1"]
    # The day before the settle date nothing moves; on it the cash and the settled units do.
    book.settle(TUE)
    assert book.cash("M1", "USD") == 0 and book.settled_position("M1", "US-AAA") == 0
    assert book.pending_cash("M1", "USD") == [(WED, Decimal("-1000.00"))]
    book.settle(WED)
    assert book.cash("M1", "USD") == Decimal("-1000.00")
    assert book.settled_position("M1", "US-AAA") == 100
    assert book.pending("M1") == ()
    # Settling again moves nothing twice.
    book.settle(THU)
    assert book.cash("M1", "USD") == Decimal("-1000.00")


def test_settlement_takes_the_due_fills_and_keeps_the_later_ones_in_order() -> None:
    book = new_book()
    book.apply_fill(fill("F1", Side.BUY, "100", "1000.00", settle=THU))
    book.apply_fill(fill("F2", Side.BUY, "50", "500.00", settle=TUE))
    book.apply_fill(fill("F3", Side.SELL, "30", "330.00", settle=WED))
    book.apply_fill(fill("F4", Side.BUY, "10", "100.00", settle=THU, mandate="M2", currency="EUR"))
    book.settle(WED)
    # F2 and F3 are due: -500 + 330 = -170 and 50 - 30 = 20 units settled; F1 waits.
    assert book.cash("M1", "USD") == Decimal("-170.00")
    assert book.settled_position("M1", "US-AAA") == 20
    assert book.pending_cash("M1", "USD") == [(THU, Decimal("-1000.00"))]
    assert book.cash("M2", "EUR") == 0 and book.pending_cash("M2", "EUR") == [(THU, Decimal("-100.00"))]
    book.settle(THU)
    assert book.cash("M1", "USD") == Decimal("-1170.00") and book.cash("M2", "EUR") == Decimal("-100.00")
    assert book.settled_position("M1", "US-AAA") == 120 and book.settled_position("M2", "US-AAA") == 10


def test_a_mandate_may_sell_all_it_holds_but_never_more() -> None:
    book = new_book()
    book.apply_fill(fill("F1", Side.BUY, "100", "1000.00"))
    book.apply_fill(fill("F2", Side.SELL, "99", "990.00"))  # one unit inside
    assert book.position("M1", "US-AAA") == 1
    book.apply_fill(fill("F3", Side.SELL, "1", "10.00"))  # at the boundary: flat
    assert book.position("M1", "US-AAA") == 0
    with pytest.raises(ValueError, match="fill F4 would leave M1 short US-AAA"):
        book.apply_fill(fill("F4", Side.SELL, "1", "10.00"))  # one unit beyond
    assert book.position("M1", "US-AAA") == 0
    assert [p.fill_id for p in book.pending("M1")] == ["F1", "F2", "F3"]


def test_positions_list_only_non_zero_holdings_in_the_order_first_traded() -> None:
    book = new_book()
    book.apply_fill(fill("F1", Side.BUY, "5", "50", instrument="US-ZZZ"))
    book.apply_fill(fill("F2", Side.BUY, "7", "70", instrument="US-AAA"))
    book.apply_fill(fill("F3", Side.BUY, "9", "90", instrument="US-MMM"))
    book.apply_fill(fill("F4", Side.SELL, "7", "70", instrument="US-AAA"))
    assert book.positions("M1") == {"US-ZZZ": Decimal(5), "US-MMM": Decimal(9)}
    assert list(book.positions("M1")) == ["US-ZZZ", "US-MMM"]
    assert book.positions("M2") == {}
    assert book.position("M2", "US-ZZZ") == 0


def test_cash_flows_move_cash_at_once() -> None:
    book = new_book()
    book.apply_cash_flow(CashFlow("C1", "M2", CashFlowKind.SUBSCRIPTION, Decimal("1000000"), "EUR"))
    book.apply_cash_flow(CashFlow("C2", "M2", CashFlowKind.REDEMPTION, Decimal("-25000"), "EUR"))
    book.apply_cash_flow(CashFlow("C3", "M2", CashFlowKind.DIVIDEND, Decimal("12.34"), "GBP"))
    assert book.cash("M2", "EUR") == Decimal("975000")
    assert book.cash("M2", "GBP") == Decimal("12.34")
    assert book.cash("M1", "EUR") == 0


def test_the_book_record_sorts_positions_and_cash_and_always_shows_the_base_currency() -> None:
    book = new_book()
    assert book.book("M1") == Book("M1", {}, {"USD": Decimal(0)})
    book.apply_fill(fill("F1", Side.BUY, "5", "50", instrument="US-ZZZ", settle=MON))
    book.apply_fill(fill("F2", Side.BUY, "7", "70", instrument="US-AAA", settle=MON))
    book.apply_fill(fill("F3", Side.BUY, "3", "30", instrument="US-MMM", settle=MON))
    book.apply_fill(fill("F4", Side.SELL, "3", "30", instrument="US-MMM", settle=MON))
    book.apply_cash_flow(CashFlow("C1", "M1", CashFlowKind.DIVIDEND, Decimal("2.50"), "GBP"))
    book.settle(MON)
    record = book.book("M1")
    assert list(record.positions.items()) == [("US-AAA", Decimal(7)), ("US-ZZZ", Decimal(5))]
    # Cash: -50 - 70 - 30 + 30 = -120 USD, and the GBP dividend; sorted by currency.
    assert list(record.cash.items()) == [("GBP", Decimal("2.50")), ("USD", Decimal("-120"))]
    assert book.book("M2") == Book("M2", {}, {"EUR": Decimal(0)})


def test_a_mandate_with_nothing_due_does_not_hold_up_the_others() -> None:
    book = new_book()
    book.apply_fill(fill("F1", Side.BUY, "10", "100.00", settle=THU))  # M1: due later
    book.apply_fill(fill("F2", Side.BUY, "5", "50.00", settle=TUE, mandate="M2", currency="EUR"))
    book.settle(TUE)
    assert book.cash("M2", "EUR") == Decimal("-50.00") and book.settled_position("M2", "US-AAA") == 5
    assert book.cash("M1", "USD") == 0
    fresh = new_book()  # M1 with nothing pending at all
    fresh.apply_fill(fill("F3", Side.BUY, "5", "50.00", settle=TUE, mandate="M2", currency="EUR"))
    fresh.settle(TUE)
    assert fresh.cash("M2", "EUR") == Decimal("-50.00")
