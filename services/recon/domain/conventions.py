"""The books' conventions: what each book counts when, turned into items and pending settlements.

- The internal book (services/market/sim/books.py): positions on TRADE date, cash on
  the fill's contractual SETTLE date.
- The custodian (services/market/sim/custodian.py): positions and cash when it
  actually settles (its custodian.settlement SETTLED report).
- The ledger (docs/ledger-design.md): Assets:Securities:<instrument> quantities on
  trade date; Assets:Cash:<CCY> when the custodian reports SETTLED.

So, for a fill the other side has not settled yet:
- book vs custodian: the position differs by its quantity from the trade date on,
  the cash by its net amount once the contractual settle date has come;
- book vs ledger: positions agree; the cash differs once the settle date has come.

An FX deal's two legs are trade cash like a fill's: the internal book moves them on the
deal's settle date, the custodian and the ledger on the custodian's custodian.fx_settlement
SETTLED report. So each leg of a deal the custodian has not reported settled explains its
amount in its currency once the settle date has come, book vs custodian and book vs ledger
alike (the ledger follows the same report, so ledger vs custodian has nothing pending).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Mapping
from decimal import Decimal
from typing import Protocol

from services.recon.domain.records import Comparison, ItemKey, PendingSettlement, Scope

SECURITIES = "Assets:Securities:"
CASH = "Assets:Cash:"


class BookLike(Protocol):
    """market's records.Book (and its protobuf twin) fit."""

    @property
    def mandate_id(self) -> str: ...
    @property
    def positions(self) -> Mapping[str, Decimal]: ...
    @property
    def cash(self) -> Mapping[str, Decimal]: ...


class FillLike(Protocol):
    """market's records.Fill fits; side is "BUY" or "SELL" (or an enum with that value)."""

    @property
    def fill_id(self) -> str: ...
    @property
    def mandate_id(self) -> str: ...
    @property
    def instrument_id(self) -> str: ...
    @property
    def side(self) -> object: ...
    @property
    def quantity(self) -> Decimal: ...
    @property
    def net_amount(self) -> Decimal: ...
    @property
    def currency(self) -> str: ...
    @property
    def trade_date(self) -> dt.date: ...
    @property
    def settle_date(self) -> dt.date: ...


def book_items(book: BookLike, account: str = "") -> list[tuple[ItemKey, Decimal]]:
    """A book's positions and cash balances as compared items."""
    items = [
        (ItemKey(book.mandate_id, Scope.POSITION, instrument_id=i, account=account), q)
        for i, q in book.positions.items()
    ]
    items.extend(
        (ItemKey(book.mandate_id, Scope.CASH, currency=c, account=account), a) for c, a in book.cash.items()
    )
    return items


def ledger_items(mandate_id: str, balances: Mapping[str, Decimal]) -> list[tuple[ItemKey, Decimal]]:
    """Ledger balances by account name: Securities quantities and Cash amounts; other accounts ignored."""
    items: list[tuple[ItemKey, Decimal]] = []
    for account, value in balances.items():
        if account.startswith(SECURITIES):
            items.append(
                (ItemKey(mandate_id, Scope.POSITION, instrument_id=account.removeprefix(SECURITIES)), value)
            )
        elif account.startswith(CASH):
            items.append((ItemKey(mandate_id, Scope.CASH, currency=account.removeprefix(CASH)), value))
    return items


def signed(fill: FillLike) -> tuple[Decimal, Decimal]:
    """(quantity, cash) from the mandate's side: a buy adds units and pays cash."""
    side = getattr(fill.side, "value", fill.side)
    if side == "BUY":
        return fill.quantity, -fill.net_amount
    if side == "SELL":
        return -fill.quantity, fill.net_amount
    raise ValueError(f"fill {fill.fill_id}: side {side!r} is neither BUY nor SELL")


def pending_settlements(
    fills: Iterable[FillLike],
    *,
    today: dt.date,
    comparison: Comparison,
    settled_at_other: Collection[str],
    caused_by: Mapping[str, tuple[str, ...]] | None = None,
) -> tuple[PendingSettlement, ...]:
    """What the book counts and the other side does not yet, for fills traded by `today`.

    settled_at_other: fill ids the custodian has reported SETTLED (the ledger follows
    those reports too). caused_by: fill id -> event ids (the fill, the custodian trade).
    """
    out: list[PendingSettlement] = []
    for fill in fills:
        if fill.trade_date > today or fill.fill_id in settled_at_other:
            continue
        quantity, cash = signed(fill)
        cash_moved = fill.settle_date <= today
        if comparison is Comparison.BOOK_VS_LEDGER:
            if not cash_moved:
                continue
            pending_quantity: Decimal | None = None
        else:
            pending_quantity = quantity
        out.append(
            PendingSettlement(
                mandate_id=fill.mandate_id,
                fill_id=fill.fill_id,
                instrument_id=fill.instrument_id,
                currency=fill.currency,
                settle_date=fill.settle_date,
                quantity=pending_quantity,
                amount=cash if cash_moved else None,
                caused_by=(caused_by or {}).get(fill.fill_id, ()),
            )
        )
    return tuple(out)


class FxDealLike(Protocol):
    """recon's KeptFxDeal fits: a deal's legs from the mandate's side."""

    @property
    def deal_id(self) -> str: ...
    @property
    def mandate_id(self) -> str: ...
    @property
    def trade_date(self) -> dt.date: ...
    @property
    def settle_date(self) -> dt.date: ...
    @property
    def settled_on(self) -> dt.date | None: ...
    @property
    def caused_by(self) -> tuple[str, ...]: ...
    def signed_legs(self) -> tuple[tuple[str, Decimal], tuple[str, Decimal]]: ...


def pending_fx_legs(
    deals: Iterable[FxDealLike], *, today: dt.date, comparison: Comparison
) -> tuple[PendingSettlement, ...]:
    """The legs of FX deals the custodian has not reported settled by `today`, once their settle date
    has come (the internal book has moved them, the custodian and the ledger not yet): cash only, in
    each leg's currency. None ledger vs custodian: both move on the same report."""
    if comparison is Comparison.LEDGER_VS_CUSTODIAN:
        return ()
    out: list[PendingSettlement] = []
    for deal in deals:
        if deal.settled_on is not None or deal.settle_date > today:
            continue
        for currency, amount in deal.signed_legs():
            out.append(
                PendingSettlement(
                    mandate_id=deal.mandate_id,
                    fill_id=deal.deal_id,
                    instrument_id="",
                    currency=currency,
                    settle_date=deal.settle_date,
                    quantity=None,
                    amount=amount,
                    caused_by=deal.caused_by,
                )
            )
    return tuple(out)
