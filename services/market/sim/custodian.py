"""The custodian: its own settlement-date book, which lags the internal one, sometimes errs, and
corrects its errors.

What it does with each fill (faults from faults.py, drawn per fill from the
"custodian" stream, on-demand ones taking precedence; the rates are per kind and,
for fails, per asset class):

- books it the same day (custodian.trade with a CUS- ref), or late
  (CUSTODIAN_DROP_TRADE), or twice under two refs (CUSTODIAN_DUPLICATE_TRADE;
  both settle, so the position doubles, until the duplicate is cancelled);
- books a wrong quantity or price (QUANTITY_TYPO / PRICE_TYPO: a transposed,
  added or dropped digit); the custodian's net amount follows from its own
  figures, commission and fees as on the fill. The broker confirmation
  carries the same wrong figure;
- settles it on the contractual settle date (custodian.settlement SETTLED), or
  late (SETTLEMENT_DELAY), or reports FAILED on the settle date and settles
  later (SETTLEMENT_FAIL); how late is drawn from the fault's delay
  distribution (faults.correction_delay). The broker's confirmation shows the
  contractual date either way: a late settlement is the custodian's event, not
  a term the broker confirmed.

Every booking error and mis-dated income is corrected after a delay drawn from
faults.CORRECTION_DELAYS (corrections.py says what each correction does). The
delay is drawn from the fault itself, so no other seeded draw moves: a seeded
trade fault from the private stream book_fill seeds with the fill's second draw
(after the typo's own draws), a seeded date mismatch from one seeded with its lag
draw, and an on-demand fault from the stream "custodian.correction.<fault id>".
A delay or fail maps the fill's third draw (an injected one: its on-demand draw) through its
distribution.

Settlement moves the custodian's positions and cash (its statement shows
settled holdings only). SettlementStatus.quantity and cash_amount are signed
from the mandate's side, as in the internal book: a buy settles +quantity and
-cash, a sell -quantity and +cash.

Dividends and coupons: the custodian pays on its own records, so its errors
carry through until corrected: a dividend on the quantity it booked with trade
date before the ex-date, a coupon on the quantity it booked to settle
(contractually) before the coupon date (market claims make a late settlement
whole). The value date is the pay date unless CORPORATE_ACTION_DATE_MISMATCH
moves it 1-2 business days later (booked then) or earlier (back-valued, booked
on the pay date). What its records show of a mis-dated flow: from its booking,
the custodian.cashflow with the wrong value date, the cash in its balance from
the day it was booked (the later value date, or the pay date when back-valued);
from the correction day, the same flow value-dated on the pay date (a
custodian.correction VALUE_DATE). The balance does not move on the correction:
a statement shows settled cash, not value dates, and statements already sent
are not restated. Subscriptions, redemptions and management fee payments are booked on their
date (the custodian debits the fee), never with a fault.

FX deals (trade.fx): the custodian books each deal on its trade date and settles it on its settle
date, both legs at once (custodian.fx_settlement SETTLED, after the day's trade settlements): the
bought currency into its cash, the sold currency out, as on the deal. No fault touches an FX
deal (faults.py), so its statements show both legs on the settle date, as the internal book does.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from services.common.calendar import BusinessCalendar
from services.market.sim.books import ZERO
from services.market.sim.corrections import (
    AppliedCorrection,
    Booking,
    Correction,
    Entitlement,
    Entitlements,
    ScheduledCashFlow,
)
from services.market.sim.faults import CASH_FLOW_KINDS, TRADE_KINDS, Fault, FaultBook, correction_delay
from services.market.sim.records import (
    Book,
    CashFlowKind,
    CorporateAction,
    CorporateActionKind,
    CorrectionKind,
    CustodianCashFlow,
    CustodianCorrection,
    CustodianTrade,
    FaultKind,
    Fill,
    FxDeal,
    FxSettlement,
    Instrument,
    SettlementState,
    Side,
)
from services.market.sim.rng import py_stream
from services.market.sim.typos import price_typo, quantity_typo
from services.market.sim.universe import CURRENCY_QUANTUM, is_bond

K = FaultKind
# Errors in the custodian's booking, corrected by a later cancellation or booking.
BOOKING_KINDS = (
    K.CUSTODIAN_DROP_TRADE,
    K.CUSTODIAN_DUPLICATE_TRADE,
    K.CUSTODIAN_QUANTITY_TYPO,
    K.CUSTODIAN_PRICE_TYPO,
)
# Errors the broker's confirmation carries too (the custodian booked from it), so the broker
# sends a corrected confirmation when the custodian corrects the booking.
CONFIRMED_TYPOS = (K.CUSTODIAN_QUANTITY_TYPO, K.CUSTODIAN_PRICE_TYPO)
# Settlement faults, which end when the custodian settles late.
SETTLEMENT_KINDS = (K.SETTLEMENT_DELAY, K.SETTLEMENT_FAIL)

__all__ = [
    "Booking",
    "Custodian",
    "FillOutcome",
    "FxBooking",
    "ScheduledCashFlow",
    "price_typo",
    "quantity_typo",
]


@dataclass(slots=True)
class FillOutcome:
    """What the custodian will do with a fill, decided when the fill happens."""

    bookings: list[Booking]
    fault: Fault | None = None
    confirm_quantity: Decimal | None = None
    confirm_price: Decimal | None = None


@dataclass(slots=True)
class FxBooking:
    """An FX deal as the custodian booked it, until it settles; event_id: the trade.fx's."""

    custodian_ref: str
    deal: FxDeal
    event_id: str


