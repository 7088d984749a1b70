"""The custodian corrects its own errors: each kind after its drawn delay, as a real custodian does.

Each test drives a Custodian directly (the calendar, fills and instruments of
test_custodian_settlement) with faults requested on demand, so the kind is chosen by the test.
An injected fault's correction delay is the first draw of its own stream,
"custodian.correction.<fault id>", through the kind's distribution; where a test needs the
correction before or after the settle date it picks the first seed whose draw gives that, and
says so.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from decimal import Decimal

import pytest

from services.market.sim.corrections import Entitlement, Entitlements, ScheduledCashFlow
from services.market.sim.custodian import Custodian
from services.market.sim.faults import CORRECTION_DELAYS, TRADE_KINDS, FaultBook
from services.market.sim.records import (
    CashFlowKind,
    CorporateAction,
    CorporateActionKind,
    CorrectionKind,
    CustodianCashFlow,
    FaultKind,
    FaultRequest,
    Fill,
    SettlementState,
    Side,
)
from services.market.sim.rng import py_stream
from services.market.sim.typos import price_typo, quantity_typo
from tests.market.domain.test_confirmations import BOND, EQUITY
from tests.market.domain.test_custodian_settlement import (
    CALENDAR,
    SETTLE_DAY,
    TRADE_DAY,
    bond_fill,
    custodian,
    equity_fill,
)

K = FaultKind
USD_NET = Decimal("148156.18")  # what a buy of 1,200 at 123.45 pays (test_custodian_settlement)


def delay_of(kind: FaultKind, seed: int, fault_id: str = "FLT-000001") -> int:
    return CORRECTION_DELAYS[kind].days(py_stream(seed, f"custodian.correction.{fault_id}").random())


def seed_where(kind: FaultKind, wanted: Callable[[int], bool]) -> int:
    """The first seed whose injected fault of this kind (FLT-000001) gets a delay `wanted` accepts."""
    return next(seed for seed in range(1000) if wanted(delay_of(kind, seed)))


def inject(faults: FaultBook, kind: FaultKind, **target: str) -> None:
    faults.request(FaultRequest(kind=kind, **target))


def before_settlement(kind: FaultKind) -> int:
    """A seed that corrects on 13 March, before the 16 March settle date (a delay of 1 day)."""
    return seed_where(kind, lambda days: days == 1)


def after_settlement(kind: FaultKind) -> int:
    """A seed that corrects after the settle date: 3 business days or more after 12 March."""
    return seed_where(kind, lambda days: days >= 3)


# ---------------------------------------------------------------- dropped trades


def test_a_dropped_fill_is_booked_late_and_settles_on_its_settle_date_when_booked_before_it() -> None:
    seed = before_settlement(K.CUSTODIAN_DROP_TRADE)
    cus, faults = custodian(seed=seed)
    inject(faults, K.CUSTODIAN_DROP_TRADE)
    fill = equity_fill()
    assert cus.book_fill(fill, EQUITY, TRADE_DAY, "mkt-10").bookings == []
    [pending] = cus.pending_corrections()
    assert pending.due == dt.date(2020, 3, 13) and pending.rebook and pending.wrong is None
    assert cus.corrections_due(TRADE_DAY) == [] and faults.records()[0].corrected_date is None
    [applied] = cus.corrections_due(dt.date(2020, 3, 13))
    assert applied.record is None and applied.adjustments == [] and applied.corrected_event_id == ""
    booking = applied.booking
    assert booking is not None and booking.corrects is applied.fault and booking.fault is None
    trade = booking.trade
    assert (trade.custodian_ref, trade.replaces_ref, trade.fill_id) == ("CUS-0000001", "", fill.fill_id)
    assert (trade.quantity, trade.price, trade.net_amount) == (fill.quantity, fill.price, fill.net_amount)
    assert (trade.trade_date, trade.settle_date, booking.settle_on) == (TRADE_DAY, SETTLE_DAY, SETTLE_DAY)
    assert booking.fill_event_id == "mkt-10"
    assert faults.records()[0].corrected_date == dt.date(2020, 3, 13)
    assert cus.booked_position("M-GROWTH", EQUITY.instrument_id) == Decimal(1200)
    assert cus.pending_corrections() == () and cus.corrections_due(dt.date(2020, 3, 16)) == []
    assert cus.settlements_due(SETTLE_DAY) == [(booking, SettlementState.SETTLED)]
    assert cus.book("M-GROWTH", "USD").positions == {EQUITY.instrument_id: Decimal(1200)}


def test_a_dropped_fill_booked_after_its_settle_date_settles_the_day_it_is_booked() -> None:
    seed = after_settlement(K.CUSTODIAN_DROP_TRADE)
    cus, faults = custodian(seed=seed)
    inject(faults, K.CUSTODIAN_DROP_TRADE)
    cus.book_fill(equity_fill(), EQUITY, TRADE_DAY)
    due = CALENDAR.add(TRADE_DAY, delay_of(K.CUSTODIAN_DROP_TRADE, seed))
    assert due > SETTLE_DAY
    assert cus.settlements_due(SETTLE_DAY) == [] and cus.book("M-GROWTH", "USD").positions == {}
    assert cus.contract_settled_position("M-GROWTH", EQUITY.instrument_id) == 0
    [applied] = cus.corrections_due(due)
    booking = applied.booking
    assert booking is not None and booking.settle_on == due  # late settlement
    assert booking.trade.settle_date == SETTLE_DAY  # the contractual date is the fill's
    assert cus.settlements_due(due) == [(booking, SettlementState.SETTLED)]
    assert cus.book("M-GROWTH", "USD") == cus_clean_book()
    # Counted as contractually settled from the day it is booked (coupons after it see it).
    assert cus.contract_settled_position("M-GROWTH", EQUITY.instrument_id) == Decimal(1200)


def cus_clean_book(fill: Fill | None = None) -> object:
    """The book of a custodian that made no mistake with one settled fill."""
    clean, _ = custodian()
    fill = fill or equity_fill()
    clean.book_fill(fill, EQUITY if fill.instrument_id == EQUITY.instrument_id else BOND, TRADE_DAY)
    clean.settlements_due(dt.date(2020, 4, 30))
    return clean.book(fill.mandate_id, "USD")


# ---------------------------------------------------------------- duplicates


def test_a_duplicate_cancelled_before_it_settles_never_moves_anything() -> None:
    cus, faults = custodian(seed=before_settlement(K.CUSTODIAN_DUPLICATE_TRADE))
    inject(faults, K.CUSTODIAN_DUPLICATE_TRADE)
    original, duplicate = cus.book_fill(equity_fill(), EQUITY, TRADE_DAY, "mkt-20").bookings
    assert (original.fill_event_id, duplicate.fill_event_id) == ("mkt-20", "mkt-20")
    duplicate.event_id = "mkt-21"
    assert cus.booked_position("M-GROWTH", EQUITY.instrument_id) == Decimal(2400)
    [applied] = cus.corrections_due(dt.date(2020, 3, 13))
    assert applied.booking is None and applied.corrected_event_id == "mkt-21" and duplicate.cancelled
    record = applied.record
    assert record is not None
    assert (record.correction_ref, record.kind, record.custodian_ref, record.rebooked_ref) == (
        "CUS-CX-0000001",
        CorrectionKind.CANCEL_TRADE,
        duplicate.trade.custodian_ref,
        "",
    )
    assert (record.fill_id, record.mandate_id, record.instrument_id, record.currency) == (
        "FIL-0000001",
        "M-GROWTH",
        EQUITY.instrument_id,
        "USD",
    )
    assert (record.quantity, record.cash_amount, record.value_date) == (0, 0, None)
    assert record.correction_date == dt.date(2020, 3, 13)
    assert record.reason == "duplicate booking of fill FIL-0000001"
    assert cus.booked_position("M-GROWTH", EQUITY.instrument_id) == Decimal(1200)
    assert cus.settlements_due(SETTLE_DAY) == [(original, SettlementState.SETTLED)]
    assert cus.book("M-GROWTH", "USD") == cus_clean_book()
    assert cus.contract_settled_position("M-GROWTH", EQUITY.instrument_id) == Decimal(1200)


@pytest.mark.parametrize("side", [Side.BUY, Side.SELL])
def test_a_settled_duplicate_is_cancelled_by_reversing_its_settlement(side: Side) -> None:
    seed = after_settlement(K.CUSTODIAN_DUPLICATE_TRADE)
    cus, faults = custodian(seed=seed)
    inject(faults, K.CUSTODIAN_DUPLICATE_TRADE)
    fill = equity_fill(side)
    _, duplicate = cus.book_fill(fill, EQUITY, TRADE_DAY).bookings
    due = CALENDAR.add(TRADE_DAY, delay_of(K.CUSTODIAN_DUPLICATE_TRADE, seed))
    assert len(cus.settlements_due(SETTLE_DAY)) == 2
    sign = 1 if side is Side.BUY else -1
    assert cus.book("M-GROWTH", "USD").positions == {EQUITY.instrument_id: sign * Decimal(2400)}
    assert cus.corrections_due(CALENDAR.add(due, -1)) == []
    [applied] = cus.corrections_due(due)
    record = applied.record
    assert record is not None
    # The reversal of a settled buy takes the 1,200 back and returns its cash; of a sell the opposite.
    assert (record.quantity, record.cash_amount) == (-sign * Decimal(1200), sign * fill.net_amount)
    assert record.reason == "duplicate booking of fill FIL-0000001; its settlement reversed"
    assert cus.book("M-GROWTH", "USD") == cus_clean_book(fill)
    assert cus.contract_settled_position("M-GROWTH", EQUITY.instrument_id) == sign * Decimal(1200)
    assert cus.booked_position("M-GROWTH", EQUITY.instrument_id) == sign * Decimal(1200)
    assert duplicate.cancelled and faults.records()[0].corrected_date == due


# ---------------------------------------------------------------- typos


@pytest.mark.parametrize("kind", [K.CUSTODIAN_QUANTITY_TYPO, K.CUSTODIAN_PRICE_TYPO])
def test_a_typo_caught_before_settlement_is_cancelled_and_rebooked_to_settle_on_time(
    kind: FaultKind,
) -> None:
    cus, faults = custodian(seed=before_settlement(kind))
    inject(faults, kind)
    fill = equity_fill()
    [wrong] = cus.book_fill(fill, EQUITY, TRADE_DAY, "mkt-3").bookings
    wrong.event_id = "mkt-4"
    [applied] = cus.corrections_due(dt.date(2020, 3, 13))
    record, rebooked = applied.record, applied.booking
    assert record is not None and rebooked is not None and wrong.cancelled
    assert (record.custodian_ref, record.rebooked_ref) == ("CUS-0000001", "CUS-0000002")
    assert rebooked.trade.custodian_ref == "CUS-0000002" and rebooked.trade.replaces_ref == "CUS-0000001"
    assert record.reason == (
        f"booked {wrong.trade.quantity} @ {wrong.trade.price} in error; rebooked as CUS-0000002"
    )
    assert (record.quantity, record.cash_amount) == (0, 0) and applied.corrected_event_id == "mkt-4"
    assert (rebooked.trade.quantity, rebooked.trade.price, rebooked.trade.net_amount) == (
        fill.quantity,
        fill.price,
        fill.net_amount,
    )
    assert rebooked.settle_on == SETTLE_DAY and rebooked.fill_event_id == "mkt-3"
    assert rebooked.corrects is applied.fault and rebooked.fault is None
    assert cus.booked_position("M-GROWTH", EQUITY.instrument_id) == Decimal(1200)
    # Only the rebooking settles.
    assert cus.settlements_due(SETTLE_DAY) == [(rebooked, SettlementState.SETTLED)]
    assert cus.book("M-GROWTH", "USD") == cus_clean_book()


@pytest.mark.parametrize("kind", [K.CUSTODIAN_QUANTITY_TYPO, K.CUSTODIAN_PRICE_TYPO])
def test_a_typo_corrected_on_the_settle_date_settles_only_the_rebooking(kind: FaultKind) -> None:
    """Corrections come before the day's settlements, so the wrong booking never settles."""
    seed = seed_where(kind, lambda days: days == 2)  # 12 March + 2 = the settle date, 16 March
    cus, faults = custodian(seed=seed)
    inject(faults, kind)
    [wrong] = cus.book_fill(equity_fill(), EQUITY, TRADE_DAY).bookings
    [applied] = cus.corrections_due(SETTLE_DAY)
    assert applied.record is not None and (applied.record.quantity, applied.record.cash_amount) == (0, 0)
    assert cus.settlements_due(SETTLE_DAY) == [(applied.booking, SettlementState.SETTLED)]
    assert not wrong.settled and cus.book("M-GROWTH", "USD") == cus_clean_book()


