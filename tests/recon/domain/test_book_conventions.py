"""The books' conventions, fill by fill: what a book, a ledger and a fill become as compared items and
pending settlements, on either side of the trade and settle dates."""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass, field
from decimal import Decimal

import pytest

from services.recon.domain.conventions import book_items, ledger_items, pending_settlements, signed
from services.recon.domain.records import Comparison, ItemKey, PendingSettlement, Scope

D = Decimal
BVC, BVL = Comparison.BOOK_VS_CUSTODIAN, Comparison.BOOK_VS_LEDGER
WED, THU, FRI = dt.date(2024, 3, 13), dt.date(2024, 3, 14), dt.date(2024, 3, 15)
HUNDRED, NET = D(100), D("1000.50")


class Side(enum.Enum):
    """A plain enum (not a str): only its value says BUY or SELL."""

    BUY = "BUY"
    SELL = "SELL"


@dataclass(frozen=True)
class Fill:
    fill_id: str
    side: object
    quantity: Decimal = HUNDRED
    net_amount: Decimal = NET
    trade_date: dt.date = WED
    settle_date: dt.date = FRI
    mandate_id: str = "M1"
    instrument_id: str = "AAPL"
    currency: str = "USD"


@dataclass(frozen=True)
class Book:
    mandate_id: str
    positions: dict[str, Decimal] = field(default_factory=dict)
    cash: dict[str, Decimal] = field(default_factory=dict)


def test_a_book_becomes_position_and_cash_items() -> None:
    book = Book("M1", {"AAPL": D(10), "SAP": D(-2)}, {"USD": D("5.25")})
    assert book_items(book) == [
        (ItemKey("M1", Scope.POSITION, instrument_id="AAPL"), D(10)),
        (ItemKey("M1", Scope.POSITION, instrument_id="SAP"), D(-2)),
        (ItemKey("M1", Scope.CASH, currency="USD"), D("5.25")),
    ]
    assert book_items(book, account="SUB-1")[2] == (
        ItemKey("M1", Scope.CASH, currency="USD", account="SUB-1"),
        D("5.25"),
    )
    assert book_items(book, account="SUB-1")[0][0].account == "SUB-1"


def test_ledger_securities_and_cash_accounts_become_items_and_others_are_ignored() -> None:
    balances = {
        "Assets:Securities:UST-2030": D(25000),
        "Assets:Cash:EUR": D("-3.10"),
        "Income:Interest:USD": D(-3),
        "Liabilities:Assets:Cash:USD": D(1),  # not an Assets:Cash: account, whatever it contains
    }
    assert ledger_items("M1", balances) == [
        (ItemKey("M1", Scope.POSITION, instrument_id="UST-2030"), D(25000)),
        (ItemKey("M1", Scope.CASH, currency="EUR"), D("-3.10")),
    ]


@pytest.mark.parametrize("side", ["BUY", Side.BUY])
def test_a_buy_adds_units_and_pays_cash(side: object) -> None:
    assert signed(Fill("F1", side)) == (D(100), D("-1000.50"))


@pytest.mark.parametrize("side", ["SELL", Side.SELL])
def test_a_sell_removes_units_and_receives_cash(side: object) -> None:
    assert signed(Fill("F1", side)) == (D(-100), D("1000.50"))


def test_a_fill_of_another_side_is_refused() -> None:
    with pytest.raises(ValueError, match=r"^fill F9: side 'HOLD' is neither BUY nor SELL$"):
        signed(Fill("F9", "HOLD"))


def pending(
    fills: list[Fill], today: dt.date, comparison: Comparison = BVC, **kwargs: object
) -> tuple[PendingSettlement, ...]:
    return pending_settlements(
        fills, today=today, comparison=comparison, settled_at_other=kwargs.pop("settled", ()), **kwargs
    )  # type: ignore[arg-type]


def test_book_vs_custodian_the_position_is_pending_from_the_trade_date_and_the_cash_from_the_settle_date() -> (
    None
):
    fill = Fill("F1", "BUY")  # traded Wednesday, settles Friday
    assert pending([fill], dt.date(2024, 3, 12)) == ()  # before the trade date: the book has nothing yet
    # Wednesday and Thursday: the position only (the book's cash moves on the settle date)
    for today in (WED, THU):
        assert pending([fill], today) == (
            PendingSettlement("M1", "F1", "AAPL", "USD", FRI, D(100), None, ()),
        )
    # Friday, the settle date, and after: the position and the cash
    for today in (FRI, dt.date(2024, 3, 18)):
        assert pending([fill], today) == (
            PendingSettlement("M1", "F1", "AAPL", "USD", FRI, D(100), D("-1000.50"), ()),
        )


def test_book_vs_ledger_only_the_cash_is_pending_and_only_from_the_settle_date() -> None:
    fill = Fill("F1", "SELL")
    assert pending([fill], THU, BVL) == ()  # the ledger books the units on the trade date too
    assert pending([fill], FRI, BVL) == (
        PendingSettlement("M1", "F1", "AAPL", "USD", FRI, None, D("1000.50"), ()),
    )


def test_settled_fills_are_not_pending_and_lineage_is_attached() -> None:
    fills = [Fill("F1", "BUY"), Fill("F2", "SELL", quantity=D(5))]
    got = pending(fills, THU, settled={"F1"}, caused_by={"F2": ("mkt-2", "cus-2"), "F3": ("x",)})
    assert got == (PendingSettlement("M1", "F2", "AAPL", "USD", FRI, D(-5), None, ("mkt-2", "cus-2")),)
    # A fill with no lineage given has none
    assert pending([Fill("F1", "BUY")], THU, caused_by={})[0].caused_by == ()


def test_book_vs_ledger_a_fill_not_yet_settled_does_not_hide_the_next() -> None:
    # F1 settles Friday, F2 settled Wednesday: on Thursday only F2's cash is pending against the ledger
    fills = [Fill("F1", "BUY"), Fill("F2", "BUY", trade_date=day_before(WED), settle_date=WED)]
    assert [p.fill_id for p in pending(fills, THU, BVL)] == ["F2"]


def day_before(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=1)
