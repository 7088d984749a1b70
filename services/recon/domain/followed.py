"""What recon remembers from market's stream between day ends, and how it is kept.

FollowedState applies market_events records (the fills, the custodian's trades, settlements,
cash flows and corrections, the desk's FX deals and the custodian's reports of their settlement,
the day ends); to_json() is committed with the cursor at each day end, so a restarted recon resumes
from exactly what it knew then.

The custodian's corrections (custodian.correction): CANCEL_TRADE marks a booking cancelled (kept
for the lineage, no longer a live record; its rebooking arrives as a custodian.trade naming it in
replaces_ref); VALUE_DATE sets a cash flow's value date; INCOME_ADJUSTMENT adds to the custodian's
amount of a cash flow (its value date when the custodian had booked none).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from services.common.calendar import BusinessCalendar
from services.common.market_events import (
    CashFlow,
    Confirmation,
    CorrectionKind,
    CustodianCashFlow,
    CustodianCorrection,
    CustodianTrade,
    Fill,
    FxDeal,
    FxSettlement,
    MarketEvent,
    SettlementState,
    SettlementStatus,
)
from services.common.market_events import DayEnd as MarketDayEnd
from services.recon.domain.log_entries import LogEntry
from services.recon.domain.records import (
    BookTrade,
    Break,
    CashFlowRecord,
    Comparison,
    CustodianTradeRecord,
    Scope,
)

MAX_BREAK_TRACEPARENTS = 50_000
FLOW_LINEAGE_DAYS = 31  # matched cash flows are kept this long (calendar days) for late adjustments
STATE_VERSION = 5
# Version 1 and 2 states were written before FX deals, 3 before replaced confirmations: they load
# with none. Version 4 wrote the dates and day_end_seqs as ISO strings (_packed_dates below).
READABLE_VERSIONS = (1, 2, 3, 4, STATE_VERSION)


def _encode(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [_encode(v) for v in value]
    return value


def _packed_dates(days: list[dt.date], seqs: list[int] | None = None) -> dict[str, Any]:
    """Ascending dates as the first and the gaps in days, and their seqs as the first and the steps.

    These grow by one a day end and are written at every day end: over a decade, 2,520 dates and
    seqs as ISO strings and a dict were about 86 KB of each day end's state; as small numbers, about 20
    (tests/recon/domain/test_followed_state.py)."""
    if not days:
        return {"first": None, "gaps": []}
    ordinals = [day.toordinal() for day in days]
    packed: dict[str, Any] = {
        "first": days[0].isoformat(),
        "gaps": [b - a for a, b in itertools.pairwise(ordinals)],
    }
    if seqs is not None:
        packed["first_seq"] = seqs[0]
        packed["steps"] = [b - a for a, b in itertools.pairwise(seqs)]
    return packed


def _unpacked_dates(packed: dict[str, Any]) -> list[dt.date]:
    if packed["first"] is None:
        return []
    first = dt.date.fromisoformat(packed["first"]).toordinal()
    return [dt.date.fromordinal(day) for day in itertools.accumulate(packed["gaps"], initial=first)]


def _unpacked_seqs(packed: dict[str, Any]) -> list[int]:
    if packed["first"] is None:
        return []
    return list(itertools.accumulate(packed["steps"], initial=int(packed["first_seq"])))


def _dump(obj: Any) -> dict[str, Any]:
    return {f.name: _encode(getattr(obj, f.name)) for f in dataclasses.fields(obj)}


def _decimal(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


def _date(value: str | None) -> dt.date | None:
    return None if value is None else dt.date.fromisoformat(value)


def _seq_of(event_id: str) -> int:
    """market's event ids are mkt-<seq>: the order of two events of the stream (0 when not one)."""
    tail = event_id.rpartition("-")[2]
    return int(tail) if tail.isdigit() else 0


# ------------------------------------------------------------------ what recon remembers