@pytest.mark.parametrize("side", [Side.BUY, Side.SELL])
@pytest.mark.parametrize("kind", [K.CUSTODIAN_QUANTITY_TYPO, K.CUSTODIAN_PRICE_TYPO])
def test_a_settled_typo_is_reversed_and_rebooked_to_settle_on_the_correction_day(
    kind: FaultKind, side: Side
) -> None:
    seed = after_settlement(kind)
    cus, faults = custodian(seed=seed)
    inject(faults, kind)
    fill = equity_fill(side)
    [wrong] = cus.book_fill(fill, EQUITY, TRADE_DAY).bookings
    due = CALENDAR.add(TRADE_DAY, delay_of(kind, seed))
    cus.settlements_due(SETTLE_DAY)
    settled_quantity, settled_cash = Custodian.signed_amounts(wrong)
    assert cus.book("M-GROWTH", "USD").positions == {EQUITY.instrument_id: settled_quantity}
    [applied] = cus.corrections_due(due)
    assert applied.record is not None and applied.booking is not None
    assert (applied.record.quantity, applied.record.cash_amount) == (-settled_quantity, -settled_cash)
    assert applied.record.reason.endswith("; its settlement reversed")
    # The rebooking keeps the fill's dates but settles today: the difference is corrected today.
    assert applied.booking.trade.settle_date == SETTLE_DAY and applied.booking.settle_on == due
    assert cus.settlements_due(due) == [(applied.booking, SettlementState.SETTLED)]
    assert cus.book("M-GROWTH", "USD") == cus_clean_book(fill)
    assert (
        cus.contract_settled_position("M-GROWTH", EQUITY.instrument_id)
        == Custodian.signed_amounts(applied.booking)[0]
    )


