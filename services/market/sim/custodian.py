"""The custodian: its own settlement-date book, which lags the internal one and sometimes errs.

What it does with each fill (faults from faults.py, drawn per fill from the
"custodian" stream, on-demand ones taking precedence):

- books it the same day (custodian.trade with a CUS- ref), or never
  (CUSTODIAN_DROP_TRADE), or twice under two refs (CUSTODIAN_DUPLICATE_TRADE;
  both settle, so the position doubles);
- books a wrong quantity or price (QUANTITY_TYPO / PRICE_TYPO: a transposed,
  added or dropped digit); the custodian's net amount follows from its own
  figures, commission and fees as on the fill. The broker confirmation
  carries the same wrong figure;
- settles it on the contractual settle date (custodian.settlement SETTLED), or
  1-3 business days late (SETTLEMENT_DELAY; the confirmation shows the late
  date), or reports FAILED on the settle date and settles 1-5 business days
  later (SETTLEMENT_FAIL).

Settlement moves the custodian's positions and cash (its statement shows
settled holdings only). SettlementStatus.quantity and cash_amount are signed
from the mandate's side, as in the internal book: a buy settles +quantity and
-cash, a sell -quantity and +cash.

Dividends and coupons: the custodian pays on its own records, so its errors
carry through: a dividend on the quantity it booked with trade date before
the ex-date, a coupon on the quantity it booked to settle (contractually)
before the coupon date (market claims make a late settlement whole). The
value date is the pay date unless CORPORATE_ACTION_DATE_MISMATCH moves it 1-2
business days later (booked then) or earlier (back-valued, booked on the pay
date). Subscriptions and redemptions are booked on their date.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal

from services.common.calendar import BusinessCalendar
from services.market.sim.books import ZERO
from services.market.sim.faults import CASH_FLOW_KINDS, TRADE_KINDS, Fault, FaultBook
from services.market.sim.records import (
    Book,
    CashFlowKind,
    CustodianCashFlow,
    CustodianTrade,
    FaultKind,
    Fill,
    Instrument,
    SettlementState,
    Side,
)
from services.market.sim.rng import py_stream
from services.market.sim.universe import CURRENCY_QUANTUM, is_bond

K = FaultKind


@dataclass(slots=True)
class Booking:
    """One custodian.trade and how it will settle."""

    trade: CustodianTrade
    fill: Fill
    settle_on: dt.date  # the day it actually settles
    fail_on: dt.date | None = None  # the day it reports FAILED, if it fails first
    fault: Fault | None = None
    settled: bool = False
    event_id: str = ""  # of the custodian.trade event, set by the engine
    fill_event_id: str = ""  # of the trade.fill event, set by the engine


@dataclass(slots=True)
class FillOutcome:
    """What the custodian will do with a fill, decided when the fill happens."""

    bookings: list[Booking]
    fault: Fault | None = None
    confirm_quantity: Decimal | None = None
    confirm_price: Decimal | None = None
    confirm_settle_date: dt.date | None = None


@dataclass(slots=True)
class ScheduledCashFlow:
    flow: CustodianCashFlow
    book_on: dt.date
    caused_by: tuple[str, ...]
    fault: Fault | None = None


@dataclass(slots=True)
class _MandateState:
    positions: dict[str, Decimal] = field(default_factory=dict)  # settled
    cash: dict[str, Decimal] = field(default_factory=dict)  # settled
    booked: dict[str, Decimal] = field(default_factory=dict)  # by trade date, for dividend entitlement
    contract_settled: dict[str, Decimal] = field(
        default_factory=dict
    )  # by contractual settle date, for coupons


def _digits_typo(digits: str, rng: random.Random) -> str:
    """A plausible keying error in a digit string: transposed pair, dropped or doubled digit, or one digit off."""
    options: list[str] = []
    for i in range(len(digits) - 1):
        if digits[i] != digits[i + 1]:
            options.append(digits[:i] + digits[i + 1] + digits[i] + digits[i + 2 :])
    options.append(digits + "0")
    if len(digits) > 1:
        options.append(digits[:-1])
    last = int(digits[-1])
    options.append(digits[:-1] + str((last + 1) % 10))
    options = [o for o in options if o.lstrip("0") and o != digits]
    return options[rng.randrange(len(options))]


def quantity_typo(quantity: Decimal, rng: random.Random) -> Decimal:
    return Decimal(_digits_typo(str(int(quantity)), rng))


def price_typo(price: Decimal, rng: random.Random) -> Decimal:
    """A keying error in the price's digits, keeping its decimal places."""
    sign, digits, exponent = price.as_tuple()
    text = "".join(map(str, digits))
    places = -int(exponent) if isinstance(exponent, int) and exponent < 0 else 0
    while True:
        typo = _digits_typo(text, rng)
        if len(typo) == len(text):  # keep the magnitude's decimal places; a dropped digit shifts the point
            break
    return Decimal(f"{'-' if sign else ''}{int(typo)}").scaleb(-places)