@dataclass(slots=True)
class KeptFill:
    """A fill as recon keeps it until the custodian settled it and agrees with it (FillLike)."""

    fill_id: str
    mandate_id: str
    instrument_id: str
    side: str  # "BUY" / "SELL"
    quantity: Decimal
    price: Decimal
    net_amount: Decimal
    currency: str
    trade_date: dt.date
    settle_date: dt.date
    event_id: str

    def book_trade(self) -> BookTrade:
        return BookTrade(
            self.fill_id,
            self.mandate_id,
            self.instrument_id,
            self.side,
            self.quantity,
            self.price,
            self.currency,
            self.trade_date,
            self.settle_date,
            self.event_id,
        )

    @classmethod
    def load(cls, data: dict[str, Any]) -> KeptFill:
        return cls(
            **{
                **data,
                "quantity": Decimal(data["quantity"]),
                "price": Decimal(data["price"]),
                "net_amount": Decimal(data["net_amount"]),
                "trade_date": dt.date.fromisoformat(data["trade_date"]),
                "settle_date": dt.date.fromisoformat(data["settle_date"]),
            }
        )


@dataclass(slots=True)
class KeptBooking:
    """One custodian.trade, and what the custodian reported about it since.

    settled_on: the date it reported it SETTLED (None: not yet); failed_on / fail_reason: its latest
    FAILED report; cancelled_on: the day a custodian.correction cancelled it (None: live)."""

    custodian_ref: str
    fill_id: str
    mandate_id: str
    instrument_id: str
    side: str
    quantity: Decimal
    price: Decimal
    currency: str
    trade_date: dt.date
    settle_date: dt.date  # contractual, as the custodian booked it
    event_id: str
    settled_on: dt.date | None = None
    status_event_ids: list[str] = field(default_factory=list)
    failed_on: dt.date | None = None
    fail_reason: str = ""
    cancelled_on: dt.date | None = None

    @property
    def live(self) -> bool:
        return self.cancelled_on is None

    def record(self) -> CustodianTradeRecord:
        return CustodianTradeRecord(
            self.custodian_ref,
            self.fill_id,
            self.mandate_id,
            self.instrument_id,
            self.side,
            self.quantity,
            self.price,
            self.currency,
            self.trade_date,
            self.settle_date,
            self.event_id,
            settled_on=self.settled_on,
            failed_on=self.failed_on,
            fail_reason=self.fail_reason,
        )

    @classmethod
    def load(cls, data: dict[str, Any]) -> KeptBooking:
        return cls(
            **{
                **data,
                "quantity": Decimal(data["quantity"]),
                "price": Decimal(data["price"]),
                "trade_date": dt.date.fromisoformat(data["trade_date"]),
                "settle_date": dt.date.fromisoformat(data["settle_date"]),
                "settled_on": _date(data["settled_on"]),
                "status_event_ids": list(data["status_event_ids"]),
                "failed_on": _date(data.get("failed_on")),
                "fail_reason": data.get("fail_reason", ""),
                "cancelled_on": _date(data.get("cancelled_on")),
            }
        )