# ---------------------------------------------------------------- delays and fails


@pytest.mark.parametrize("kind", [K.SETTLEMENT_DELAY, K.SETTLEMENT_FAIL])
def test_delays_and_fails_are_corrected_by_their_late_settlement_and_schedule_nothing(
    kind: FaultKind,
) -> None:
    cus, faults = custodian()
    inject(faults, kind)
    [booking] = cus.book_fill(equity_fill(), EQUITY, TRADE_DAY).bookings
    assert cus.pending_corrections() == ()
    assert faults.records()[0].description.count("corrects") == 0  # nothing to correct but settling
    for day in CALENDAR.dates:
        if TRADE_DAY <= day < booking.settle_on:
            cus.settlements_due(day)
            assert faults.records()[0].corrected_date is None and booking.corrects is None
    cus.settlements_due(booking.settle_on)
    assert faults.records()[0].corrected_date == booking.settle_on and booking.corrects is booking.fault


def test_a_clean_settlement_corrects_nothing() -> None:
    cus, _ = custodian()
    [booking] = cus.book_fill(equity_fill(), EQUITY, TRADE_DAY).bookings
    cus.settlements_due(SETTLE_DAY)
    assert booking.settled and booking.corrects is None


# ---------------------------------------------------------------- which stream the delay comes from