@dataclass(slots=True)
class _MandateState:
    positions: dict[str, Decimal] = field(default_factory=dict)  # settled
    cash: dict[str, Decimal] = field(default_factory=dict)  # settled
    booked: dict[str, Decimal] = field(default_factory=dict)  # by trade date, for dividend entitlement
    contract_settled: dict[str, Decimal] = field(
        default_factory=dict
    )  # by contractual settle date, for coupons


class Custodian:
    def __init__(
        self, seed: int, faults: FaultBook, calendar: BusinessCalendar, mandate_ids: tuple[str, ...]
    ) -> None:
        self._seed = seed
        self._seeded = py_stream(seed, "custodian")
        self._on_demand = py_stream(seed, "custodian.on_demand")
        self._cash_seeded = py_stream(seed, "custodian.cashflows")
        self._faults = faults
        self._calendar = calendar
        self._states = {m: _MandateState() for m in mandate_ids}
        self._open: list[Booking] = []
        self._cash_flows: list[ScheduledCashFlow] = []
        self._corrections: list[Correction] = []
        self._entitlements = Entitlements()
        self._fx: list[FxBooking] = []
        self._fx_refs = 0
        self._refs = 0
        self._cash_refs = 0
        self._correction_refs = 0

    # ------------------------------------------------------------ trades

    def _next_ref(self) -> str:
        self._refs += 1
        return f"CUS-{self._refs:07d}"

    def _delay_stream(self, fault: Fault) -> random.Random:
        """The stream an on-demand fault's correction delay is drawn from: its own."""
        return py_stream(self._seed, f"custodian.correction.{fault.fault_id}")

    def book_fill(
        self, fill: Fill, instrument: Instrument, day: dt.date, fill_event_id: str = ""
    ) -> FillOutcome:
        """Decide and record how the custodian books and settles a fill, and when it corrects an error."""
        # Fixed draws per fill, so seeded outcomes never depend on on-demand injections.
        draw, detail, days = self._seeded.random(), self._seeded.random(), self._seeded.random()
        fault = self._faults.take(TRADE_KINDS, fill.mandate_id, fill.instrument_id)
        if fault is not None:
            rng, days = self._on_demand, self._on_demand.random()
            delays = self._delay_stream(fault)
        else:
            fault = self._seeded_trade_fault(draw, instrument)
            if fault is None:
                return FillOutcome(
                    [
                        self._booking(
                            fill, instrument, fill.quantity, fill.price, fill.settle_date, fill_event_id
                        )
                    ]
                )
            rng = delays = random.Random(int(detail * 2**53))
        kind = fault.kind
        outcome = FillOutcome([], fault)
        # What the correction will do: cancel the wrong booking, book the fill's own figures, or both.
        cancel: Booking | None = None
        rebook = kind is not K.CUSTODIAN_DUPLICATE_TRADE
        description: str
        if kind is K.CUSTODIAN_DROP_TRADE:
            description = f"custodian did not book fill {fill.fill_id}"
        elif kind is K.CUSTODIAN_DUPLICATE_TRADE:
            outcome.bookings = [
                self._booking(fill, instrument, fill.quantity, fill.price, fill.settle_date, fill_event_id),
                self._booking(
                    fill, instrument, fill.quantity, fill.price, fill.settle_date, fill_event_id, fault
                ),
            ]
            cancel = outcome.bookings[1]
            description = (
                f"custodian booked fill {fill.fill_id} twice ({outcome.bookings[1].trade.custodian_ref})"
            )
        elif kind is K.CUSTODIAN_QUANTITY_TYPO:
            wrong = quantity_typo(fill.quantity, rng)
            outcome.bookings = [
                self._booking(fill, instrument, wrong, fill.price, fill.settle_date, fill_event_id, fault)
            ]
            outcome.confirm_quantity = wrong
            cancel = outcome.bookings[0]
            description = (
                f"custodian booked quantity {wrong} instead of {fill.quantity} for fill {fill.fill_id}"
            )
        elif kind is K.CUSTODIAN_PRICE_TYPO:
            wrong = price_typo(fill.price, rng)
            outcome.bookings = [
                self._booking(fill, instrument, fill.quantity, wrong, fill.settle_date, fill_event_id, fault)
            ]
            outcome.confirm_price = wrong
            cancel = outcome.bookings[0]
            description = f"custodian booked price {wrong} instead of {fill.price} for fill {fill.fill_id}"
        else:
            lag = correction_delay(kind, instrument.asset_class).days(days)
            late = self._calendar.add(fill.settle_date, lag)
            booking = self._booking(fill, instrument, fill.quantity, fill.price, late, fill_event_id, fault)
            outcome.bookings = [booking]
            if kind is K.SETTLEMENT_DELAY:
                description = (
                    f"fill {fill.fill_id} settles {late} at the custodian, {lag} business day(s) late"
                )
            else:
                booking.fail_on = fill.settle_date
                description = f"fill {fill.fill_id} fails to settle on {fill.settle_date}, settles {late}"
        if kind in BOOKING_KINDS:
            due = self._calendar.add(fill.trade_date, correction_delay(kind).days(delays.random()))
            self._corrections.append(
                Correction(due, fault, fill, instrument, cancel, rebook, fill_event_id=fill_event_id)
            )
            description += f"; the custodian corrects it on {due}"
        self._faults.apply(
            fault,
            day,
            description,
            mandate_id=fill.mandate_id,
            instrument_id=fill.instrument_id,
            fill_id=fill.fill_id,
        )
        return outcome

    def _seeded_trade_fault(self, draw: float, instrument: Instrument) -> Fault | None:
        threshold = 0.0
        for kind in TRADE_KINDS:
            threshold += self._faults.probability(kind, instrument.asset_class)
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
        fill_event_id: str,
        fault: Fault | None = None,
        replaces_ref: str = "",
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
            replaces_ref=replaces_ref,
        )
        booking = Booking(
            trade=trade, fill=fill, settle_on=settle_on, fault=fault, fill_event_id=fill_event_id
        )
        state = self._states[fill.mandate_id]
        state.booked[fill.instrument_id] = (
            state.booked.get(fill.instrument_id, ZERO) + booking.signed_quantity
        )
        self._open.append(booking)
        return booking

    def settlements_due(self, day: dt.date) -> list[tuple[Booking, SettlementState]]:
        """Today's settlement reports in booking order; SETTLED ones move positions and cash.

        A delayed or failed booking that settles is the end of its fault: corrected today."""
        out: list[tuple[Booking, SettlementState]] = []
        keep: list[Booking] = []
        for booking in self._open:
            trade = booking.trade
            state = self._states[trade.mandate_id]
            # Contractually settled from the settle date (or the day it is booked, when later),
            # however it really settles: what coupons are paid on.
            if not booking.counted and trade.settle_date <= day:
                booking.counted = True
                state.contract_settled[trade.instrument_id] = (
                    state.contract_settled.get(trade.instrument_id, ZERO) + booking.signed_quantity
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
                if booking.fault is not None and booking.fault.kind in SETTLEMENT_KINDS:
                    booking.corrects = booking.fault
                    self._faults.correct(booking.fault, day)
                out.append((booking, SettlementState.SETTLED))
            else:
                keep.append(booking)
        self._open = keep
        return out

    # ------------------------------------------------------------ FX deals

    def book_fx(self, deal: FxDeal, deal_event_id: str) -> None:
        """Book an FX deal on its trade date; it settles on its settle date (no fault touches it)."""
        self._fx_refs += 1
        self._fx.append(FxBooking(f"CUS-FX-{self._fx_refs:07d}", deal, deal_event_id))

    def fx_settlements_due(self, day: dt.date) -> list[tuple[FxBooking, FxSettlement]]:
        """The FX deals settling today, in booking order: both legs move the custodian's cash."""
        due = [b for b in self._fx if b.deal.settle_date <= day]
        if not due:
            return []
        self._fx = [b for b in self._fx if b.deal.settle_date > day]
        out: list[tuple[FxBooking, FxSettlement]] = []
        for booking in due:
            deal = booking.deal
            cash = self._states[deal.mandate_id].cash
            for currency, amount in deal.signed_legs():
                cash[currency] = cash.get(currency, ZERO) + amount
            report = FxSettlement(
                custodian_ref=booking.custodian_ref,
                deal_id=deal.deal_id,
                mandate_id=deal.mandate_id,
                state=SettlementState.SETTLED,
                settle_date=day,
                bought_currency=deal.bought_currency,
                bought_amount=deal.bought_amount,
                sold_currency=deal.sold_currency,
                sold_amount=deal.sold_amount,
            )
            out.append((booking, report))
        return out

    @staticmethod
    def signed_amounts(booking: Booking) -> tuple[Decimal, Decimal]:
        trade = booking.trade
        if trade.side is Side.BUY:
            return trade.quantity, -trade.net_amount
        return -trade.quantity, trade.net_amount

    # ------------------------------------------------------------ corrections

    def pending_corrections(self) -> tuple[Correction, ...]:
        """Corrections scheduled and not yet made, in scheduling order."""
        return tuple(self._corrections)

    def confirmations_corrected(self, day: dt.date, mandate_id: str) -> list[Correction]:
        """The mandate's quantity and price typos the custodian corrects on `day` (still to be made:
        the custodian phase makes them): the broker's corrected confirmation of each precedes the
        custodian's rebooking that day."""
        return [
            c
            for c in self._corrections
            if c.due <= day
            and c.fault.kind in CONFIRMED_TYPOS
            and c.fill is not None
            and c.fill.mandate_id == mandate_id
        ]

    def corrections_due(self, day: dt.date) -> list[AppliedCorrection]:
        """Make the corrections due by `day` (before its settlements), in scheduling order."""
        due = [c for c in self._corrections if c.due <= day]
        self._corrections = [c for c in self._corrections if c.due > day]
        applied = [self._correct(c, day) for c in due]
        # An entitlement can only still change while a correction of an older trade is pending.
        horizon = min((c.fill.trade_date for c in self._corrections if c.fill is not None), default=day)
        self._entitlements.forget(horizon)
        return applied

    def _correct(self, correction: Correction, day: dt.date) -> AppliedCorrection:
        fault = correction.fault
        self._faults.correct(fault, day)
        if correction.flow is not None:
            return self._correct_value_date(correction.flow, fault, day)
        fill, instrument = correction.fill, correction.instrument
        assert fill is not None and instrument is not None
        applied = AppliedCorrection(fault)
        wrong = correction.wrong
        if correction.rebook:
            applied.booking = self._booking(
                fill,
                instrument,
                fill.quantity,
                fill.price,
                max(fill.settle_date, day),
                correction.fill_event_id,
                replaces_ref=wrong.trade.custodian_ref if wrong is not None else "",
            )
            applied.booking.corrects = fault
        if wrong is not None:
            rebooked = applied.booking.trade.custodian_ref if applied.booking is not None else ""
            applied.record = self._cancel(wrong, day, rebooked)
            applied.corrected_event_id = wrong.event_id
        # The holding the correction changed: what it booked less what it cancelled.
        added = applied.booking.signed_quantity if applied.booking is not None else ZERO
        change = added - (wrong.signed_quantity if wrong is not None else ZERO)
        applied.adjustments = self._adjust_income(fill, change, day)  # none when no holding changed
        return applied

    def _cancel(self, wrong: Booking, day: dt.date, rebooked_ref: str) -> CustodianCorrection:
        """Cancel a booking: out of the booked (and contractually settled) position, and its
        settlement reversed when it had settled."""
        trade = wrong.trade
        state = self._states[trade.mandate_id]
        state.booked[trade.instrument_id] -= wrong.signed_quantity
        if wrong.counted:
            state.contract_settled[trade.instrument_id] -= wrong.signed_quantity
        quantity = cash = ZERO
        if wrong.settled:
            settled_quantity, settled_cash = self.signed_amounts(wrong)
            quantity, cash = -settled_quantity, -settled_cash
            state.positions[trade.instrument_id] += quantity
            state.cash[trade.currency] += cash
        else:
            self._open = [b for b in self._open if b is not wrong]
        wrong.cancelled = True
        why = (
            f"booked {trade.quantity} @ {trade.price} in error; rebooked as {rebooked_ref}"
            if rebooked_ref
            else f"duplicate booking of fill {trade.fill_id}"
        )
        return self._correction_record(
            CorrectionKind.CANCEL_TRADE,
            trade.custodian_ref,
            trade.mandate_id,
            trade.currency,
            day,
            fill_id=trade.fill_id,
            instrument_id=trade.instrument_id,
            rebooked_ref=rebooked_ref,
            quantity=quantity,
            cash_amount=cash,
            reason=why + ("; its settlement reversed" if wrong.settled else ""),
        )

    def _adjust_income(
        self, fill: Fill, change: Decimal, day: dt.date
    ) -> list[tuple[CustodianCorrection, Entitlement]]:
        """Income paid and booked on a holding a correction changed is adjusted today."""
        out: list[tuple[CustodianCorrection, Entitlement]] = []
        for entitlement, units, cash_change in self._entitlements.follow(fill, change, day):
            cash = self._states[entitlement.mandate_id].cash
            cash[entitlement.currency] = cash.get(entitlement.currency, ZERO) + cash_change
            scheduled = entitlement.flow
            record = self._correction_record(
                CorrectionKind.INCOME_ADJUSTMENT,
                scheduled.flow.custodian_ref if scheduled is not None else "",
                entitlement.mandate_id,
                entitlement.currency,
                day,
                fill_id=fill.fill_id,
                cash_flow_id=entitlement.cash_flow_id,
                instrument_id=entitlement.instrument_id,
                quantity=units,
                cash_amount=cash_change,
                value_date=entitlement.pay_date,
                reason=f"{entitlement.kind.lower()} {entitlement.action_id} on the corrected holding of fill {fill.fill_id}",
            )
            out.append((record, entitlement))
        return out

    def _correct_value_date(
        self, scheduled: ScheduledCashFlow, fault: Fault, day: dt.date
    ) -> AppliedCorrection:
        flow = scheduled.flow
        right = scheduled.pay_date
        assert right is not None
        scheduled.flow = dataclasses.replace(flow, value_date=right)
        record = self._correction_record(
            CorrectionKind.VALUE_DATE,
            flow.custodian_ref,
            flow.mandate_id,
            flow.currency,
            day,
            cash_flow_id=flow.cash_flow_id,
            instrument_id=flow.instrument_id,
            value_date=right,
            reason=f"value date {flow.value_date} corrected to {right}",
        )
        return AppliedCorrection(fault, record, scheduled.event_id)

    def _correction_record(
        self,
        kind: CorrectionKind,
        custodian_ref: str,
        mandate_id: str,
        currency: str,
        day: dt.date,
        **details: Any,
    ) -> CustodianCorrection:
        self._correction_refs += 1
        return CustodianCorrection(
            f"CUS-CX-{self._correction_refs:07d}", kind, custodian_ref, mandate_id, currency, day, **details
        )

    # ------------------------------------------------------------ entitlements and cash

    def booked_position(self, mandate_id: str, instrument_id: str) -> Decimal:
        return self._states[mandate_id].booked.get(instrument_id, ZERO)

    def contract_settled_position(self, mandate_id: str, instrument_id: str) -> Decimal:
        return self._states[mandate_id].contract_settled.get(instrument_id, ZERO)

    def entitle(self, action: CorporateAction, mandate_id: str, day: dt.date) -> Entitlement:
        """Fix the custodian's entitlement of a mandate to a dividend (on its ex-date, from the
        booked position) or a coupon (on its pay date, from the contractually settled one)."""
        coupon = action.kind is CorporateActionKind.COUPON
        held = self.contract_settled_position if coupon else self.booked_position
        entitlement = Entitlement(
            action_id=action.action_id,
            mandate_id=mandate_id,
            instrument_id=action.instrument_id,
            kind=CashFlowKind.COUPON if coupon else CashFlowKind.DIVIDEND,
            on_contract=coupon,
            fixed_on=day,
            pay_date=action.pay_date,
            per_unit=action.amount_per_unit / 100 if coupon else action.amount_per_unit,
            currency=action.currency,
            quantity=held(mandate_id, action.instrument_id),
        )
        self._entitlements.add(entitlement)
        return entitlement

    def pay(self, entitlement: Entitlement, cash_flow_id: str, caused_by: tuple[str, ...]) -> None:
        """Pay an entitlement on its pay date (nothing on no holding): a custodian.cashflow that
        may get a wrong value date, like any dividend or coupon."""
        amount = entitlement.amount()
        entitlement.paid = amount
        entitlement.cash_flow_id = cash_flow_id
        entitlement.cause_event_id = caused_by[0] if caused_by else ""
        if amount > 0:
            entitlement.flow = self.schedule_cash_flow(
                entitlement.pay_date,
                cash_flow_id,
                entitlement.mandate_id,
                entitlement.kind,
                amount,
                entitlement.currency,
                entitlement.instrument_id,
                caused_by,
            )

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
    ) -> ScheduledCashFlow:
        """Book a cash flow due `day`; dividends and coupons may get a wrong value date."""
        value_date, book_on, fault = day, day, None
        correction_draw = 0.0
        if kind in (CashFlowKind.DIVIDEND, CashFlowKind.COUPON):
            draw, lag_draw, early_draw = (
                self._cash_seeded.random(),
                self._cash_seeded.random(),
                self._cash_seeded.random(),
            )
            fault = self._faults.take(CASH_FLOW_KINDS, mandate_id, instrument_id)
            if fault is not None:
                lag_draw, early_draw = self._on_demand.random(), self._on_demand.random()
                correction_draw = self._delay_stream(fault).random()
            elif draw < self._faults.probability(K.CORPORATE_ACTION_DATE_MISMATCH):
                fault = self._faults.seeded(K.CORPORATE_ACTION_DATE_MISMATCH)
                correction_draw = random.Random(int(lag_draw * 2**53)).random()
            if fault is not None:
                lag = 1 + int(lag_draw * 2)
                if early_draw < 0.5:
                    value_date = book_on = self._calendar.add(day, lag)
                else:
                    value_date = self._calendar.add(day, -lag)
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
        scheduled = ScheduledCashFlow(flow, book_on, caused_by, fault, pay_date=day)
        self._cash_flows.append(scheduled)
        if fault is not None:
            delay = correction_delay(K.CORPORATE_ACTION_DATE_MISMATCH).days(correction_draw)
            due = self._calendar.add(book_on, delay)
            self._corrections.append(Correction(due, fault, flow=scheduled))
            self._faults.apply(
                fault,
                day,
                f"custodian booked {kind.lower()} {cash_flow_id} with value date {value_date} instead of {day}"
                f"; the custodian corrects it on {due}",
                mandate_id=mandate_id,
                instrument_id=instrument_id,
            )
        return scheduled

    def cash_flows_due(self, day: dt.date) -> list[ScheduledCashFlow]:
        """Cash flows booked today, in scheduling order; they move the custodian's cash."""
        due = [c for c in self._cash_flows if c.book_on <= day]
        if due:
            self._cash_flows = [c for c in self._cash_flows if c.book_on > day]
        for scheduled in due:
            flow = scheduled.flow
            cash = self._states[flow.mandate_id].cash
            cash[flow.currency] = cash.get(flow.currency, ZERO) + flow.amount
            scheduled.booked = True
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
