"""A mandate's internal book from market's stream and the day's prices: what its NAV is computed from.

Reporting never reads the ledger to value a fund: it keeps its own book from the same events the
ledger books (the desk's fills, the internal cash flows, the dividends announced, the primary
prices and FX rates), so that the two NAVs side by side in a report are two sources, and where they
differ, the difference means something (docs/reporting-conventions.md).

- Positions move on the trade date; the cash of a trade is pending until its contractual settle date
  (the internal book's view: the custodian's late settlements move the ledger's cash, never the
  NAV, since cash plus pending is the same either way).
- A dividend accrues at the start of its ex-date on the position held then, quantized to the
  currency's minor unit, and the cash paid on the pay date comes out of the accrual.
- Coupons, subscriptions and redemptions move cash on the day their cash flow arrives.
- Management fees: each fee.accrued adds its amount to the accrued fees owed (a liability, by
  currency); the monthly cashflow.fee takes the cash out and the same amount off the accrued fees.
- FX deals (trade.fx): from the trade date the bought leg is a receivable and the sold leg a
  payable, each in its own currency, until the deal's settle date moves both into cash, as a
  trade's pending cash does (the custodian's report of it is not needed: it moves the ledger's
  cash, never the NAV).
- Bonds carry accrued interest from the day's primary quote.

The state is plain data, serialised to JSON with the cursor at each day end (to_json/from_json).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from services.common.fx_rates import FxRates
from services.common.market_events import (
    CashFlow,
    CashFlowKind,
    CorporateAction,
    CorporateActionKind,
    DayEnd,
    FeeAccrual,
    Fill,
    FxDeal,
    FxQuote,
    Instrument,
    Mandate,
    MarketEvent,
    PriceQuote,
    RegimeState,
    Side,
)
from services.common.money import quantize_money

PRIMARY_VENDOR = "primary"
ZERO = Decimal(0)
EXTERNAL_FLOWS = (CashFlowKind.SUBSCRIPTION, CashFlowKind.REDEMPTION)
STATE_VERSION = 1


@dataclass(frozen=True, slots=True)
class Quote:
    """The latest primary price of an instrument: clean per 100 for bonds, with accrued per 100."""

    price: Decimal
    price_date: dt.date
    accrued_per_100: Decimal = ZERO


@dataclass(slots=True)
class PendingCash:
    """A trade's cash, or an FX deal's leg, until its settle date: signed from the mandate's side
    (- a purchase or the leg paid)."""

    settle_date: dt.date
    currency: str
    amount: Decimal


@dataclass(slots=True)
class Dividend:
    """An announced dividend, kept until its pay date has passed (a repeated announcement of it is
    ignored, as the ledger ignores it)."""

    instrument_id: str
    ex_date: dt.date
    pay_date: dt.date
    amount_per_unit: Decimal
    currency: str
    accrued: bool = False


@dataclass(slots=True)
class MandateBook:
    """One mandate's internal book: quantities, settled cash, pending trade cash, accrued dividends,
    management fees accrued and not yet paid (positive: owed), and the day's external flows
    (subscriptions +, redemptions -) in each currency."""

    positions: dict[str, Decimal] = field(default_factory=dict)
    cash: dict[str, Decimal] = field(default_factory=dict)
    pending: dict[str, PendingCash] = field(default_factory=dict)  # by fill id, or "<deal id>:<CCY>"
    accrued_dividends: dict[str, Decimal] = field(default_factory=dict)  # by currency
    accrued_fees: dict[str, Decimal] = field(default_factory=dict)  # by currency
    flows_today: dict[str, Decimal] = field(default_factory=dict)

    def add_cash(self, currency: str, amount: Decimal) -> None:
        self.cash[currency] = self.cash.get(currency, ZERO) + amount


@dataclass(frozen=True, slots=True)
class DayEndBook:
    """A mandate's book at a day end, with the quotes and rates to value it."""

    mandate: Mandate
    date: dt.date
    seq: int
    positions: Mapping[str, Decimal]
    cash: Mapping[str, Decimal]
    payables: Mapping[str, Decimal]  # unsettled purchases, positive, by currency
    receivables: Mapping[str, Decimal]  # unsettled sales, positive, by currency
    accrued_dividends: Mapping[str, Decimal]
    accrued_fees: Mapping[str, Decimal]  # management fees accrued and not yet paid, positive
    flows: Mapping[str, Decimal]  # the day's subscriptions less redemptions, by currency
    quotes: Mapping[str, Quote]
    fx: FxRates