def test_an_injected_faults_delay_comes_from_its_own_stream_not_the_on_demand_one() -> None:
    """Two injected typos: the second's typo is the on-demand stream's fourth draw (lag, typo, lag,
    typo), so the corrections took no draw from it; each is due after its own stream's delay."""
    for seed in range(1, 8):
        cus, faults = custodian(seed=seed)
        inject(faults, K.CUSTODIAN_QUANTITY_TYPO)
        inject(faults, K.CUSTODIAN_QUANTITY_TYPO)
        cus.book_fill(equity_fill(), EQUITY, TRADE_DAY)
        [second] = cus.book_fill(equity_fill(fill_id="FIL-2"), EQUITY, TRADE_DAY).bookings
        stream = py_stream(seed, "custodian.on_demand")
        stream.random()
        quantity_typo(Decimal(1200), stream)
        stream.random()
        assert second.trade.quantity == quantity_typo(Decimal(1200), stream)
        assert [c.due for c in cus.pending_corrections()] == [
            CALENDAR.add(TRADE_DAY, delay_of(K.CUSTODIAN_QUANTITY_TYPO, seed, f"FLT-00000{i}"))
            for i in (1, 2)
        ]


def _seeded_rate(kind: FaultKind, draw: float) -> float:
    """The fault rate that puts an equity fill's first draw in the middle of this kind's band."""
    low = 0.0
    for k in TRADE_KINDS:
        rate = FaultBook(1.0).probability(k, EQUITY.asset_class)
        if k is kind:
            return draw / (low + rate / 2)
        low += rate
    raise AssertionError(kind)


@pytest.mark.parametrize(
    "kind",
    [K.CUSTODIAN_DROP_TRADE, K.CUSTODIAN_DUPLICATE_TRADE, K.CUSTODIAN_QUANTITY_TYPO, K.CUSTODIAN_PRICE_TYPO],
)
def test_a_seeded_faults_delay_is_drawn_from_its_detail_stream_after_the_typo(kind: FaultKind) -> None:
    """The private stream seeded from the fill's second draw gives the typo first, then the delay."""
    delays = set()
    for seed in range(1, 30):
        stream = py_stream(seed, "custodian")
        draw, detail = stream.random(), stream.random()
        cus, _ = custodian(rate=_seeded_rate(kind, draw), seed=seed)
        outcome = cus.book_fill(equity_fill(), EQUITY, TRADE_DAY)
        assert outcome.fault is not None and outcome.fault.kind is kind
        private = random.Random(int(detail * 2**53))
        if kind is K.CUSTODIAN_QUANTITY_TYPO:
            assert outcome.bookings[0].trade.quantity == quantity_typo(Decimal(1200), private)
        elif kind is K.CUSTODIAN_PRICE_TYPO:
            assert outcome.bookings[0].trade.price == price_typo(Decimal("123.45"), private)
        delay = CORRECTION_DELAYS[kind].days(private.random())
        [pending] = cus.pending_corrections()
        assert pending.due == CALENDAR.add(TRADE_DAY, delay)
        delays.add(delay)
    assert len(delays) > 1


def test_a_seeded_date_mismatch_is_corrected_after_a_delay_drawn_from_its_lag_draw() -> None:
    pay = dt.date(2020, 3, 20)
    for seed in range(1, 12):
        stream = py_stream(seed, "custodian.cashflows")
        _, lag_draw, early_draw = stream.random(), stream.random(), stream.random()
        cus, faults = custodian(rate=1000.0, seed=seed)
        scheduled = cus.schedule_cash_flow(
            pay, "CF-1", "M-GROWTH", CashFlowKind.DIVIDEND, Decimal("10.00"), "USD", EQUITY.instrument_id, ()
        )
        lag = 1 + int(lag_draw * 2)
        booked_on = CALENDAR.add(pay, lag) if early_draw < 0.5 else pay
        assert scheduled.book_on == booked_on
        delay = CORRECTION_DELAYS[K.CORPORATE_ACTION_DATE_MISMATCH].days(
            random.Random(int(lag_draw * 2**53)).random()
        )
        [pending] = cus.pending_corrections()
        assert pending.due == CALENDAR.add(booked_on, delay) and pending.flow is scheduled
        assert faults.records()[0].description.endswith(f"; the custodian corrects it on {pending.due}")


# ---------------------------------------------------------------- value dates