@dataclass(slots=True)
class KeptFlow:
    """A cash flow as the internal book and the custodian booked it (either side may be missing yet).

    custodian_amount: the custodian's booking plus its income adjustments; custodian_date: its value
    date, as a VALUE_DATE correction left it (an adjustment's date when it booked nothing).
    correction_event_ids: the custodian.correction events about it, oldest first."""

    cash_flow_id: str
    mandate_id: str
    currency: str = ""
    internal_amount: Decimal | None = None
    internal_date: dt.date | None = None
    internal_event_id: str = ""
    custodian_amount: Decimal | None = None
    custodian_date: dt.date | None = None
    custodian_event_id: str = ""
    kind: str = ""
    instrument_id: str = ""
    correction_event_ids: list[str] = field(default_factory=list)

    @property
    def matched(self) -> bool:
        """Book and custodian agree: the same amount and date, or nothing on either side."""
        book = self.internal_amount if self.internal_amount is not None else Decimal(0)
        other = self.custodian_amount if self.custodian_amount is not None else Decimal(0)
        if book != other:
            return False
        return book == 0 or self.internal_date == self.custodian_date

    @property
    def first_date(self) -> dt.date | None:
        dates = [d for d in (self.internal_date, self.custodian_date) if d is not None]
        return min(dates, default=None)

    @property
    def event_ids(self) -> tuple[str, ...]:
        return tuple(
            e for e in (self.internal_event_id, self.custodian_event_id, *self.correction_event_ids) if e
        )

    @property
    def resolving_event(self) -> str:
        """The custodian's latest message about it ("" when none)."""
        return (self.correction_event_ids or [self.custodian_event_id])[-1]

    def record(self) -> CashFlowRecord:
        return CashFlowRecord(
            cash_flow_id=self.cash_flow_id,
            mandate_id=self.mandate_id,
            currency=self.currency,
            kind=self.kind,
            instrument_id=self.instrument_id,
            book_amount=self.internal_amount,
            book_date=self.internal_date,
            custodian_amount=self.custodian_amount,
            custodian_date=self.custodian_date,
            event_ids=self.event_ids,
        )

    @classmethod
    def load(cls, data: dict[str, Any]) -> KeptFlow:
        return cls(
            **{
                **data,
                "internal_amount": _decimal(data["internal_amount"]),
                "internal_date": _date(data["internal_date"]),
                "custodian_amount": _decimal(data["custodian_amount"]),
                "custodian_date": _date(data["custodian_date"]),
                "kind": data.get("kind", ""),
                "instrument_id": data.get("instrument_id", ""),
                "correction_event_ids": list(data.get("correction_event_ids", ())),
            }
        )


@dataclass(slots=True)
class KeptFxDeal:
    """An FX deal (trade.fx) until the custodian reports it settled: its two legs' cash moves in the
    internal book on settle_date, at the custodian (and so in the ledger) on its SETTLED report.
    Amounts positive, as on the deal."""

    deal_id: str
    mandate_id: str
    bought_currency: str
    bought_amount: Decimal
    sold_currency: str
    sold_amount: Decimal
    trade_date: dt.date
    settle_date: dt.date
    event_id: str
    settled_on: dt.date | None = None
    status_event_ids: list[str] = field(default_factory=list)

    def signed_legs(self) -> tuple[tuple[str, Decimal], tuple[str, Decimal]]:
        """((currency, +received), (currency, -paid)), from the mandate's side."""
        return (self.bought_currency, self.bought_amount), (self.sold_currency, -self.sold_amount)

    @property
    def caused_by(self) -> tuple[str, ...]:
        return (self.event_id, *self.status_event_ids)

    @classmethod
    def load(cls, data: dict[str, Any]) -> KeptFxDeal:
        return cls(
            **{
                **data,
                "bought_amount": Decimal(data["bought_amount"]),
                "sold_amount": Decimal(data["sold_amount"]),
                "trade_date": dt.date.fromisoformat(data["trade_date"]),
                "settle_date": dt.date.fromisoformat(data["settle_date"]),
                "settled_on": _date(data["settled_on"]),
                "status_event_ids": list(data["status_event_ids"]),
            }
        )


@dataclass(frozen=True, slots=True)
class DayEnd:
    """One clock.day_end event: the check's as-of."""

    seq: int
    date: dt.date
    sim_time: dt.datetime
    event_id: str
    traceparent: str = ""

    def dump(self) -> dict[str, Any]:
        return _dump(self)

    @classmethod
    def load(cls, data: dict[str, Any]) -> DayEnd:
        return cls(
            seq=data["seq"],
            date=dt.date.fromisoformat(data["date"]),
            sim_time=dt.datetime.fromisoformat(data["sim_time"]),
            event_id=data["event_id"],
            traceparent=data.get("traceparent", ""),
        )


def _entry_load(data: dict[str, Any]) -> LogEntry:
    return LogEntry(
        event_id=data["event_id"],
        kind=data["kind"],
        sim_time=dt.datetime.fromisoformat(data["sim_time"]),
        trace_id=data["trace_id"],
        caused_by=tuple(data["caused_by"]),
        mandate_id=data["mandate_id"],
        summary=data["summary"],
    )