class ReportingBook:
    """Every mandate's book, moved on by market's events in seq order."""

    def __init__(self, mandates: Iterable[Mandate], instruments: Iterable[Instrument]) -> None:
        self.mandates = {m.mandate_id: m for m in mandates}
        self.instruments = {i.instrument_id: i for i in instruments}
        self.books = {mandate_id: MandateBook() for mandate_id in self.mandates}
        self.quotes: dict[str, Quote] = {}
        self.fx = FxRates()
        self.dividends: dict[str, Dividend] = {}  # by action id, until accrued
        self.date: dt.date | None = None
        # What a total return needs besides prices: the dividends per share going ex today, by
        # instrument, and the day's effective fed funds rate (the benchmark's USD cash).
        self.ex_today: dict[str, Decimal] = {}
        self.fed_funds_pct: float | None = None

    def apply(self, event: MarketEvent) -> list[DayEndBook]:
        """Move the books past one event; at a day end, each mandate's book as it stands then."""
        day = event.sim_time.date()
        if self.date is None or day > self.date:
            self._start_day(day)
            self.date = day
        payload = event.payload
        if isinstance(payload, RegimeState):
            self.fed_funds_pct = payload.fed_funds_pct
        elif isinstance(payload, PriceQuote):
            if payload.vendor == PRIMARY_VENDOR:
                self.quotes[payload.instrument_id] = Quote(
                    payload.price, payload.price_date, payload.accrued_interest or ZERO
                )
        elif isinstance(payload, FxQuote):
            if payload.vendor == PRIMARY_VENDOR:
                self.fx.update(payload.base_currency, payload.quote_currency, payload.rate)
        elif isinstance(payload, Fill):
            self._fill(payload)
        elif isinstance(payload, FxDeal):
            book = self.books[payload.mandate_id]
            for currency, amount in payload.signed_legs():
                book.pending[f"{payload.deal_id}:{currency}"] = PendingCash(
                    payload.settle_date, currency, amount
                )
        elif isinstance(payload, CorporateAction):
            if payload.kind == CorporateActionKind.CASH_DIVIDEND and payload.action_id not in self.dividends:
                currency = payload.currency or self.instruments[payload.instrument_id].currency
                self.dividends[payload.action_id] = Dividend(
                    payload.instrument_id,
                    payload.ex_date,
                    payload.pay_date,
                    payload.amount_per_unit,
                    currency,
                )
        elif isinstance(payload, CashFlow):
            self._cash_flow(payload)
        elif isinstance(payload, FeeAccrual):
            book = self.books[payload.mandate_id]
            ccy = payload.currency
            book.accrued_fees[ccy] = book.accrued_fees.get(ccy, ZERO) + payload.amount
        elif isinstance(payload, DayEnd):
            return self._day_end(payload.date, event.seq)
        return []

    def _start_day(self, day: dt.date) -> None:
        """Dividends go ex on the position held at the start of the ex-date."""
        self.ex_today = {}
        for action_id, dividend in list(self.dividends.items()):
            if dividend.accrued and dividend.pay_date < day:
                del self.dividends[action_id]
            if dividend.accrued or dividend.ex_date > day:
                continue
            dividend.accrued = True
            self.ex_today[dividend.instrument_id] = (
                self.ex_today.get(dividend.instrument_id, ZERO) + dividend.amount_per_unit
            )
            for book in self.books.values():
                quantity = book.positions.get(dividend.instrument_id, ZERO)
                if quantity <= 0:
                    continue
                amount = quantize_money(quantity * dividend.amount_per_unit, dividend.currency)
                ccy = dividend.currency
                book.accrued_dividends[ccy] = book.accrued_dividends.get(ccy, ZERO) + amount

    def _fill(self, fill: Fill) -> None:
        book = self.books[fill.mandate_id]
        signed = fill.quantity if fill.side is Side.BUY else -fill.quantity
        quantity = book.positions.get(fill.instrument_id, ZERO) + signed
        if quantity:
            book.positions[fill.instrument_id] = quantity
        else:
            book.positions.pop(fill.instrument_id, None)
        cash = -fill.net_amount if fill.side is Side.BUY else fill.net_amount
        book.pending[fill.fill_id] = PendingCash(fill.settle_date, fill.currency, cash)

    def _cash_flow(self, flow: CashFlow) -> None:
        book = self.books[flow.mandate_id]
        book.add_cash(flow.currency, flow.amount)
        if flow.kind is CashFlowKind.DIVIDEND:
            ccy = flow.currency
            book.accrued_dividends[ccy] = book.accrued_dividends.get(ccy, ZERO) - flow.amount
        elif flow.kind is CashFlowKind.FEE:
            # A fee paid (negative) settles what was accrued: the liability falls by the amount paid.
            ccy = flow.currency
            book.accrued_fees[ccy] = book.accrued_fees.get(ccy, ZERO) + flow.amount
        elif flow.kind in EXTERNAL_FLOWS:
            book.flows_today[flow.currency] = book.flows_today.get(flow.currency, ZERO) + flow.amount

    def _day_end(self, day: dt.date, seq: int) -> list[DayEndBook]:
        ends: list[DayEndBook] = []
        for mandate_id, book in self.books.items():
            for fill_id in [f for f, p in book.pending.items() if p.settle_date <= day]:
                settled = book.pending.pop(fill_id)
                book.add_cash(settled.currency, settled.amount)
            payables: dict[str, Decimal] = {}
            receivables: dict[str, Decimal] = {}
            for pending in book.pending.values():
                side = payables if pending.amount < 0 else receivables
                side[pending.currency] = side.get(pending.currency, ZERO) + abs(pending.amount)
            ends.append(
                DayEndBook(
                    mandate=self.mandates[mandate_id],
                    date=day,
                    seq=seq,
                    positions=dict(book.positions),
                    cash=dict(book.cash),
                    payables=payables,
                    receivables=receivables,
                    accrued_dividends=dict(book.accrued_dividends),
                    accrued_fees=dict(book.accrued_fees),
                    flows=dict(book.flows_today),
                    quotes={iid: self.quotes[iid] for iid in book.positions if iid in self.quotes},
                    fx=FxRates(self.fx.pairs),
                )
            )
            book.flows_today = {}
        return ends

    # ------------------------------------------------------------ state

    def to_json(self) -> str:
        return json.dumps(
            {
                "version": STATE_VERSION,
                "date": self.date.isoformat() if self.date else None,
                "ex_today": _decimals(self.ex_today),
                "fed_funds_pct": self.fed_funds_pct,
                "quotes": {
                    iid: [str(q.price), q.price_date.isoformat(), str(q.accrued_per_100)]
                    for iid, q in self.quotes.items()
                },
                "fx": {pair: str(rate) for pair, rate in self.fx.pairs.items()},
                "dividends": {
                    action_id: [
                        d.instrument_id,
                        d.ex_date.isoformat(),
                        d.pay_date.isoformat(),
                        str(d.amount_per_unit),
                        d.currency,
                        d.accrued,
                    ]
                    for action_id, d in self.dividends.items()
                },
                "books": {mandate_id: _book_json(book) for mandate_id, book in self.books.items()},
            },
            sort_keys=True,
        )

    def restore(self, text: str) -> None:
        """Take the state of `to_json` (for the same mandates and instruments)."""
        data = json.loads(text)
        if data.get("version") != STATE_VERSION:
            raise ValueError(f"reporting state version {data.get('version')}, expected {STATE_VERSION}")
        self.date = dt.date.fromisoformat(data["date"]) if data["date"] else None
        self.ex_today = {iid: Decimal(amount) for iid, amount in data["ex_today"].items()}
        self.fed_funds_pct = data["fed_funds_pct"]
        self.quotes = {
            iid: Quote(Decimal(p), dt.date.fromisoformat(d), Decimal(a))
            for iid, (p, d, a) in data["quotes"].items()
        }
        self.fx = FxRates({pair: Decimal(rate) for pair, rate in data["fx"].items()})
        self.dividends = {
            action_id: Dividend(
                iid, dt.date.fromisoformat(ex), dt.date.fromisoformat(pay), Decimal(amount), ccy, accrued
            )
            for action_id, (iid, ex, pay, amount, ccy, accrued) in data["dividends"].items()
        }
        for mandate_id, book in data["books"].items():
            if mandate_id in self.books:
                self.books[mandate_id] = _book_from_json(book)