def test_a_mis_dated_dividend_is_back_valued_to_its_pay_date_and_its_cash_does_not_move() -> None:
    pay = dt.date(2020, 3, 20)
    seen = set()
    for seed in range(12):
        cus, faults = custodian(seed=seed)
        inject(faults, K.CORPORATE_ACTION_DATE_MISMATCH)
        scheduled = cus.schedule_cash_flow(
            pay,
            "CF-7",
            "M-GROWTH",
            CashFlowKind.DIVIDEND,
            Decimal("240.00"),
            "USD",
            EQUITY.instrument_id,
            ("e",),
        )
        wrong = scheduled.flow.value_date
        assert wrong != pay and scheduled.pay_date == pay
        due = CALENDAR.add(scheduled.book_on, delay_of(K.CORPORATE_ACTION_DATE_MISMATCH, seed))
        assert cus.corrections_due(scheduled.book_on) == []  # never the day it is booked
        assert cus.cash_flows_due(scheduled.book_on) == [scheduled]
        scheduled.event_id = "mkt-77"
        assert cus.corrections_due(CALENDAR.add(due, -1)) == []
        [applied] = cus.corrections_due(due)
        record = applied.record
        assert record is not None and applied.booking is None and applied.adjustments == []
        assert applied.corrected_event_id == "mkt-77"
        assert (record.kind, record.custodian_ref, record.cash_flow_id, record.value_date) == (
            CorrectionKind.VALUE_DATE,
            "CUS-CF-0000001",
            "CF-7",
            pay,
        )
        assert (record.quantity, record.cash_amount, record.currency) == (0, 0, "USD")
        assert (record.instrument_id, record.fill_id, record.rebooked_ref) == (EQUITY.instrument_id, "", "")
        assert (record.mandate_id, record.correction_date) == ("M-GROWTH", due)
        assert record.reason == f"value date {wrong} corrected to {pay}"
        # The custodian's own record now has the right value date; its balance is what it was.
        assert scheduled.flow.value_date == pay and scheduled.flow.amount == Decimal("240.00")
        assert cus.book("M-GROWTH", "USD").cash == {"USD": Decimal("240.00")}
        assert faults.records()[0].corrected_date == due
        seen.add(scheduled.book_on > pay)
    assert seen == {True, False}  # late and back-valued both


# ---------------------------------------------------------------- income on corrected holdings


def _dividend(ex: dt.date, pay: dt.date, per_share: str = "0.50") -> CorporateAction:
    return CorporateAction(
        "CA-000001",
        EQUITY.instrument_id,
        CorporateActionKind.CASH_DIVIDEND,
        ex,
        ex,
        pay,
        Decimal(per_share),
        "USD",
    )


def _coupon(pay: dt.date) -> CorporateAction:
    return CorporateAction(
        "CA-000002", BOND.instrument_id, CorporateActionKind.COUPON, pay, pay, pay, Decimal("1.25"), "USD"
    )


def test_a_dividend_not_paid_yet_is_paid_on_the_corrected_holding() -> None:
    """Duplicate booked 12 March; ex-date 13 March fixes 2,400 shares; the cancellation on 13 March
    (after the fixing) brings it back to 1,200, so 20 March pays 1,200 x 0.50 = 600.00."""
    cus, faults = custodian(seed=before_settlement(K.CUSTODIAN_DUPLICATE_TRADE))
    inject(faults, K.CUSTODIAN_DUPLICATE_TRADE)
    cus.book_fill(equity_fill(), EQUITY, TRADE_DAY)
    entitlement = cus.entitle(
        _dividend(dt.date(2020, 3, 13), dt.date(2020, 3, 20)), "M-GROWTH", dt.date(2020, 3, 13)
    )
    assert entitlement.quantity == Decimal(2400) and entitlement.paid is None
    [applied] = cus.corrections_due(dt.date(2020, 3, 13))
    assert applied.adjustments == [] and entitlement.quantity == Decimal(1200)
    cus.pay(entitlement, "CF-1", ("mkt-50",))
    assert entitlement.paid == Decimal("600.00") and entitlement.flow is not None
    assert entitlement.flow.flow.amount == Decimal("600.00") and entitlement.cause_event_id == "mkt-50"


def test_an_entitlement_to_a_few_cents_is_paid_and_one_to_nothing_pays_nothing() -> None:
    cus, _ = custodian()
    cus.book_fill(equity_fill(), EQUITY, TRADE_DAY)
    small = cus.entitle(
        _dividend(dt.date(2020, 3, 13), dt.date(2020, 3, 20), "0.0005"), "M-GROWTH", dt.date(2020, 3, 13)
    )
    cus.pay(small, "CF-1", ("mkt-1",))
    assert small.paid == Decimal("0.60") and small.flow is not None  # 1,200 x 0.0005
    nothing = cus.entitle(
        _dividend(dt.date(2020, 3, 13), dt.date(2020, 3, 20)), "M-INCOME", dt.date(2020, 3, 13)
    )
    cus.pay(nothing, "", ())
    assert (nothing.paid, nothing.flow, nothing.cash_flow_id, nothing.lineage_event_id) == (0, None, "", "")


def test_a_dividend_fixed_before_the_trade_is_not_touched_by_its_correction() -> None:
    cus, faults = custodian(seed=before_settlement(K.CUSTODIAN_DUPLICATE_TRADE))
    inject(faults, K.CUSTODIAN_DUPLICATE_TRADE)
    before = cus.entitle(
        _dividend(TRADE_DAY, dt.date(2020, 3, 20)), "M-GROWTH", TRADE_DAY
    )  # fixed at the start of 12 March
    cus.book_fill(equity_fill(), EQUITY, TRADE_DAY)
    cus.corrections_due(dt.date(2020, 3, 13))
    assert before.quantity == 0