class Custodian:
    def __init__(
        self, seed: int, faults: FaultBook, calendar: BusinessCalendar, mandate_ids: tuple[str, ...]
    ) -> None:
        self._seeded = py_stream(seed, "custodian")
        self._on_demand = py_stream(seed, "custodian.on_demand")
        self._cash_seeded = py_stream(seed, "custodian.cashflows")
        self._faults = faults
        self._calendar = calendar
        self._states = {m: _MandateState() for m in mandate_ids}
        self._open: list[Booking] = []
        self._cash_flows: list[ScheduledCashFlow] = []
        self._refs = 0
        self._cash_refs = 0

    # ------------------------------------------------------------ trades

    def _next_ref(self) -> str:
        self._refs += 1
        return f"CUS-{self._refs:07d}"

    def book_fill(self, fill: Fill, instrument: Instrument, day: dt.date) -> FillOutcome:
        """Decide and record how the custodian books and settles a fill."""
        # Fixed draws per fill, so seeded outcomes never depend on on-demand injections.
        draw, detail, days = self._seeded.random(), self._seeded.random(), self._seeded.random()
        fault = self._faults.take(TRADE_KINDS, fill.mandate_id, fill.instrument_id)
        if fault is not None:
            rng, days = self._on_demand, self._on_demand.random()
        else:
            fault = self._seeded_trade_fault(draw)
            if fault is None:
                return FillOutcome(
                    [self._booking(fill, instrument, fill.quantity, fill.price, fill.settle_date)]
                )
            rng = random.Random(int(detail * 2**53))
        kind = fault.kind
        outcome = FillOutcome([], fault)
        lag = 1 + int(days * 3) if kind is K.SETTLEMENT_DELAY else 1 + int(days * 5)
        description: str
        if kind is K.CUSTODIAN_DROP_TRADE:
            description = f"custodian never booked fill {fill.fill_id}"
        elif kind is K.CUSTODIAN_DUPLICATE_TRADE:
            outcome.bookings = [
                self._booking(fill, instrument, fill.quantity, fill.price, fill.settle_date),
                self._booking(fill, instrument, fill.quantity, fill.price, fill.settle_date, fault),
            ]
            description = (
                f"custodian booked fill {fill.fill_id} twice ({outcome.bookings[1].trade.custodian_ref})"
            )
        elif kind is K.CUSTODIAN_QUANTITY_TYPO:
            wrong = quantity_typo(fill.quantity, rng)
            outcome.bookings = [self._booking(fill, instrument, wrong, fill.price, fill.settle_date, fault)]
            outcome.confirm_quantity = wrong
            description = (
                f"custodian booked quantity {wrong} instead of {fill.quantity} for fill {fill.fill_id}"
            )
        elif kind is K.CUSTODIAN_PRICE_TYPO:
            wrong = price_typo(fill.price, rng)
            outcome.bookings = [
                self._booking(fill, instrument, fill.quantity, wrong, fill.settle_date, fault)
            ]
            outcome.confirm_price = wrong
            description = f"custodian booked price {wrong} instead of {fill.price} for fill {fill.fill_id}"
        elif kind is K.SETTLEMENT_DELAY:
            late = self._calendar.add(fill.settle_date, lag)
            outcome.bookings = [self._booking(fill, instrument, fill.quantity, fill.price, late, fault)]
            outcome.confirm_settle_date = late
            description = f"fill {fill.fill_id} settles {late} at the custodian, {lag} business day(s) late"
        else:
            late = self._calendar.add(fill.settle_date, lag)
            booking = self._booking(fill, instrument, fill.quantity, fill.price, late, fault)
            booking.fail_on = fill.settle_date
            outcome.bookings = [booking]
            description = f"fill {fill.fill_id} fails to settle on {fill.settle_date}, settles {late}"
        self._faults.apply(
            fault,
            day,
            description,
            mandate_id=fill.mandate_id,
            instrument_id=fill.instrument_id,
            fill_id=fill.fill_id,
        )
        return outcome

    def _seeded_trade_fault(self, draw: float) -> Fault | None:
        threshold = 0.0
        for kind in TRADE_KINDS:
            threshold += self._faults.probability(kind)
            if draw < threshold:
                return self._faults.seeded(kind)
        return None

    def _booking(
        self,
        fill: Fill,
        instrument: Instrument,
        quantity: Decimal,
        price: Decimal,
        settle_on: dt.date,
        fault: Fault | None = None,
    ) -> Booking:
        quantum = CURRENCY_QUANTUM[fill.currency]
        if quantity == fill.quantity and price == fill.price:
            net = fill.net_amount
        else:
            gross = quantity * price / 100 if is_bond(instrument) else quantity * price
            gross = gross.quantize(quantum, rounding=ROUND_HALF_EVEN)
            accrued = (fill.accrued_interest * quantity / fill.quantity).quantize(
                quantum, rounding=ROUND_HALF_EVEN
            )
            costs = fill.commission + fill.fees
            net = gross + accrued + costs if fill.side is Side.BUY else gross + accrued - costs
        trade = CustodianTrade(
            custodian_ref=self._next_ref(),
            fill_id=fill.fill_id,
            mandate_id=fill.mandate_id,
            instrument_id=fill.instrument_id,
            side=fill.side,
            quantity=quantity,
            price=price,
            currency=fill.currency,
            net_amount=net,
            trade_date=fill.trade_date,
            settle_date=fill.settle_date,
        )
        booking = Booking(trade=trade, fill=fill, settle_on=settle_on, fault=fault)
        state = self._states[fill.mandate_id]
        signed = quantity if fill.side is Side.BUY else -quantity
        state.booked[fill.instrument_id] = state.booked.get(fill.instrument_id, ZERO) + signed
        self._open.append(booking)
        return booking

    def settlements_due(self, day: dt.date) -> list[tuple[Booking, SettlementState]]:
        """Today's settlement reports in booking order; SETTLED ones move positions and cash."""
        out: list[tuple[Booking, SettlementState]] = []
        keep: list[Booking] = []
        for booking in self._open:
            trade = booking.trade
            state = self._states[trade.mandate_id]
            if trade.settle_date == day:  # contractual date reached, however it really settles
                signed = trade.quantity if trade.side is Side.BUY else -trade.quantity
                state.contract_settled[trade.instrument_id] = (
                    state.contract_settled.get(trade.instrument_id, ZERO) + signed
                )
            if booking.fail_on == day:
                out.append((booking, SettlementState.FAILED))
            if booking.settle_on <= day:
                quantity, cash = self.signed_amounts(booking)
                state.positions[trade.instrument_id] = (
                    state.positions.get(trade.instrument_id, ZERO) + quantity
                )
                state.cash[trade.currency] = state.cash.get(trade.currency, ZERO) + cash
                booking.settled = True
                out.append((booking, SettlementState.SETTLED))
            else:
                keep.append(booking)
        self._open = keep
        return out

    @staticmethod
    def signed_amounts(booking: Booking) -> tuple[Decimal, Decimal]:
        trade = booking.trade
        if trade.side is Side.BUY:
            return trade.quantity, -trade.net_amount
        return -trade.quantity, trade.net_amount

    # ------------------------------------------------------------ entitlements and cash

    def booked_position(self, mandate_id: str, instrument_id: str) -> Decimal:
        return self._states[mandate_id].booked.get(instrument_id, ZERO)

    def contract_settled_position(self, mandate_id: str, instrument_id: str) -> Decimal:
        return self._states[mandate_id].contract_settled.get(instrument_id, ZERO)

    def schedule_cash_flow(
        self,
        day: dt.date,
        cash_flow_id: str,
        mandate_id: str,
        kind: CashFlowKind,
        amount: Decimal,
        currency: str,
        instrument_id: str,
        caused_by: tuple[str, ...],
    ) -> None:
        """Book a cash flow due `day`; dividends and coupons may get a wrong value date."""
        value_date, book_on, fault = day, day, None
        if kind in (CashFlowKind.DIVIDEND, CashFlowKind.COUPON):
            draw, lag_draw, early_draw = (
                self._cash_seeded.random(),
                self._cash_seeded.random(),
                self._cash_seeded.random(),
            )
            fault = self._faults.take(CASH_FLOW_KINDS, mandate_id, instrument_id)
            if fault is not None:
                lag_draw, early_draw = self._on_demand.random(), self._on_demand.random()
            elif draw < self._faults.probability(K.CORPORATE_ACTION_DATE_MISMATCH):
                fault = self._faults.seeded(K.CORPORATE_ACTION_DATE_MISMATCH)
            if fault is not None:
                lag = 1 + int(lag_draw * 2)
                if early_draw < 0.5:
                    value_date = book_on = self._calendar.add(day, lag)
                else:
                    value_date = self._calendar.add(day, -lag)
                self._faults.apply(
                    fault,
                    day,
                    f"custodian booked {kind.lower()} {cash_flow_id} with value date {value_date} instead of {day}",
                    mandate_id=mandate_id,
                    instrument_id=instrument_id,
                )
        self._cash_refs += 1
        flow = CustodianCashFlow(
            custodian_ref=f"CUS-CF-{self._cash_refs:07d}",
            cash_flow_id=cash_flow_id,
            mandate_id=mandate_id,
            kind=kind,
            amount=amount,
            currency=currency,
            instrument_id=instrument_id,
            value_date=value_date,
        )
        self._cash_flows.append(ScheduledCashFlow(flow, book_on, caused_by, fault))

    def cash_flows_due(self, day: dt.date) -> list[ScheduledCashFlow]:
        """Cash flows booked today, in scheduling order; they move the custodian's cash."""
        due = [c for c in self._cash_flows if c.book_on <= day]
        if due:
            self._cash_flows = [c for c in self._cash_flows if c.book_on > day]
        for scheduled in due:
            flow = scheduled.flow
            cash = self._states[flow.mandate_id].cash
            cash[flow.currency] = cash.get(flow.currency, ZERO) + flow.amount
        return due

    def book(self, mandate_id: str, base_currency: str) -> Book:
        state = self._states[mandate_id]
        cash = dict(state.cash)
        cash.setdefault(base_currency, ZERO)
        return Book(
            mandate_id=mandate_id,
            positions={k: v for k, v in sorted(state.positions.items()) if v},
            cash=dict(sorted(cash.items())),
        )
