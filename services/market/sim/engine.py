"""The deterministic world: one call to step() simulates one business day.

Order of a day's events (sim_time is the business date at the phase's time, UTC):

| phase | kinds | time |
|---|---|---|
| regime | market.regime | 08:00 |
| fees | fee.accrued, one per mandate valued at the previous day end (fees.py) | 08:00 |
| prices | price.tick (primary, every live instrument; a bad print included), price.vendor (vendor_b, same order), fx.rate (3 primary, 3 crosses) | 16:00 |
| corporate actions | corporate_action.announced | 16:15 |
| cash | cashflow.dividend / coupon (pay date), cashflow.fee (first business day of a month), cashflow.subscription / redemption | 16:20 |
| desk | per mandate: trade.fill, each followed by its trade.confirmation, then the broker's corrected trade.confirmation of each custodian typo corrected today, then the mandate's trade.fx (fx_deals.py) | 16:30 |
| custodian | custodian.trade* (today's fills), then custodian.correction* and the custodian.trade* of late bookings and rebookings (corrections due today, each in turn), then custodian.settlement*, then custodian.fx_settlement*, then custodian.cashflow* | 17:00 |
| statements | custodian.statement, one per mandate | 18:00 |
| end | clock.day_end | 23:59 |

Events get seq 1, 2, 3, ... and event_id "mkt-<seq>". caused_by links:
trade.fill <- the day's price.tick of its instrument (the desk fills only at a true quote of the
day, and every true quote has its price.tick, so every fill has one; on a bad-print day the tick
published another price than the true one the fill is at, and is still its cause: the one event
that priced the instrument that day); confirmation <- fill (a corrected one: fill, then the confirmation it replaces);
custodian.trade <- fill (a rebooking: fill, then the
custodian.correction that cancelled the booking it replaces); settlement <-
custodian.trade, fill; trade.fx <- the mandate's fills in the currency it funds (none for a
sweep); custodian.fx_settlement <- trade.fx; cashflow.dividend / coupon <- corporate_action;
custodian.cashflow <- cashflow (or the corporate action when the internal book
is not entitled); fee.accrued <- the clock.day_end whose NAV it accrues on;
cashflow.fee <- the fee.accrued events it pays; custodian.correction <- the
custodian event it corrects (the cancelled custodian.trade, the mis-dated
custodian.cashflow; an income adjustment: the correction or late booking that
caused it, then the custodian.cashflow it adjusts, or what the custodian should
have paid against); fx.rate cross <- the two primary rates it is derived from.

True and published prices: the simulation keeps each instrument's true price, and price.tick
publishes it except on a primary bad print (PRIMARY_PRICE_SPIKE, primary.py), which only the
published event carries. The desk values, orders and fills at the true price, dividends are
announced on it, vendor_b quotes off it and the next day's price steps from it. What follows the
stream sees the published price: the day-end snapshot (GetSnapshot's prices) and the NAV the
management fees accrue on (fees.py reads the day's events), as do the ledger's marks and
reporting's NAV. So on a bad-print day the fee accrued the next morning is on a NAV with the bad
print, as reporting shows it.

Determinism: every random draw comes from a stream seeded by (seed, purpose)
(rng.py); nothing iterates a set or reads the clock. Same seed, start, days
and macro data give the same events, byte for byte.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

from services.common.calendar import BusinessCalendar
from services.common.fx_rates import FxRates
from services.common.market_events import currencies_of
from services.market.sim import actions as corporate_actions
from services.market.sim.benchmarks import build_benchmarks
from services.market.sim.books import InternalBook
from services.market.sim.confirmations import layout_for_broker, render_confirmation_text
from services.market.sim.corrections import Correction, Entitlement
from services.market.sim.custodian import Booking, Custodian
from services.market.sim.days import DaySource, Extension
from services.market.sim.desk import Desk
from services.market.sim.faults import FaultBook, validate_request
from services.market.sim.fees import ManagementFees
from services.market.sim.flows import InvestorFlows
from services.market.sim.fx import CROSS_LEGS, PRIMARY_PAIRS, FxPublisher
from services.market.sim.fx_deals import FxDealer
from services.market.sim.macro import MacroDay, MacroHistory
from services.market.sim.macro.market_days import is_nyse_holiday
from services.market.sim.mandates import build_mandates
from services.market.sim.prices import PriceModel
from services.market.sim.primary import PrimaryPublisher
from services.market.sim.records import (
    BookSnapshot,
    CashFlow,
    CashFlowKind,
    Confirmation,
    CorporateAction,
    CorporateActionKind,
    CustodianStatement,
    DayEnd,
    DayResult,
    FaultKind,
    FaultRequest,
    Fill,
    FxQuote,
    InjectedFault,
    Instrument,
    Mandate,
    Payload,
    PriceQuote,
    RegimeState,
    SettlementState,
    SettlementStatus,
    SimEvent,
)
from services.market.sim.universe import CURRENCY_QUANTUM, build_universe
from services.market.sim.vendor import SecondVendor

UTC = dt.UTC

# Kinds in the order they appear within a day; kinds sharing a rank interleave.
KIND_ORDER: tuple[tuple[str, ...], ...] = (
    ("market.regime",),
    ("fee.accrued",),
    ("price.tick",),
    ("price.vendor",),
    ("fx.rate",),
    ("corporate_action.announced",),
    ("cashflow.dividend", "cashflow.coupon", "cashflow.subscription", "cashflow.redemption", "cashflow.fee"),
    ("trade.fill", "trade.confirmation", "trade.fx"),
    ("custodian.trade", "custodian.correction"),
    ("custodian.settlement",),
    ("custodian.fx_settlement",),
    ("custodian.cashflow",),
    ("custodian.statement",),
    ("clock.day_end",),
)
KIND_RANK: Mapping[str, int] = {kind: rank for rank, kinds in enumerate(KIND_ORDER) for kind in kinds}
PHASE_TIME: Mapping[str, dt.time] = {
    "market.regime": dt.time(8, 0),
    # The start of the day: the fee accrues on the previous day end's NAV, before anything moves it.
    "fee.accrued": dt.time(8, 0),
    "price.tick": dt.time(16, 0),
    "price.vendor": dt.time(16, 0),
    "fx.rate": dt.time(16, 0),
    "corporate_action.announced": dt.time(16, 15),
    "cashflow": dt.time(16, 20),
    "trade.fill": dt.time(16, 30),
    "trade.confirmation": dt.time(16, 30),
    "trade.fx": dt.time(16, 30),
    "custodian.trade": dt.time(17, 0),
    "custodian.correction": dt.time(17, 0),
    "custodian.settlement": dt.time(17, 0),
    "custodian.fx_settlement": dt.time(17, 0),
    "custodian.cashflow": dt.time(17, 0),
    "custodian.statement": dt.time(18, 0),
    "clock.day_end": dt.time(23, 59),
}
# Corporate actions are planned this far ahead at a time (a run may have no end).
PLANNING_WINDOW = dt.timedelta(days=365)
# The most recent confirmations kept for GetConfirmation: about a year of fills (1,300 to 5,000 a
# year over 2007-2027 for seed 7). Only GetConfirmation reads them (a correction finds the wrong
# confirmation through _wrong_confirmations, within 30 business days), and their text is on their
# trade.confirmation events too. Each costs about 2 KB with its fill, so the 10,000 kept before were
# 20 MiB of market's resident memory; keeping every one would grow it with every fill of a run that
# never ends.
CONFIRMATIONS_KEPT = 3_000
CASH_FLOW_EVENT: Mapping[CashFlowKind, str] = {kind: f"cashflow.{kind.lower()}" for kind in CashFlowKind}


@dataclass(frozen=True)
class SimConfig:
    """seed and start pick the world; days = 0 runs as long as there are days: to the end of the
    macro history, or with no end when the simulation has the synthetic extension.

    fault_rate multiplies every seeded fault probability (0 = no seeded faults;
    on-demand faults still apply).
    """

    seed: int
    start: dt.date
    days: int = 0
    fault_rate: float = 1.0


@dataclass(slots=True)
class _Announced:
    action: CorporateAction
    event_id: str
    coupon_date: dt.date | None
    internal: dict[str, Decimal]  # mandate -> entitled quantity (dividends: fixed at the ex-date)
    custodian: dict[str, Entitlement]


class _Day:
    """Collects one day's events, assigning seq and sim_time."""

    def __init__(self, sim: Simulation, day: dt.date) -> None:
        self._sim = sim
        self._day = day
        self._times = {kind: dt.datetime.combine(day, t, tzinfo=UTC) for kind, t in PHASE_TIME.items()}
        self.events: list[SimEvent] = []

    def emit(self, kind: str, payload: Payload, mandate_id: str = "", caused_by: tuple[str, ...] = ()) -> str:
        seq = self._sim._head_seq + 1
        self._sim._head_seq = seq
        event_id = f"mkt-{seq}"
        when = self._times[kind] if kind in self._times else self._times[kind.split(".", 1)[0]]
        self.events.append(SimEvent(seq, event_id, when, kind, payload, mandate_id, caused_by))
        return event_id