def test_a_dividend_paid_and_booked_on_a_duplicate_is_adjusted_back_when_it_is_cancelled() -> None:
    """Duplicate of a 1,200-share buy on 12 March; ex-date 13 March (2,400 entitled), paid 17 March:
    1,200.00. The duplicate is cancelled on 19 March or later: an income adjustment of -600.00 for
    -1,200 shares, value-dated 17 March, names the custodian's flow and the internal cash flow id."""
    seed = seed_where(K.CUSTODIAN_DUPLICATE_TRADE, lambda days: days >= 4)  # 12 March + 4 = 19 March
    cus, faults = custodian(seed=seed)
    inject(faults, K.CUSTODIAN_DUPLICATE_TRADE)
    cus.book_fill(equity_fill(), EQUITY, TRADE_DAY)
    pay = dt.date(2020, 3, 17)
    entitlement = cus.entitle(_dividend(dt.date(2020, 3, 13), pay), "M-GROWTH", dt.date(2020, 3, 13))
    cus.settlements_due(SETTLE_DAY)
    cus.pay(entitlement, "CF-4", ("mkt-60",))
    [booked] = cus.cash_flows_due(pay)
    booked.event_id = "mkt-61"
    assert booked.flow.amount == Decimal("1200.00") and entitlement.lineage_event_id == "mkt-61"
    due = CALENDAR.add(TRADE_DAY, delay_of(K.CUSTODIAN_DUPLICATE_TRADE, seed))
    [applied] = cus.corrections_due(due)
    [(adjustment, adjusted)] = applied.adjustments
    assert adjusted is entitlement
    assert (adjustment.correction_ref, adjustment.kind, adjustment.custodian_ref) == (
        "CUS-CX-0000002",  # after the cancellation's CUS-CX-0000001
        CorrectionKind.INCOME_ADJUSTMENT,
        "CUS-CF-0000001",
    )
    assert (adjustment.cash_flow_id, adjustment.fill_id, adjustment.instrument_id) == (
        "CF-4",
        "FIL-0000001",
        EQUITY.instrument_id,
    )
    assert (adjustment.quantity, adjustment.cash_amount, adjustment.value_date) == (
        Decimal(-1200),
        Decimal("-600.00"),
        pay,
    )
    assert (adjustment.correction_date, adjustment.currency, adjustment.mandate_id) == (
        due,
        "USD",
        "M-GROWTH",
    )
    assert adjustment.reason == "dividend CA-000001 on the corrected holding of fill FIL-0000001"
    # Settlement reversed and income adjusted: the custodian has what the clean one would.
    assert cus.book("M-GROWTH", "USD").cash == {"USD": -USD_NET + Decimal("600.00")}
    assert cus.book("M-GROWTH", "USD").positions == {EQUITY.instrument_id: Decimal(1200)}
    assert entitlement.paid == Decimal("600.00")


def test_a_coupon_on_a_mistyped_bond_quantity_is_adjusted_on_the_rebooking() -> None:
    """A bond bought 12 March settles 13 March with a typo in its 250,000 nominal; the coupon paid
    16 March (1.25 per 100) is fixed on what the custodian settled. Rebooked on 17 March or later,
    the coupon is adjusted by (250,000 - typed) x 0.0125."""
    seed = seed_where(K.CUSTODIAN_QUANTITY_TYPO, lambda days: 3 <= days <= 10)
    cus, faults = custodian(seed=seed)
    inject(faults, K.CUSTODIAN_QUANTITY_TYPO)
    fill = bond_fill(Side.BUY)
    [wrong] = cus.book_fill(fill, BOND, TRADE_DAY).bookings
    typed = wrong.trade.quantity
    cus.settlements_due(dt.date(2020, 3, 13))
    pay = dt.date(2020, 3, 16)
    entitlement = cus.entitle(_coupon(pay), "M-INCOME", pay)
    assert entitlement.quantity == typed and entitlement.on_contract
    cus.pay(entitlement, "CF-8", ("mkt-70",))
    cus.cash_flows_due(pay)
    assert entitlement.paid == (typed * Decimal("0.0125")).quantize(Decimal("0.01"))
    due = CALENDAR.add(TRADE_DAY, delay_of(K.CUSTODIAN_QUANTITY_TYPO, seed))
    [applied] = cus.corrections_due(due)
    [(adjustment, _)] = applied.adjustments
    assert adjustment.quantity == Decimal(250000) - typed
    assert adjustment.cash_amount == Decimal("3125.00") - entitlement.paid + adjustment.cash_amount
    assert entitlement.paid == Decimal("3125.00")  # 250,000 x 0.0125
    cus.settlements_due(due)
    clean, _ = custodian()
    clean.book_fill(fill, BOND, TRADE_DAY)
    clean.settlements_due(dt.date(2020, 3, 13))
    clean_entitlement = clean.entitle(_coupon(pay), "M-INCOME", pay)
    clean.pay(clean_entitlement, "CF-8", ())
    clean.cash_flows_due(pay)
    assert cus.book("M-INCOME", "USD") == clean.book("M-INCOME", "USD")