def _decimals(values: Mapping[str, Decimal]) -> dict[str, str]:
    return {key: str(value) for key, value in values.items()}


def _book_json(book: MandateBook) -> dict[str, Any]:
    return {
        "positions": _decimals(book.positions),
        "cash": _decimals(book.cash),
        "pending": {
            fill_id: [p.settle_date.isoformat(), p.currency, str(p.amount)]
            for fill_id, p in book.pending.items()
        },
        "accrued_dividends": _decimals(book.accrued_dividends),
        "accrued_fees": _decimals(book.accrued_fees),
        "flows_today": _decimals(book.flows_today),
    }


def _book_from_json(data: Mapping[str, Any]) -> MandateBook:
    def decimals(values: Mapping[str, str]) -> dict[str, Decimal]:
        return {key: Decimal(value) for key, value in values.items()}

    return MandateBook(
        positions=decimals(data["positions"]),
        cash=decimals(data["cash"]),
        pending={
            fill_id: PendingCash(dt.date.fromisoformat(d), ccy, Decimal(a))
            for fill_id, (d, ccy, a) in data["pending"].items()
        },
        accrued_dividends=decimals(data["accrued_dividends"]),
        # A state saved before fees were accrued has none owed.
        accrued_fees=decimals(data.get("accrued_fees", {})),
        flows_today=decimals(data["flows_today"]),
    )