@dataclass
class FollowedState:
    """What recon keeps from the stream between day ends; to_json() is committed with the cursor.

    traceparents: event id -> the W3C traceparent it carried, for the events the kept records
    name (a break's span is parented on its first cause). break_traceparents: break id -> the
    traceparent of its recon.break span, for open breaks (their suspense span's parent).
    outbox: the event-log records of the last committed check, appended idempotently.
    last_moves: "<mandate>|<instrument or currency>" -> the custodian's latest event that moved that
    position or cash (a settlement, correction or cash flow): what resolves a balance break.
    fx_deals: FX deals the custodian has not reported settled yet, by deal id.
    day_end_seqs: each business date's clock.day_end seq (a state before version 4: none), so a
    break raised late is carried through each missed check under that check's own run id.
    replaced_confirmations: the event id of a broker confirmation the broker cancelled and replaced
    -> (the replacing confirmation's event id, its date): what closes a break raised on the
    replaced one (services/recon/domain/raised.py). One a corrected custodian typo, so not pruned.
    """

    fills: dict[str, KeptFill] = field(default_factory=dict)
    bookings: dict[str, KeptBooking] = field(default_factory=dict)
    flows: dict[str, KeptFlow] = field(default_factory=dict)
    traceparents: dict[str, str] = field(default_factory=dict)
    break_traceparents: dict[str, str] = field(default_factory=dict)
    dates: list[dt.date] = field(default_factory=list)
    last_day_end: DayEnd | None = None
    outbox: list[LogEntry] = field(default_factory=list)
    last_moves: dict[str, str] = field(default_factory=dict)
    fx_deals: dict[str, KeptFxDeal] = field(default_factory=dict)
    replaced_confirmations: dict[str, tuple[str, dt.date]] = field(default_factory=dict)
    # business date -> the seq of its clock.day_end: names the check of a past day (raised.py)
    day_end_seqs: dict[dt.date, int] = field(default_factory=dict)

    # -------------------------------------------------------------- applying events

    def apply(self, event: MarketEvent) -> DayEnd | None:
        """Remember what one event tells recon; the DayEnd when it is a clock.day_end."""
        payload = event.payload
        if isinstance(payload, Fill):
            self.fills[payload.fill_id] = KeptFill(
                fill_id=payload.fill_id,
                mandate_id=payload.mandate_id,
                instrument_id=payload.instrument_id,
                side=str(payload.side),
                quantity=payload.quantity,
                price=payload.price,
                net_amount=payload.net_amount,
                currency=payload.currency,
                trade_date=payload.trade_date,
                settle_date=payload.settle_date,
                event_id=event.event_id,
            )
            self._trace(event)
        elif isinstance(payload, CustodianTrade):
            self.bookings[payload.custodian_ref] = KeptBooking(
                custodian_ref=payload.custodian_ref,
                fill_id=payload.fill_id,
                mandate_id=payload.mandate_id,
                instrument_id=payload.instrument_id,
                side=str(payload.side),
                quantity=payload.quantity,
                price=payload.price,
                currency=payload.currency,
                trade_date=payload.trade_date,
                settle_date=payload.settle_date,
                event_id=event.event_id,
            )
            self._trace(event)
        elif isinstance(payload, SettlementStatus):
            booking = self.bookings.get(payload.custodian_ref)
            if booking is not None:
                booking.status_event_ids.append(event.event_id)
                if payload.state == SettlementState.SETTLED:
                    booking.settled_on = payload.settle_date
                    self._moved(payload.mandate_id, event.event_id, payload.instrument_id, payload.currency)
                else:
                    booking.failed_on = payload.settle_date
                    booking.fail_reason = payload.reason
        elif isinstance(payload, CashFlow):
            flow = self._flow(payload.cash_flow_id, payload.mandate_id)
            flow.currency = payload.currency
            flow.kind = flow.kind or str(payload.kind)
            flow.instrument_id = flow.instrument_id or payload.instrument_id
            flow.internal_amount = payload.amount
            flow.internal_date = payload.pay_date or event.sim_time.date()
            flow.internal_event_id = event.event_id
            self._trace(event)
        elif isinstance(payload, CustodianCashFlow):
            flow = self._flow(payload.cash_flow_id, payload.mandate_id)
            flow.currency = flow.currency or payload.currency
            flow.kind = flow.kind or str(payload.kind)
            flow.instrument_id = flow.instrument_id or payload.instrument_id
            flow.custodian_amount = (flow.custodian_amount or Decimal(0)) + payload.amount
            flow.custodian_date = payload.value_date
            flow.custodian_event_id = event.event_id
            self._moved(payload.mandate_id, event.event_id, payload.currency)
            self._trace(event)
        elif isinstance(payload, FxDeal):
            self.fx_deals[payload.deal_id] = KeptFxDeal(
                deal_id=payload.deal_id,
                mandate_id=payload.mandate_id,
                bought_currency=payload.bought_currency,
                bought_amount=payload.bought_amount,
                sold_currency=payload.sold_currency,
                sold_amount=payload.sold_amount,
                trade_date=payload.trade_date,
                settle_date=payload.settle_date,
                event_id=event.event_id,
            )
            self._trace(event)
        elif isinstance(payload, FxSettlement):
            deal = self.fx_deals.get(payload.deal_id)
            if deal is not None:
                deal.status_event_ids.append(event.event_id)
                if payload.state == SettlementState.SETTLED and deal.settled_on is None:
                    deal.settled_on = payload.settle_date
            if payload.state == SettlementState.SETTLED:
                self._moved(
                    payload.mandate_id, event.event_id, payload.bought_currency, payload.sold_currency
                )
        elif isinstance(payload, CustodianCorrection):
            self._correct(payload, event)
        elif isinstance(payload, Confirmation):
            # A corrected confirmation is caused by its fill, then by the confirmation it replaces.
            if payload.replaces_confirmation_id and len(event.caused_by) > 1:
                self.replaced_confirmations[event.caused_by[1]] = (event.event_id, event.sim_time.date())
        elif isinstance(payload, MarketDayEnd):
            day_end = DayEnd(
                seq=event.seq,
                date=payload.date,
                sim_time=event.sim_time,
                event_id=event.event_id,
                traceparent=event.traceparent,
            )
            if not self.dates or self.dates[-1] < day_end.date:
                self.dates.append(day_end.date)
                self.day_end_seqs[day_end.date] = day_end.seq
            self.last_day_end = day_end
            return day_end
        return None

    def _trace(self, event: MarketEvent) -> None:
        if event.traceparent:
            self.traceparents[event.event_id] = event.traceparent

    def _flow(self, cash_flow_id: str, mandate_id: str) -> KeptFlow:
        return self.flows.setdefault(cash_flow_id, KeptFlow(cash_flow_id, mandate_id))

    def _moved(self, mandate_id: str, event_id: str, *subjects: str) -> None:
        for subject in subjects:
            if subject:
                self.last_moves[f"{mandate_id}|{subject}"] = event_id

    def _correct(self, correction: CustodianCorrection, event: MarketEvent) -> None:
        moved = correction.quantity or correction.cash_amount
        if correction.kind is CorrectionKind.CANCEL_TRADE:
            booking = self.bookings.get(correction.custodian_ref)
            if booking is not None:
                booking.cancelled_on = correction.correction_date
                booking.status_event_ids.append(event.event_id)
            if moved:
                self._moved(
                    correction.mandate_id, event.event_id, correction.instrument_id, correction.currency
                )
            self._trace(event)
            return
        if not correction.cash_flow_id:
            return
        flow = self._flow(correction.cash_flow_id, correction.mandate_id)
        flow.currency = flow.currency or correction.currency
        flow.instrument_id = flow.instrument_id or correction.instrument_id
        flow.correction_event_ids.append(event.event_id)
        if correction.kind is CorrectionKind.VALUE_DATE:
            if correction.value_date is not None:
                flow.custodian_date = correction.value_date
        else:  # INCOME_ADJUSTMENT
            flow.custodian_amount = (flow.custodian_amount or Decimal(0)) + correction.cash_amount
            if flow.custodian_date is None:
                flow.custodian_date = correction.value_date or correction.correction_date
            if correction.cash_amount:
                self._moved(correction.mandate_id, event.event_id, correction.currency)
        self._trace(event)

    # -------------------------------------------------------------- what the check reads

    def settled_fill_ids(self) -> set[str]:
        """Fills the custodian has settled and not cancelled since (a live booking reported SETTLED)."""
        return {b.fill_id for b in self.bookings.values() if b.settled_on is not None and b.live}

    def ledger_settled_fill_ids(self) -> set[str]:
        """Fills the ledger has settled: it settles a fill on the custodian's first SETTLED report of
        any of its bookings, and ignores cancellations."""
        return {b.fill_id for b in self.bookings.values() if b.settled_on is not None}

    def caused_by_of(self, fill_id: str) -> tuple[str, ...]:
        """The fill's event first, then the custodian's trade and status events."""
        ids: list[str] = []
        fill = self.fills.get(fill_id)
        if fill is not None:
            ids.append(fill.event_id)
        for booking in sorted(self.bookings.values(), key=lambda b: b.custodian_ref):
            if booking.fill_id == fill_id:
                ids.append(booking.event_id)
                ids.extend(booking.status_event_ids)
        return tuple(dict.fromkeys(ids))

    def calendar(self) -> BusinessCalendar:
        return BusinessCalendar(self.dates)

    def resolving_event(self, fill_id: str, otherwise: str) -> str:
        """The event that resolves a break of this fill: the custodian's latest message about it
        (its last settlement report or cancellation, else its booking), `otherwise` when recon knows
        none."""
        latest: tuple[int, str] | None = None
        for booking in self.bookings.values():
            if not fill_id or booking.fill_id != fill_id:
                continue
            event_id = (booking.status_event_ids or [booking.event_id])[-1]
            ranked = (_seq_of(event_id), event_id)
            if latest is None or ranked > latest:
                latest = ranked
        return latest[1] if latest is not None else otherwise

    def resolving_flow_event(self, cash_flow_id: str, otherwise: str) -> str:
        """The custodian's latest message about a cash flow (its correction, else its booking)."""
        flow = self.flows.get(cash_flow_id)
        event_id = flow.resolving_event if flow is not None else ""
        return event_id or otherwise

    def resolving_move(self, mandate_id: str, subject: str, otherwise: str) -> str:
        """The custodian's latest event that moved a position (subject: instrument) or cash (currency)."""
        return self.last_moves.get(f"{mandate_id}|{subject}", otherwise)

    def before_prune(self) -> FollowedState:
        """What the resolving events are looked up in: the bookings, cash flows and moves as they are
        now, before prune() forgets the fills a check found settled and agreeing (the very ones whose
        breaks that check resolves)."""
        return FollowedState(
            bookings=dict(self.bookings), flows=dict(self.flows), last_moves=dict(self.last_moves)
        )

    def resolving_event_of(self, brk: Break, otherwise: str) -> str:
        """The event that resolves a break if its difference is gone at this check: the custodian's
        latest message about its fill or cash flow, or its latest movement of the position or cash
        (book vs custodian); `otherwise` (the day end) when recon knows none (a ledger journal, say)."""
        if brk.fill_id:
            return self.resolving_event(brk.fill_id, otherwise)
        if brk.cash_flow_id:
            return self.resolving_flow_event(brk.cash_flow_id, otherwise)
        if brk.comparison is Comparison.BOOK_VS_CUSTODIAN:
            subject = brk.instrument_id if brk.scope is Scope.POSITION else brk.currency
            return self.resolving_move(brk.mandate_id, subject, otherwise)
        return otherwise

    # -------------------------------------------------------------- forgetting

    def prune(self, keep_fills: set[str], today: dt.date) -> None:
        """Forget fills outside keep_fills (settled and in agreement) with their bookings, matched
        and old cash flows, and the traceparents nothing kept names any more."""
        self.fills = {k: f for k, f in self.fills.items() if k in keep_fills}
        self.bookings = {ref: b for ref, b in self.bookings.items() if b.fill_id in keep_fills}
        horizon = today - dt.timedelta(days=FLOW_LINEAGE_DAYS)
        self.flows = {
            k: f
            for k, f in self.flows.items()
            if not f.matched or f.first_date is None or f.first_date >= horizon
        }
        # A deal the custodian has settled moves the same cash on all three books: nothing left to explain.
        self.fx_deals = {k: d for k, d in self.fx_deals.items() if d.settled_on is None}
        named = {f.event_id for f in self.fills.values()}
        named.update(d.event_id for d in self.fx_deals.values())
        named.update(b.event_id for b in self.bookings.values())
        for flow in self.flows.values():
            named.update(flow.event_ids)
        self.traceparents = {k: v for k, v in self.traceparents.items() if k in named}
        while len(self.break_traceparents) > MAX_BREAK_TRACEPARENTS:
            del self.break_traceparents[next(iter(self.break_traceparents))]

    # -------------------------------------------------------------- persistence

    def to_json(self) -> str:
        return json.dumps(
            {
                "version": STATE_VERSION,
                "fills": [_dump(f) for f in self.fills.values()],
                "bookings": [_dump(b) for b in self.bookings.values()],
                "flows": [_dump(f) for f in self.flows.values()],
                "traceparents": self.traceparents,
                "break_traceparents": self.break_traceparents,
                "dates": _packed_dates(self.dates),
                "last_day_end": self.last_day_end.dump() if self.last_day_end else None,
                "outbox": [_dump(r) for r in self.outbox],
                "last_moves": self.last_moves,
                "fx_deals": [_dump(d) for d in self.fx_deals.values()],
                "day_end_seqs": _packed_dates(list(self.day_end_seqs), list(self.day_end_seqs.values())),
                "replaced_confirmations": {
                    replaced: [by, day.isoformat()]
                    for replaced, (by, day) in self.replaced_confirmations.items()
                },
            },
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, text: str) -> FollowedState:
        data = json.loads(text)
        if data.get("version") not in READABLE_VERSIONS:
            raise ValueError(f"recon state version {data.get('version')!r} is not known to this code")
        fills = [KeptFill.load(f) for f in data["fills"]]
        bookings = [KeptBooking.load(b) for b in data["bookings"]]
        flows = [KeptFlow.load(f) for f in data["flows"]]
        return cls(
            fills={f.fill_id: f for f in fills},
            bookings={b.custodian_ref: b for b in bookings},
            flows={f.cash_flow_id: f for f in flows},
            traceparents=dict(data["traceparents"]),
            break_traceparents=dict(data["break_traceparents"]),
            dates=_dates_of(data),
            last_day_end=DayEnd.load(data["last_day_end"]) if data["last_day_end"] else None,
            outbox=[_entry_load(r) for r in data["outbox"]],
            last_moves=dict(data.get("last_moves", {})),
            fx_deals={d["deal_id"]: KeptFxDeal.load(d) for d in data.get("fx_deals", ())},
            day_end_seqs=_day_end_seqs_of(data),
            replaced_confirmations={
                replaced: (by, dt.date.fromisoformat(day))
                for replaced, (by, day) in data.get("replaced_confirmations", {}).items()
            },
        )


def _dates_of(data: dict[str, Any]) -> list[dt.date]:
    if data["version"] < 5:
        return [dt.date.fromisoformat(d) for d in data["dates"]]
    return _unpacked_dates(data["dates"])


def _day_end_seqs_of(data: dict[str, Any]) -> dict[dt.date, int]:
    if data["version"] < 5:
        return {dt.date.fromisoformat(day): int(seq) for day, seq in data.get("day_end_seqs", {}).items()}
    packed = data["day_end_seqs"]
    return dict(zip(_unpacked_dates(packed), _unpacked_seqs(packed), strict=True))