def test_a_dropped_fill_booked_after_the_ex_date_is_paid_its_dividend_by_an_adjustment() -> None:
    """Nothing booked on 12 March, so the ex-date of 13 March fixes 0 shares and the 16 March payment
    is nothing; booked late on 17 March or later, the custodian credits 1,200 x 0.50 = 600.00 with no
    flow of its own to name (custodian_ref empty; lineage: what it pays against)."""
    seed = after_settlement(K.CUSTODIAN_DROP_TRADE)
    cus, faults = custodian(seed=seed)
    inject(faults, K.CUSTODIAN_DROP_TRADE)
    cus.book_fill(equity_fill(), EQUITY, TRADE_DAY)
    pay = dt.date(2020, 3, 16)
    entitlement = cus.entitle(_dividend(dt.date(2020, 3, 13), pay), "M-GROWTH", dt.date(2020, 3, 13))
    cus.pay(entitlement, "CF-3", ("mkt-80",))
    assert entitlement.flow is None and entitlement.paid == 0 and entitlement.lineage_event_id == "mkt-80"
    due = CALENDAR.add(TRADE_DAY, delay_of(K.CUSTODIAN_DROP_TRADE, seed))
    [applied] = cus.corrections_due(due)
    [(adjustment, _)] = applied.adjustments
    assert (adjustment.custodian_ref, adjustment.cash_flow_id) == ("", "CF-3")
    assert (adjustment.quantity, adjustment.cash_amount) == (Decimal(1200), Decimal("600.00"))
    cus.settlements_due(due)
    assert cus.book("M-GROWTH", "USD").cash == {"USD": -USD_NET + Decimal("600.00")}


def test_a_price_typo_changes_no_holding_and_adjusts_no_income() -> None:
    cus, faults = custodian(seed=after_settlement(K.CUSTODIAN_PRICE_TYPO))
    inject(faults, K.CUSTODIAN_PRICE_TYPO)
    cus.book_fill(equity_fill(), EQUITY, TRADE_DAY)
    entitlement = cus.entitle(_dividend(dt.date(2020, 3, 13), SETTLE_DAY), "M-GROWTH", dt.date(2020, 3, 13))
    cus.pay(entitlement, "CF-1", ())
    cus.cash_flows_due(SETTLE_DAY)
    [applied] = cus.corrections_due(dt.date(2020, 4, 30))
    assert applied.adjustments == [] and entitlement.paid == Decimal("600.00")


# ---------------------------------------------------------------- the entitlements on their own


def _entitlement(quantity: str, paid: str | None, *, on_contract: bool = False) -> Entitlement:
    return Entitlement(
        action_id="CA-9",
        mandate_id="M-GROWTH",
        instrument_id=EQUITY.instrument_id,
        kind=CashFlowKind.DIVIDEND,
        on_contract=on_contract,
        fixed_on=dt.date(2020, 3, 13),
        pay_date=dt.date(2020, 3, 17),
        per_unit=Decimal("0.333"),
        currency="USD",
        quantity=Decimal(quantity),
        paid=None if paid is None else Decimal(paid),
    )


def test_an_entitlement_pays_nothing_on_no_holding_and_rounds_half_even_to_the_cent() -> None:
    assert _entitlement("0", None).amount() == 0
    assert _entitlement("-100", None).amount() == 0
    assert _entitlement("100", None).amount() == Decimal("33.30")
    assert _entitlement("1", None).amount() == Decimal("0.33")
    assert _entitlement("5", None).amount() == Decimal("1.66")  # 1.665 rounds half to even
    assert _entitlement("15", None).amount() == Decimal("5.00")  # 4.995 rounds half to even (up)


def test_an_entitlement_moves_only_for_its_holding_inside_the_window() -> None:
    """Dividends: trade date < fixing <= correction day; coupons: settle date < fixing <= day."""
    fill = equity_fill()  # traded 12 March, settles 16 March; the entitlement is fixed 13 March
    dividend, coupon = _entitlement("1", None), _entitlement("1", None, on_contract=True)
    assert dividend.moved_by(fill, dt.date(2020, 3, 13)) and dividend.moved_by(fill, dt.date(2020, 4, 1))
    assert not dividend.moved_by(fill, dt.date(2020, 3, 12))  # corrected before the fixing
    assert not coupon.moved_by(fill, dt.date(2020, 4, 1))  # settles after the fixing: never counted
    early = equity_fill()
    early = Fill(**{**{f: getattr(early, f) for f in early.__slots__}, "settle_date": dt.date(2020, 3, 12)})
    assert coupon.moved_by(early, dt.date(2020, 3, 13))
    assert not dividend.moved_by(equity_fill(mandate_id="M-INCOME"), dt.date(2020, 4, 1))
    other = Fill(**{**{f: getattr(fill, f) for f in fill.__slots__}, "instrument_id": BOND.instrument_id})
    assert not dividend.moved_by(other, dt.date(2020, 4, 1))
    at_trade = Fill(**{**{f: getattr(fill, f) for f in fill.__slots__}, "trade_date": dt.date(2020, 3, 13)})
    assert not dividend.moved_by(at_trade, dt.date(2020, 4, 1))  # traded on the ex-date: not entitled


