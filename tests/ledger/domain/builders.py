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
    FxSettlement,
    MarketEvent,
    Payload,
    PriceQuote,
    RegimeState,
    SettlementState,
    SettlementStatus,
    Side,
)
from services.ledger.domain.records import JournalDraft, JournalKind, Posting
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


def regime_state(day: dt.date) -> RegimeState:
    return RegimeState(day, "calm", 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, {})


class Stream:
    """Builds events in order; `book` (when given) applies each one and `drafts` collects what it posts."""

    def __init__(self, book: LedgerBook | None = None) -> None:
        self.book = book
        self.seq = 0
        self.events: list[MarketEvent] = []
        self.drafts: list[JournalDraft] = []
        self.flows = 0

    def _emit(
        self,
        day: dt.date,
        at: dt.time,
        kind: str,
        mandate_id: str = "",
        caused_by: Iterable[str] = (),
        *,
        payload: Payload,
    ) -> list[JournalDraft]:
        self.seq += 1
        event = MarketEvent(
            seq=self.seq,
            event_id=f"mkt-{self.seq}",
            sim_time=dt.datetime.combine(day, at, tzinfo=dt.UTC),
            kind=kind,
            payload=payload,
            mandate_id=mandate_id,
            caused_by=tuple(caused_by),
            traceparent=TRACEPARENT,
            trace_id=TRACE_ID,
        )
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
        return self._emit(day, dt.time(8), "market.regime", payload=regime_state(day))

    def price(
        self,
        day: dt.date,
        instrument_id: str,
        price: str,
        ccy: str = "USD",
        *,
        accrued: str | None = None,
        vendor: str = "primary",
    ) -> list[JournalDraft]:
        """A quote; bonds' quotes carry `accrued` interest per 100 face, as market's do."""
        quote = PriceQuote(instrument_id, D(price), ccy, vendor, day, None if accrued is None else D(accrued))
        return self._emit(day, dt.time(16), "price.tick", payload=quote)

    def fx(self, day: dt.date, pair: str, rate: str, vendor: str = "primary") -> list[JournalDraft]:
        quote = FxQuote(pair[:3], pair[3:], D(rate), vendor, day)
        return self._emit(day, dt.time(16), "fx.rate", payload=quote)

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
        fill = Fill(
            fill_id=fill_id,
            order_id="ORD-" + fill_id,
            mandate_id=mandate_id,
            instrument_id=instrument_id,
            side=Side(side),
            quantity=D(quantity),
            price=D(price),
            currency=ccy,
            gross_amount=D(gross),
            accrued_interest=D(accrued),
            commission=D(commission),
            fees=D(fees),
            net_amount=D(net),
            trade_date=day,
            settle_date=settle or day + dt.timedelta(days=2),
            broker="BRK",
        )
        return self._emit(day, dt.time(16, 30), "trade.fill", mandate_id, payload=fill)

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
        status = SettlementStatus(
            fill_id=fill_id,
            custodian_ref="CUS-" + fill_id,
            mandate_id=mandate_id,
            instrument_id=instrument_id,
            state=SettlementState.SETTLED if settled else SettlementState.FAILED,
            settle_date=day,
            quantity=D(quantity),
            cash_amount=D(cash),
            currency=ccy,
        )
        return self._emit(day, dt.time(17), "custodian.settlement", mandate_id, payload=status)

    def fx_deal(
        self,
        day: dt.date,
        deal_id: str,
        mandate_id: str,
        *,
        bought: tuple[str, str],
        sold: tuple[str, str],
        rate: str,
        settle: dt.date,
    ) -> list[JournalDraft]:
        """An FX deal; bought and sold are (amount, currency), rate base per unit of the other currency."""
        deal = FxDeal(deal_id, mandate_id, bought[1], D(bought[0]), sold[1], D(sold[0]), D(rate), day, settle)
        return self._emit(day, dt.time(16, 30), "trade.fx", mandate_id, payload=deal)

    def fx_settlement(
        self,
        day: dt.date,
        deal_id: str,
        mandate_id: str,
        *,
        bought: tuple[str, str],
        sold: tuple[str, str],
        settled: bool = True,
    ) -> list[JournalDraft]:
        report = FxSettlement(
            custodian_ref="CUS-FX-" + deal_id,
            deal_id=deal_id,
            mandate_id=mandate_id,
            state=SettlementState.SETTLED if settled else SettlementState.FAILED,
            settle_date=day,
            bought_currency=bought[1],
            bought_amount=D(bought[0]),
            sold_currency=sold[1],
            sold_amount=D(sold[0]),
        )
        return self._emit(day, dt.time(17), "custodian.fx_settlement", mandate_id, payload=report)

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
        action = CorporateAction(
            action_id=action_id,
            instrument_id=instrument_id,
            kind=CorporateActionKind.CASH_DIVIDEND,
            ex_date=ex_date,
            record_date=ex_date + dt.timedelta(days=1),
            pay_date=pay_date,
            amount_per_unit=D(per_unit),
            currency=ccy,
        )
        return self._emit(day, dt.time(16, 15), "corporate_action.announced", payload=action)

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
        flow = CashFlow(
            cash_flow_id=f"CF-{self.flows:07d}",
            mandate_id=mandate_id,
            kind=CashFlowKind(kind.upper()),
            amount=D(amount),
            currency=ccy,
            instrument_id=instrument_id,
            action_id=action_id,
            quantity=None if quantity is None else D(quantity),
        )
        return self._emit(day, dt.time(16, 20), f"cashflow.{kind.lower()}", mandate_id, payload=flow)

    def fee_accrued(
        self, day: dt.date, mandate_id: str, amount: str, *, nav: str, rate: str, days: int, ccy: str = "USD"
    ) -> list[JournalDraft]:
        """A management fee accrued at the start of `day` (08:00, as market emits it)."""
        accrual = FeeAccrual(mandate_id, D(amount), ccy, day, D(nav), D(rate), days)
        return self._emit(day, dt.time(8), "fee.accrued", mandate_id, payload=accrual)

    def day_end(self, day: dt.date) -> list[JournalDraft]:
        return self._emit(day, dt.time(23, 59), "clock.day_end", payload=DayEnd(day, 0, 0))


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


D1, D2, D3, D4 = (dt.date(2024, 3, 4) + dt.timedelta(days=n) for n in range(4))
DRAFT_DAY = D2


def started(day: dt.date = D1) -> Stream:
    """A stream on a fresh book whose first day has begun (regime, EURUSD 1.1000)."""
    stream = Stream(new_book())
    stream.regime(day)
    stream.fx(day, "EURUSD", "1.1000")
    return stream


def draft(*postings: Posting, key: str = "manual-1", mandate_id: str = "M1") -> JournalDraft:
    """A manual journal of `postings` on DRAFT_DAY (Tue 5 Mar 2024)."""
    return JournalDraft(
        mandate_id=mandate_id,
        kind=JournalKind.MANUAL,
        effective_date=DRAFT_DAY,
        sim_time=dt.datetime.combine(DRAFT_DAY, dt.time(12), tzinfo=dt.UTC),
        postings=postings,
        idempotency_key=key,
    )