class Simulation:
    def __init__(self, config: SimConfig, macro: MacroHistory, extension: Extension | None = None) -> None:
        """`extension` builds the synthetic days after the data (macro/extension.py): with it, a
        run of 0 days has no end and a run longer than the data goes on past it."""
        if config.days < 0:
            raise ValueError(f"days: must be >= 0, not {config.days}")
        if config.fault_rate < 0:
            raise ValueError(f"fault_rate: must be >= 0, not {config.fault_rate}")
        if not macro.days:
            raise ValueError("macro: the history has no business days")
        # A weekend or holiday start begins on the next business day.
        following = macro.days_from(config.start)
        self.config = config
        self.macro = macro
        # Past the data the business days are the NYSE's, as the extension's are.
        self._calendar = BusinessCalendar([day.date for day in macro.days], is_holiday=is_nyse_holiday)
        self._days = DaySource(following, config.days, extension, self._calendar)
        self._current: MacroDay | None = None
        opening = self._days.first
        self._universe = build_universe(opening.date, opening.yields_pct)
        self.instruments: tuple[Instrument, ...] = self._universe.instruments
        seed = config.seed
        # Reference data only: its units draw from their own streams, so no event changes.
        benchmarks = build_benchmarks(self._universe, seed, opening.fx)
        self.mandates: tuple[Mandate, ...] = build_mandates(self.instruments, benchmarks)
        mandate_ids = tuple(m.mandate_id for m in self.mandates)
        self._faults = FaultBook(config.fault_rate)
        self._prices = PriceModel(self._universe, seed)
        self._primary = PrimaryPublisher(seed, self._faults)
        self._vendor = SecondVendor(seed, self._faults)
        self._fx = FxPublisher(seed, self._faults)
        self._desk = Desk(seed, self._universe, self._calendar)
        self._dealer = FxDealer(self._calendar)
        self._rates = FxRates()  # the day's primary rates, once published
        self._flows = InvestorFlows(seed, self.mandates, self._calendar)
        self._book = InternalBook(mandate_ids, {m.mandate_id: m.base_currency for m in self.mandates})
        self._custodian = Custodian(seed, self._faults, self._calendar, mandate_ids)
        self._fees = ManagementFees(self.mandates, self.instruments)
        self._planned: dict[dt.date, list[corporate_actions.PlannedAction]] = {}
        self._planned_until = opening.date - dt.timedelta(days=1)
        self._plan_actions_through(opening.date)
        self._income_payers = corporate_actions.income_payers(self._universe)
        self._announced: list[_Announced] = []
        self._actions = 0
        self._cash_flows = 0
        self._confirmations: OrderedDict[str, tuple[Confirmation, Fill]] = OrderedDict()
        self._confirmation_of_fill: dict[str, str] = {}
        # fill id -> (id, event id) of its confirmation that carries a custodian typo, until corrected
        self._wrong_confirmations: dict[str, tuple[str, str]] = {}
        self.confirmations_forgotten = 0
        self._head_seq = 0
        self._next = 0
        self._snapshot: BookSnapshot | None = None
        self._regime = ""

    # ------------------------------------------------------------ public state

    @property
    def current_date(self) -> dt.date | None:
        """The last simulated business day; None before the first step."""
        return self._current.date if self._current is not None else None

    @property
    def days_elapsed(self) -> int:
        return self._next

    @property
    def regime(self) -> str:
        return self._regime

    @property
    def head_seq(self) -> int:
        return self._head_seq

    @property
    def finished(self) -> bool:
        return self._days.finished

    @property
    def end_date(self) -> dt.date | None:
        """The last business day the run will simulate; None for a run with no end."""
        return self._days.last_date

    @property
    def current_day(self) -> MacroDay | None:
        """The last simulated day's macro backdrop (real or synthetic); None before the first step."""
        return self._current

    def instrument(self, instrument_id: str) -> Instrument:
        return self._universe.get(instrument_id)

    def snapshot(self) -> BookSnapshot | None:
        return self._snapshot

    def faults(self) -> tuple[InjectedFault, ...]:
        return self._faults.records()

    def confirmation(self, confirmation_or_fill_id: str) -> tuple[Confirmation, Fill, Instrument] | None:
        key = self._confirmation_of_fill.get(confirmation_or_fill_id, confirmation_or_fill_id)
        found = self._confirmations.get(key)
        if found is None:
            return None
        confirmation, fill = found
        return confirmation, fill, self._universe.get(fill.instrument_id)

    def confirmation_forgotten(self, confirmation_or_fill_id: str) -> bool:
        """True for the id of a confirmation (or its fill) older than the CONFIRMATIONS_KEPT kept."""
        prefix, _, number = confirmation_or_fill_id.partition("-")
        return (
            prefix in ("CNF", "FIL")
            and number.isdigit()
            and self._oldest_kept_number is not None
            and int(number) < self._oldest_kept_number
        )

    @property
    def _oldest_kept_number(self) -> int | None:
        if not self.confirmations_forgotten or not self._confirmations:
            return None
        # A corrected confirmation's id is its first's with -C: the number is the fill's either way.
        return int(next(iter(self._confirmations)).removeprefix("CNF-").split("-")[0])

    def _keep_confirmation(self, confirmation: Confirmation, fill: Fill) -> None:
        """Kept for GetConfirmation; a fill's id names its latest confirmation (a corrected one once
        sent)."""
        self._confirmations[confirmation.confirmation_id] = (confirmation, fill)
        self._confirmation_of_fill[fill.fill_id] = confirmation.confirmation_id
        while len(self._confirmations) > CONFIRMATIONS_KEPT:
            oldest_id, (_, oldest_fill) = self._confirmations.popitem(last=False)
            if self._confirmation_of_fill.get(oldest_fill.fill_id) == oldest_id:
                del self._confirmation_of_fill[oldest_fill.fill_id]
            self.confirmations_forgotten += 1

    def checked(self, request: FaultRequest) -> FaultRequest:
        """The request as inject() would take it (its kind an enum); ValueError naming what is wrong."""
        try:
            request = dataclasses.replace(request, kind=FaultKind(request.kind))
        except ValueError:
            raise ValueError(f"kind: unknown fault kind {request.kind!r}") from None
        validate_request(request, self.instruments, self.mandates, self._income_payers)
        return request

    def next_fault_id(self) -> str:
        """The id inject() would give a fault now."""
        return self._faults.next_id()

    def inject(self, request: FaultRequest) -> InjectedFault:
        """Schedule an on-demand fault for its next eligible target (next fill, price, cross or payment)."""
        return self._faults.request(self.checked(request)).record()

    # ------------------------------------------------------------ one day

    def step(self) -> DayResult | None:
        if self.finished:
            return None
        macro_day = self._days.take()
        self._current = macro_day
        day = macro_day.date
        self._plan_actions_through(day)
        events = _Day(self, day)
        self._regime = macro_day.regime
        events.emit("market.regime", self._regime_state(macro_day))
        self._accrue_fees(events, day)
        quotes, published, ticks = self._publish_prices(events, macro_day)
        fx_rates = self._publish_fx(events, macro_day)
        self._rates = FxRates({q.pair: q.rate for q in fx_rates if q.pair in PRIMARY_PAIRS})
        self._announce_actions(events, day, quotes)
        self._pay_income(events, day)
        self._pay_fees(events, day)
        self._investor_flows(events, day, quotes)
        self._book.settle(day)
        fills, bookings = self._trade(events, day, quotes, ticks)
        self._custodian_day(events, day, bookings)
        for mandate in self.mandates:
            statement = CustodianStatement(
                day, self._custodian.book(mandate.mandate_id, mandate.base_currency)
            )
            events.emit("custodian.statement", statement, mandate.mandate_id)
        day_end = DayEnd(day, events_in_day=len(events.events) + 1, fills_in_day=fills)
        end_id = events.emit("clock.day_end", day_end)
        # The NAV book takes every event of the day, this day end included: tomorrow's fees accrue on it.
        self._fees.observe(events.events)
        self._next += 1
        self._snapshot = BookSnapshot(
            as_of_seq=int(end_id.removeprefix("mkt-")),
            as_of_date=day,
            prices=published,  # as the stream has them, bad prints included
            fx_rates=fx_rates,
            internal_books=tuple(self._book.book(m.mandate_id) for m in self.mandates),
            custodian_books=tuple(self._custodian.book(m.mandate_id, m.base_currency) for m in self.mandates),
        )
        return DayResult(
            date=day,
            events=tuple(events.events),
            snapshot=self._snapshot,
            regime=self._regime,
            faults_applied=self._faults.applied_on(day),
        )

    @staticmethod
    def _regime_state(day: MacroDay) -> RegimeState:
        return RegimeState(
            date=day.date,
            regime=day.regime,
            fed_funds_pct=day.fed_funds_pct,
            curve_slope_pct=round(day.yields_pct["10Y"] - day.yields_pct["2Y"], 6),
            breakeven_inflation_pct=day.breakeven_pct,
            unemployment_pct=day.unemployment_pct,
            equity_drift_annual=day.equity_drift_annual,
            equity_vol_annual=day.equity_vol_annual,
            curve_pct=dict(day.yields_pct),
            origin=day.origin,
        )

    def _publish_prices(
        self, events: _Day, macro_day: MacroDay
    ) -> tuple[dict[str, PriceQuote], tuple[PriceQuote, ...], dict[str, str]]:
        """The day's true primary quotes by instrument (what the desk sees), the published ones
        (what price.tick says: a bad print differs from the true price) and the price.tick event of
        each instrument (one per true quote, so one for every instrument the desk can fill)."""
        day = macro_day.date
        true = self._prices.step(
            day,
            macro_day.equity_drift_annual,
            macro_day.equity_vol_annual,
            macro_day.yields_pct,
            macro_day.regime,
            macro_day.risk_shock,
        )
        by_id = {i.instrument_id: i for i in self.instruments}
        published = []
        ticks: dict[str, str] = {}
        for quote, fault in self._primary.publish(day, true, by_id):
            event_id = events.emit("price.tick", quote)
            ticks[quote.instrument_id] = event_id
            if fault is not None:
                fault.event_ids.append(event_id)
            published.append(quote)
        # vendor_b prices off the true price, so on a bad print the two vendors disagree.
        for quote, fault in self._vendor.quotes(day, true, by_id):
            event_id = events.emit("price.vendor", quote)
            if fault is not None:
                fault.event_ids.append(event_id)
        return {quote.instrument_id: quote for quote in true}, tuple(published), ticks

    def _publish_fx(self, events: _Day, macro_day: MacroDay) -> tuple[FxQuote, ...]:
        published = []
        primary_ids: dict[str, str] = {}
        for quote, fault in self._fx.quotes(macro_day.date, macro_day.fx):
            pair = quote.pair
            caused_by = (
                tuple(primary_ids[leg] for leg in CROSS_LEGS[pair]) if pair not in PRIMARY_PAIRS else ()
            )
            event_id = events.emit("fx.rate", quote, caused_by=caused_by)
            if pair in PRIMARY_PAIRS:
                primary_ids[pair] = event_id
            if fault is not None:
                fault.event_ids.append(event_id)
            published.append(quote)
        return tuple(published)

    # ------------------------------------------------------------ income and investor flows

    def _plan_actions_through(self, day: dt.date) -> None:
        """Plan corporate actions a year at a time (a run may have no end), from the run's first day;
        the windows plan what one plan over the whole run would (plan_actions)."""
        if day <= self._planned_until:
            return
        first = self._planned_until + dt.timedelta(days=1)
        last = first + PLANNING_WINDOW
        if self._days.last_date is not None:
            last = min(last, self._days.last_date)
        last = max(last, day)
        planned = corporate_actions.plan_actions(
            self._universe, self._calendar, first, last, run_first=self._days.first.date
        )
        for announce_date, actions in corporate_actions.index_by_date(planned).items():
            self._planned.setdefault(announce_date, []).extend(actions)
        self._planned_until = last
        for past in [d for d in self._planned if d < day]:
            del self._planned[past]  # announced already: memory stays flat however long the run

    def _announce_actions(self, events: _Day, day: dt.date, quotes: Mapping[str, PriceQuote]) -> None:
        for planned in self._planned.get(day, ()):
            instrument = self._universe.get(planned.instrument_id)
            if planned.kind is CorporateActionKind.CASH_DIVIDEND:
                quote = quotes.get(planned.instrument_id)
                if quote is None:
                    continue
                spec = self._universe.equity_specs[planned.instrument_id]
                amount = corporate_actions.dividend_per_share(quote.price, spec.dividend_yield)
            else:
                amount = corporate_actions.coupon_per_100(instrument)
            self._actions += 1
            action = CorporateAction(
                action_id=f"CA-{self._actions:06d}",
                instrument_id=planned.instrument_id,
                kind=planned.kind,
                ex_date=planned.ex_date,
                record_date=planned.record_date,
                pay_date=planned.pay_date,
                amount_per_unit=amount,
                currency=instrument.currency,
            )
            event_id = events.emit("corporate_action.announced", action)
            self._announced.append(_Announced(action, event_id, planned.coupon_date, {}, {}))

    def _pay_income(self, events: _Day, day: dt.date) -> None:
        """Fix dividend entitlements on ex-dates, then pay what is due today (before today's fills)."""
        remaining: list[_Announced] = []
        for announced in self._announced:
            action = announced.action
            if action.kind is CorporateActionKind.CASH_DIVIDEND and action.ex_date == day:
                for mandate in self.mandates:
                    m = mandate.mandate_id
                    announced.internal[m] = self._book.position(m, action.instrument_id)
                    announced.custodian[m] = self._custodian.entitle(action, m, day)
            if action.pay_date != day:
                remaining.append(announced)
                continue
            if action.kind is CorporateActionKind.COUPON:
                for mandate in self.mandates:
                    m = mandate.mandate_id
                    announced.internal[m] = self._book.settled_position(m, action.instrument_id)
                    announced.custodian[m] = self._custodian.entitle(action, m, day)
            self._pay_action(events, announced)
        self._announced = remaining

    def _pay_action(self, events: _Day, announced: _Announced) -> None:
        action = announced.action
        dividend = action.kind is CorporateActionKind.CASH_DIVIDEND
        kind = CashFlowKind.DIVIDEND if dividend else CashFlowKind.COUPON
        quantum = CURRENCY_QUANTUM[action.currency]

        def amount(quantity: Decimal) -> Decimal:
            per_unit = action.amount_per_unit if dividend else action.amount_per_unit / 100
            return (quantity * per_unit).quantize(quantum, rounding=ROUND_HALF_EVEN)

        for mandate in self.mandates:
            m = mandate.mandate_id
            internal, entitlement = announced.internal[m], announced.custodian[m]
            if internal <= 0 and entitlement.quantity <= 0:  # nobody is entitled: no cash flow id
                self._custodian.pay(entitlement, "", ())
                continue
            cash_flow_id = self._next_cash_flow_id()
            caused_by: tuple[str, ...] = (announced.event_id,)
            if internal > 0:
                flow = CashFlow(
                    cash_flow_id=cash_flow_id,
                    mandate_id=m,
                    kind=kind,
                    amount=amount(internal),
                    currency=action.currency,
                    instrument_id=action.instrument_id,
                    action_id=action.action_id,
                    quantity=internal,
                    ex_date=action.ex_date,
                    pay_date=action.pay_date,
                )
                caused_by = (events.emit(CASH_FLOW_EVENT[kind], flow, m, (announced.event_id,)),)
                self._book.apply_cash_flow(flow)
            self._custodian.pay(entitlement, cash_flow_id, caused_by)

    def _accrue_fees(self, events: _Day, day: dt.date) -> None:
        """Each mandate's fee for the days since the previous day end, on that day end's NAV."""
        for due in self._fees.accruals(day):
            accrual = due.accrual
            event_id = events.emit("fee.accrued", accrual, accrual.mandate_id, (due.day_end_event_id,))
            self._fees.accrued(accrual, event_id)

    def _pay_fees(self, events: _Day, day: dt.date) -> None:
        """On the first business day of a month, each mandate pays the fees it accrued before it:
        out of the internal book's cash (the desk trades on what is left) and, the same day, debited
        by the custodian. No fault touches a fee payment (schedule_cash_flow draws none for it)."""
        for payment in self._fees.payments(day):
            flow = CashFlow(
                cash_flow_id=self._next_cash_flow_id(),
                mandate_id=payment.mandate_id,
                kind=CashFlowKind.FEE,
                amount=payment.amount,
                currency=payment.currency,
            )
            event_id = events.emit(
                CASH_FLOW_EVENT[flow.kind], flow, flow.mandate_id, payment.accrual_event_ids
            )
            self._book.apply_cash_flow(flow)
            self._custodian.schedule_cash_flow(
                day,
                flow.cash_flow_id,
                flow.mandate_id,
                flow.kind,
                flow.amount,
                flow.currency,
                "",
                (event_id,),
            )

    def _next_cash_flow_id(self) -> str:
        self._cash_flows += 1
        return f"CF-{self._cash_flows:07d}"

    def _investor_flows(self, events: _Day, day: dt.date, quotes: Mapping[str, PriceQuote]) -> None:
        if self._next == 0:
            self._flows.initial(day)
        else:
            navs = {
                m.mandate_id: self._desk.value(
                    day, m, self._book, quotes, self._flows.upcoming(m.mandate_id), self._rates
                ).nav
                for m in self.mandates
            }
            self._flows.decide(day, navs)
        for planned in self._flows.due(day):
            flow = CashFlow(
                cash_flow_id=self._next_cash_flow_id(),
                mandate_id=planned.mandate_id,
                kind=planned.kind,
                amount=planned.amount,
                currency=planned.currency,
            )
            event_id = events.emit(CASH_FLOW_EVENT[planned.kind], flow, planned.mandate_id)
            self._book.apply_cash_flow(flow)
            self._custodian.schedule_cash_flow(
                day,
                flow.cash_flow_id,
                flow.mandate_id,
                flow.kind,
                flow.amount,
                flow.currency,
                "",
                (event_id,),
            )

    # ------------------------------------------------------------ trading and the custodian

    def _trade(
        self, events: _Day, day: dt.date, quotes: Mapping[str, PriceQuote], ticks: Mapping[str, str]
    ) -> tuple[int, list[Booking]]:
        """ticks: the day's price.tick event of each instrument, each fill's cause (the desk fills
        only at a true quote of the day, and every true quote has its price.tick)."""
        count = 0
        bookings: list[Booking] = []
        for mandate in self.mandates:
            upcoming = self._flows.upcoming(mandate.mandate_id)
            fill_events: dict[str, list[str]] = {}  # currency -> the mandate's fills in it today
            for fill in self._desk.rebalance(day, mandate, self._book, quotes, upcoming, self._rates):
                count += 1
                instrument = self._universe.get(fill.instrument_id)
                tick = ticks.get(fill.instrument_id)
                fill_event = events.emit("trade.fill", fill, fill.mandate_id, (tick,) if tick else ())
                fill_events.setdefault(fill.currency, []).append(fill_event)
                self._book.apply_fill(fill)
                outcome = self._custodian.book_fill(fill, instrument, day, fill_event)
                confirmation_id = "CNF-" + fill.fill_id.removeprefix("FIL-")
                layout = layout_for_broker(fill.broker)
                text = render_confirmation_text(
                    fill,
                    instrument,
                    layout,
                    quantity=outcome.confirm_quantity,
                    price=outcome.confirm_price,
                    confirmation_id=confirmation_id,
                )
                confirmation = Confirmation(
                    confirmation_id, fill.fill_id, fill.mandate_id, fill.broker, layout, text
                )
                confirmation_event = events.emit(
                    "trade.confirmation", confirmation, fill.mandate_id, (fill_event,)
                )
                self._keep_confirmation(confirmation, fill)
                fault = outcome.fault
                if fault is not None:
                    if fault.kind is FaultKind.CUSTODIAN_DROP_TRADE:
                        fault.event_ids.append(fill_event)
                    if outcome.confirm_quantity is not None or outcome.confirm_price is not None:
                        fault.event_ids.append(confirmation_event)
                        self._wrong_confirmations[fill.fill_id] = (confirmation_id, confirmation_event)
                bookings.extend(outcome.bookings)
            for correction in self._custodian.confirmations_corrected(day, mandate.mandate_id):
                self._correct_confirmation(events, correction)
            self._deal_fx(events, day, mandate, quotes, upcoming, fill_events)
        return count, bookings

    def _correct_confirmation(self, events: _Day, correction: Correction) -> None:
        """The broker's corrected confirmation of a fill whose first one carried the custodian's typo:
        the fill's own figures, its own id (the first's with -C), naming the one it cancels and
        replaces; caused by the fill and the wrong confirmation, and part of the fault's correction."""
        fill, instrument = correction.fill, correction.instrument
        assert fill is not None and instrument is not None
        wrong_id, wrong_event = self._wrong_confirmations.pop(fill.fill_id)
        corrected_id = f"{wrong_id}-C"
        layout = layout_for_broker(fill.broker)
        text = render_confirmation_text(
            fill, instrument, layout, confirmation_id=corrected_id, replaces=wrong_id
        )
        confirmation = Confirmation(
            corrected_id,
            fill.fill_id,
            fill.mandate_id,
            fill.broker,
            layout,
            text,
            replaces_confirmation_id=wrong_id,
        )
        event = events.emit(
            "trade.confirmation", confirmation, fill.mandate_id, (correction.fill_event_id, wrong_event)
        )
        self._keep_confirmation(confirmation, fill)
        correction.fault.correction_event_ids.append(event)

    def _deal_fx(
        self,
        events: _Day,
        day: dt.date,
        mandate: Mandate,
        quotes: Mapping[str, PriceQuote],
        upcoming: list[tuple[dt.date, Decimal]],
        fill_events: Mapping[str, list[str]],
    ) -> None:
        """The mandate's FX deals after its fills: a funding deal is caused by the fills in the
        currency it buys; a sweep by nothing of the day."""
        if len(currencies_of(mandate)) < 2:
            return
        nav = self._desk.value(day, mandate, self._book, quotes, upcoming, self._rates).nav
        for deal in self._dealer.deals(day, mandate, self._book, self._rates, nav):
            funded = deal.bought_currency if deal.bought_currency != mandate.base_currency else ""
            event_id = events.emit("trade.fx", deal, deal.mandate_id, tuple(fill_events.get(funded, ())))
            self._book.apply_fx_deal(deal)
            self._custodian.book_fx(deal, event_id)

    def _custodian_day(self, events: _Day, day: dt.date, bookings: list[Booking]) -> None:
        for booking in bookings:
            trade = booking.trade
            booking.event_id = events.emit(
                "custodian.trade", trade, trade.mandate_id, (booking.fill_event_id,)
            )
            if booking.fault is not None:
                booking.fault.event_ids.append(booking.event_id)
        self._corrections(events, day)
        for booking, state in self._custodian.settlements_due(day):
            trade = booking.trade
            quantity, cash = self._custodian.signed_amounts(booking)
            if state is SettlementState.FAILED:
                reason = "counterparty failed to deliver" if quantity > 0 else "counterparty failed to pay"
            elif booking.fail_on is not None:
                reason = f"settled after failing on {booking.fail_on.isoformat()}"
            else:
                reason = ""
            status = SettlementStatus(
                fill_id=trade.fill_id,
                custodian_ref=trade.custodian_ref,
                mandate_id=trade.mandate_id,
                instrument_id=trade.instrument_id,
                state=state,
                settle_date=day,
                quantity=quantity,
                cash_amount=cash,
                currency=trade.currency,
                reason=reason,
            )
            event_id = events.emit(
                "custodian.settlement", status, trade.mandate_id, (booking.event_id, booking.fill_event_id)
            )
            if booking.fault is not None:
                booking.fault.event_ids.append(event_id)
            if booking.corrects is not None and state is SettlementState.SETTLED:
                booking.corrects.correction_event_ids.append(event_id)
        for fx_booking, report in self._custodian.fx_settlements_due(day):
            events.emit("custodian.fx_settlement", report, report.mandate_id, (fx_booking.event_id,))
        for scheduled in self._custodian.cash_flows_due(day):
            flow = scheduled.flow
            scheduled.event_id = events.emit("custodian.cashflow", flow, flow.mandate_id, scheduled.caused_by)
            if scheduled.fault is not None:
                scheduled.fault.event_ids.append(scheduled.event_id)

    def _corrections(self, events: _Day, day: dt.date) -> None:
        """The custodian's corrections due today, each as: its custodian.correction (a cancellation
        or a value-date correction), the late booking or rebooking, then income adjustments."""
        for applied in self._custodian.corrections_due(day):
            fault = applied.fault
            correcting = ""
            if applied.record is not None:
                correcting = events.emit(
                    "custodian.correction",
                    applied.record,
                    applied.record.mandate_id,
                    (applied.corrected_event_id,),
                )
                fault.correction_event_ids.append(correcting)
            booking = applied.booking
            if booking is not None:
                trade = booking.trade
                causes: tuple[str, ...] = tuple(e for e in (booking.fill_event_id, correcting) if e)
                booking.event_id = correcting = events.emit(
                    "custodian.trade", trade, trade.mandate_id, causes
                )
                fault.correction_event_ids.append(booking.event_id)
            for record, entitlement in applied.adjustments:
                causes = tuple(e for e in (correcting, entitlement.lineage_event_id) if e)
                fault.correction_event_ids.append(
                    events.emit("custodian.correction", record, record.mandate_id, causes)
                )
