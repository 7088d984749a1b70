"""Market events built by hand for the worked examples, and a small two-mandate world.

Each builder appends one MarketEvent with the next seq and an event_id
"mkt-<seq>", stamped at the phase time the engine uses for that kind, so
hand-built streams look like the real one (regime first each day, day end last).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal

from google.protobuf.timestamp_pb2 import Timestamp

from opsuite.common.v1 import common_pb2
from opsuite.market.v1 import market_pb2
from services.ledger.domain.records import JournalDraft
from services.ledger.domain.rules import InstrumentInfo, LedgerBook, MandateInfo

D = Decimal
TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"

MANDATES = {
    "M-FIFO": MandateInfo("M-FIFO", "USD", "FIFO"),
    "M-AVG": MandateInfo("M-AVG", "USD", "AVERAGE"),
}
INSTRUMENTS = {
    "US-AAA": InstrumentInfo("US-AAA", "USD", False),
    "UST-2030": InstrumentInfo("UST-2030", "USD", True),
    "EU-BBB": InstrumentInfo("EU-BBB", "EUR", False),
}


def new_book() -> LedgerBook:
    return LedgerBook(MANDATES, INSTRUMENTS)


def _date(day: dt.date) -> common_pb2.Date:
    return common_pb2.Date(year=day.year, month=day.month, day=day.day)


def _dec(value: str | Decimal) -> common_pb2.Decimal:
    return common_pb2.Decimal(value=str(value))


def _money(value: str | Decimal, ccy: str) -> common_pb2.Money:
    return common_pb2.Money(amount=_dec(value), currency=ccy)


class Stream:
    """Builds events in order; `book` (when given) applies each one and `drafts` collects what it posts."""

    def __init__(self, book: LedgerBook | None = None) -> None:
        self.book = book
        self.seq = 0
        self.events: list[market_pb2.MarketEvent] = []
        self.drafts: list[JournalDraft] = []
        self.flows = 0

    def _emit(
        self,
        day: dt.date,
        at: dt.time,
        kind: str,
        mandate_id: str = "",
        caused_by: Iterable[str] = (),
        **payload,
    ) -> list[JournalDraft]:
        self.seq += 1
        stamp = Timestamp()
        stamp.FromDatetime(dt.datetime.combine(day, at, tzinfo=dt.UTC))
        envelope = common_pb2.EventEnvelope(
            seq=self.seq,
            event_id=f"mkt-{self.seq}",
            sim_time=stamp,
            source="market",
            kind=kind,
            traceparent=TRACEPARENT,
            caused_by=list(caused_by),
            mandate_id=mandate_id,
        )
        event = market_pb2.MarketEvent(envelope=envelope, **payload)
        self.events.append(event)
        if self.book is None:
            return []
        drafts = self.book.apply(event)
        self.drafts.extend(drafts)
        return drafts

    @property
    def last_id(self) -> str:
        return f"mkt-{self.seq}"

    def regime(self, day: dt.date) -> list[JournalDraft]:
        return self._emit(
            day, dt.time(8), "market.regime", regime=market_pb2.RegimeState(date=_date(day), regime="calm")
        )

    def price(self, day: dt.date, instrument_id: str, price: str, ccy: str = "USD") -> list[JournalDraft]:
        quote = market_pb2.Price(
            instrument_id=instrument_id,
            price=_dec(price),
            currency=ccy,
            vendor="primary",
            price_date=_date(day),
        )
        return self._emit(day, dt.time(16), "price.tick", price=quote)

    def fx(self, day: dt.date, pair: str, rate: str, vendor: str = "primary") -> list[JournalDraft]:
        quote = market_pb2.FxRate(
            base_currency=pair[:3],
            quote_currency=pair[3:],
            rate=_dec(rate),
            vendor=vendor,
            rate_date=_date(day),
        )
        return self._emit(day, dt.time(16), "fx.rate", fx=quote)

    def fill(
        self,
        day: dt.date,
        fill_id: str,
        mandate_id: str,
        instrument_id: str,
        side: str,
        quantity: str,
        price: str,
        *,
        gross: str,
        net: str,
        commission: str = "0.00",
        fees: str = "0.00",
        accrued: str = "0.00",
        ccy: str = "USD",
        settle: dt.date | None = None,
    ) -> list[JournalDraft]:
        fill = market_pb2.Fill(
            fill_id=fill_id,
            order_id="ORD-" + fill_id,
            mandate_id=mandate_id,
            instrument_id=instrument_id,
            side=market_pb2.SIDE_BUY if side == "BUY" else market_pb2.SIDE_SELL,
            quantity=_dec(quantity),
            price=_dec(price),
            gross_amount=_money(gross, ccy),
            accrued_interest=_money(accrued, ccy),
            commission=_money(commission, ccy),
            fees=_money(fees, ccy),
            net_amount=_money(net, ccy),
            trade_date=_date(day),
            settle_date=_date(settle or day + dt.timedelta(days=2)),
            broker="BRK",
        )
        return self._emit(day, dt.time(16, 30), "trade.fill", mandate_id, fill=fill)

    def settlement(
        self,
        day: dt.date,
        fill_id: str,
        mandate_id: str,
        instrument_id: str,
        *,
        settled: bool,
        quantity: str,
        cash: str,
        ccy: str = "USD",
    ) -> list[JournalDraft]:
        status = market_pb2.SettlementStatus(
            fill_id=fill_id,
            custodian_ref="CUS-" + fill_id,
            mandate_id=mandate_id,
            instrument_id=instrument_id,
            state=market_pb2.SETTLEMENT_STATE_SETTLED if settled else market_pb2.SETTLEMENT_STATE_FAILED,
            settle_date=_date(day),
            quantity=_dec(quantity),
            cash_amount=_money(cash, ccy),
        )
        return self._emit(day, dt.time(17), "custodian.settlement", mandate_id, settlement=status)

    def dividend_announced(
        self,
        day: dt.date,
        action_id: str,
        instrument_id: str,
        per_unit: str,
        *,
        ex_date: dt.date,
        pay_date: dt.date,
        ccy: str = "USD",
    ) -> list[JournalDraft]:
        action = market_pb2.CorporateAction(
            action_id=action_id,
            instrument_id=instrument_id,
            kind=market_pb2.CORPORATE_ACTION_KIND_CASH_DIVIDEND,
            ex_date=_date(ex_date),
            record_date=_date(ex_date + dt.timedelta(days=1)),
            pay_date=_date(pay_date),
            amount_per_unit=_money(per_unit, ccy),
        )
        return self._emit(day, dt.time(16, 15), "corporate_action.announced", corporate_action=action)

    def cash_flow(
        self,
        day: dt.date,
        kind: str,
        mandate_id: str,
        amount: str,
        *,
        ccy: str = "USD",
        instrument_id: str = "",
        action_id: str = "",
        quantity: str | None = None,
    ) -> list[JournalDraft]:
        self.flows += 1
        flow = market_pb2.CashFlow(
            cash_flow_id=f"CF-{self.flows:07d}",
            mandate_id=mandate_id,
            kind=market_pb2.CashFlowKind.Value(f"CASH_FLOW_KIND_{kind.upper()}"),
            amount=_money(amount, ccy),
            instrument_id=instrument_id,
            action_id=action_id,
        )
        if quantity is not None:
            flow.quantity.CopyFrom(_dec(quantity))
        return self._emit(day, dt.time(16, 20), f"cashflow.{kind.lower()}", mandate_id, cash_flow=flow)

    def day_end(self, day: dt.date) -> list[JournalDraft]:
        return self._emit(day, dt.time(23, 59), "clock.day_end", day_end=market_pb2.DayEnd(date=_date(day)))


def legs(draft: JournalDraft) -> list[tuple[str, Decimal, str]]:
    """(account, amount, currency) of each posting, in order."""
    return [(p.account, p.amount, p.currency) for p in draft.postings]


def balances(drafts: Iterable[JournalDraft], mandate_id: str) -> dict[tuple[str, str], Decimal]:
    """(account, currency) -> summed amount over the drafts of one mandate."""
    out: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for draft in drafts:
        if draft.mandate_id == mandate_id:
            for posting in draft.postings:
                out[(posting.account, posting.currency)] += posting.amount
    return dict(out)