def test_entitlements_follow_a_change_and_report_only_cash_to_move_today() -> None:
    kept = Entitlements()
    unpaid, paid = _entitlement("100", None), _entitlement("100", "33.30")
    flow = CustodianCashFlow(
        "CUS-CF-1",
        "CF-1",
        "M-GROWTH",
        CashFlowKind.DIVIDEND,
        Decimal("33.30"),
        "USD",
        EQUITY.instrument_id,
        dt.date(2020, 3, 19),
    )
    not_booked = _entitlement("100", "33.30")
    not_booked.flow = ScheduledCashFlow(flow, dt.date(2020, 3, 19), (), pay_date=dt.date(2020, 3, 17))
    for entitlement in (unpaid, paid, not_booked):
        kept.add(entitlement)
    assert len(kept) == 3
    moved = kept.follow(equity_fill(), Decimal(-40), dt.date(2020, 3, 18))
    # 60 shares: 19.98; the paid one gives back 13.32 today, the others move no cash today.
    assert moved == [(paid, Decimal(-40), Decimal("-13.32"))]
    assert (unpaid.quantity, unpaid.paid) == (Decimal(60), None)
    assert paid.paid == Decimal("19.98")
    assert not_booked.paid == Decimal("19.98") and not_booked.flow.flow.amount == Decimal("19.98")
    # A change that rounds to no cash moves nothing; a short holding is entitled to nothing.
    assert kept.follow(equity_fill(), Decimal("0.001"), dt.date(2020, 3, 18)) == []
    assert kept.follow(equity_fill(), Decimal(-100), dt.date(2020, 3, 18)) == [
        (paid, Decimal("-60.001"), Decimal("-19.98"))
    ]
    assert paid.quantity < 0 and paid.paid == 0
    # Paid entitlements fixed on or before the horizon are forgotten; unpaid ones wait for their payment.
    kept.forget(dt.date(2020, 3, 12))
    assert len(kept) == 3
    kept.forget(dt.date(2020, 3, 13))
    assert len(kept) == 1 and kept.follow(equity_fill(), Decimal(1), dt.date(2020, 3, 18)) == []
    assert unpaid.quantity == Decimal("-38.999")


def test_paid_entitlements_are_forgotten_once_no_correction_of_an_older_trade_is_pending() -> None:
    cus, faults = custodian(seed=after_settlement(K.CUSTODIAN_DUPLICATE_TRADE))
    inject(faults, K.CUSTODIAN_DUPLICATE_TRADE)
    cus.book_fill(equity_fill(), EQUITY, TRADE_DAY)
    entitlement = cus.entitle(_dividend(dt.date(2020, 3, 13), SETTLE_DAY), "M-GROWTH", dt.date(2020, 3, 13))
    cus.pay(entitlement, "CF-1", ())
    assert cus.corrections_due(SETTLE_DAY) == []  # the duplicate's correction is still pending: kept
    assert len(cus._entitlements) == 1
    cus.corrections_due(dt.date(2020, 4, 30))
    assert len(cus._entitlements) == 0


# ---------------------------------------------------------------- the books agree once all is corrected


def test_once_every_fault_is_corrected_and_settled_the_custodian_holds_the_clean_book() -> None:
    """Two custodians see the same 120 fills over 20 trading days (buys and sells of an equity and a
    bond for two mandates) and the same dividends and coupons; one errs at 20 times the seeded
    rates (about a third of fills), the other never. After the last correction and settlement,
    their books agree to the cent, per mandate."""
    rng = random.Random(2024)
    faulty, faults = custodian(rate=20.0, seed=9)
    clean, _ = custodian(rate=0.0, seed=9)
    # On demand too, so every kind is there: the first dividend or coupon gets a wrong value date.
    inject(faults, K.CORPORATE_ACTION_DATE_MISMATCH)
    adjusted = []
    days = [d for d in CALENDAR.dates if d >= dt.date(2020, 3, 2)][:20]
    actions: dict[dt.date, list[CorporateAction]] = {
        days[5]: [_dividend(days[5], days[8])],
        days[12]: [_coupon(days[12])],
        days[14]: [_dividend(days[14], days[15], "0.37")],
    }
    pending: dict[dt.date, list[tuple[Entitlement, Entitlement]]] = {}
    count = 0
    for day in [
        *days,
        *[d for d in CALENDAR.dates if d > days[-1]],
        *[dt.date(2020, 5, 1) + dt.timedelta(n) for n in range(60)],
    ]:
        adjusted.extend(a for applied in faulty.corrections_due(day) for a in applied.adjustments)
        clean.corrections_due(day)
        for action in actions.get(day, []):
            for mandate in ("M-GROWTH", "M-INCOME"):
                pair = (faulty.entitle(action, mandate, day), clean.entitle(action, mandate, day))
                pending.setdefault(action.pay_date, []).append(pair)
        for pair in pending.pop(day, []):
            for entitlement, cus in zip(pair, (faulty, clean), strict=True):
                cus.pay(entitlement, "CF", ())
        if day in days:
            for _ in range(6):
                count += 1
                mandate = rng.choice(("M-GROWTH", "M-INCOME"))
                bond = rng.random() < 0.4
                side = rng.choice((Side.BUY, Side.SELL))
                template = bond_fill(side) if bond else equity_fill(side)
                fill = Fill(
                    **{
                        **{f: getattr(template, f) for f in template.__slots__},
                        "fill_id": f"FIL-{count:07d}",
                        "mandate_id": mandate,
                        "trade_date": day,
                        "settle_date": CALENDAR.add(day, 1 if bond else 2),
                    }
                )
                for cus in (faulty, clean):
                    cus.book_fill(fill, BOND if bond else EQUITY, day)
        for cus in (faulty, clean):
            cus.settlements_due(day)
            cus.cash_flows_due(day)
    records = faults.records()
    assert len({f.kind for f in records}) == 7 and len(records) > 30
    assert adjusted  # income was paid on a wrong holding, and adjusted
    assert all(f.corrected_date is not None for f in records)
    assert faulty.pending_corrections() == ()
    for mandate in ("M-GROWTH", "M-INCOME"):
        assert faulty.book(mandate, "USD") == clean.book(mandate, "USD")
