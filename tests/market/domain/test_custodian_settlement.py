"""The custodian on its own: how it books fills, settles them, pays income and states its book.

Each test drives a Custodian directly with a hand-made fill and calendar, and faults requested
on demand (FaultBook.request), so the kind of error is chosen by the test. Where a figure
depends on a random draw (how many days late, which typo), the test reproduces the draw from
the documented stream ("custodian.on_demand" or "custodian") rather than copying a result.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

import pytest

from services.common.calendar import BusinessCalendar
from services.market.sim.custodian import Custodian
from services.market.sim.faults import CORRECTION_DELAYS, SEEDED_RATES, TRADE_KINDS, Delay, FaultBook
from services.market.sim.records import (
    CashFlowKind,
    FaultKind,
    FaultRequest,
    FaultStatus,
    Fill,
    SettlementState,
    Side,
)
from services.market.sim.rng import py_stream
from tests.market.domain.test_confirmations import BOND, EQUITY

# The same two instruments as the confirmation tests: one equity, one Treasury.
K = FaultKind
SEED = 5
HOLIDAY = dt.date(2020, 3, 18)  # a Wednesday that is not a business day: business days are not weekdays
CALENDAR = BusinessCalendar(
    [
        dt.date(2020, 3, 2) + dt.timedelta(days=i)
        for i in range(60)
        if (dt.date(2020, 3, 2) + dt.timedelta(days=i)).weekday() < 5
        and dt.date(2020, 3, 2) + dt.timedelta(days=i) != HOLIDAY
    ]
)
MANDATES = ("M-GROWTH", "M-INCOME")
TRADE_DAY = dt.date(2020, 3, 12)  # Thursday
SETTLE_DAY = dt.date(2020, 3, 16)  # Monday, T+2


def equity_fill(side: Side = Side.BUY, fill_id: str = "FIL-0000001", mandate_id: str = "M-GROWTH") -> Fill:
    # 1,200 x 123.45 = 148,140.00; commission 14.81 and fees 1.37 make 16.18 of costs:
    # a buy pays 148,156.18, a sell receives 148,123.82.
    net = Decimal("148156.18") if side is Side.BUY else Decimal("148123.82")
    return Fill(
        fill_id=fill_id,
        order_id="ORD-0000001",
        mandate_id=mandate_id,
        instrument_id=EQUITY.instrument_id,
        side=side,
        quantity=Decimal(1200),
        price=Decimal("123.45"),
        currency="USD",
        gross_amount=Decimal("148140.00"),
        accrued_interest=Decimal("0.00"),
        commission=Decimal("14.81"),
        fees=Decimal("1.37"),
        net_amount=net,
        trade_date=TRADE_DAY,
        settle_date=SETTLE_DAY,
        broker="Northbridge Securities LLC",
    )


def bond_fill(side: Side = Side.SELL) -> Fill:
    # 250,000 nominal at 101.125: gross 252,812.50, accrued 278.16, costs 28.10 (25.00 + 3.10).
    net = Decimal("253062.56") if side is Side.SELL else Decimal("253118.76")
    return Fill(
        fill_id="FIL-0000002",
        order_id="ORD-0000002",
        mandate_id="M-INCOME",
        instrument_id=BOND.instrument_id,
        side=side,
        quantity=Decimal(250000),
        price=Decimal("101.125"),
        currency="USD",
        gross_amount=Decimal("252812.50"),
        accrued_interest=Decimal("278.16"),
        commission=Decimal("25.00"),
        fees=Decimal("3.10"),
        net_amount=net,
        trade_date=TRADE_DAY,
        settle_date=dt.date(2020, 3, 13),
        broker="Kestrel Capital Markets Ltd",
    )


def custodian(rate: float = 0.0, seed: int = SEED) -> tuple[Custodian, FaultBook]:
    faults = FaultBook(rate)
    return Custodian(seed, faults, CALENDAR, MANDATES), faults


def on_demand_lag_draw(seed: int = SEED) -> float:
    """The first draw of the on-demand stream: an injected trade fault's lateness."""
    return py_stream(seed, "custodian.on_demand").random()


def on_demand_correction_day(
    kind: FaultKind, start: dt.date = TRADE_DAY, seed: int = SEED, fault_id: str = "FLT-000001"
) -> dt.date:
    """When the custodian corrects an injected fault: its delay is the first draw of the fault's own
    stream, "custodian.correction.<fault id>", through the kind's distribution, counted from `start`."""
    draw = py_stream(seed, f"custodian.correction.{fault_id}").random()
    return CALENDAR.add(start, CORRECTION_DELAYS[kind].days(draw))


# ---------------------------------------------------------------- clean bookings


def test_a_clean_fill_is_booked_as_filled_and_settles_on_its_settle_date() -> None:
    cus, _ = custodian()
    fill = equity_fill()
    outcome = cus.book_fill(fill, EQUITY, TRADE_DAY)
    assert outcome.fault is None
    assert (outcome.confirm_quantity, outcome.confirm_price) == (None, None)
    [booking] = outcome.bookings
    trade = booking.trade
    assert trade.custodian_ref == "CUS-0000001"
    assert (trade.fill_id, trade.mandate_id, trade.instrument_id) == (
        fill.fill_id,
        "M-GROWTH",
        EQUITY.instrument_id,
    )
    assert (trade.side, trade.quantity, trade.price, trade.currency) == (
        Side.BUY,
        fill.quantity,
        fill.price,
        "USD",
    )
    assert trade.net_amount == Decimal("148156.18")
    assert (trade.trade_date, trade.settle_date) == (TRADE_DAY, SETTLE_DAY)
    assert (booking.settle_on, booking.fail_on, booking.fault, booking.settled) == (
        SETTLE_DAY,
        None,
        None,
        False,
    )
    assert booking.fill is fill
    # Booked without the fill's event id (the engine passes it), and as a first booking.
    assert (booking.fill_event_id, trade.replaces_ref, booking.corrects, booking.counted) == (
        "",
        "",
        None,
        False,
    )
    # Refs count up across fills.
    assert cus.book_fill(equity_fill(fill_id="FIL-0000009"), EQUITY, TRADE_DAY).bookings[
        0
    ].trade.custodian_ref == ("CUS-0000002")


def test_settlement_waits_for_the_settle_date_then_moves_positions_and_cash() -> None:
    cus, _ = custodian()
    [booking] = cus.book_fill(equity_fill(), EQUITY, TRADE_DAY).bookings
    # The day before the settle date nothing settles: the statement shows no holding yet.
    assert cus.settlements_due(dt.date(2020, 3, 13)) == []
    assert cus.book("M-GROWTH", "USD").positions == {}
    assert cus.contract_settled_position("M-GROWTH", EQUITY.instrument_id) == 0
    assert cus.settlements_due(SETTLE_DAY) == [(booking, SettlementState.SETTLED)]
    assert booking.settled
    book = cus.book("M-GROWTH", "USD")
    assert book.positions == {EQUITY.instrument_id: Decimal(1200)}
    assert book.cash == {"USD": Decimal("-148156.18")}
    assert cus.contract_settled_position("M-GROWTH", EQUITY.instrument_id) == Decimal(1200)
    # Settled once only.
    assert cus.settlements_due(dt.date(2020, 3, 17)) == []
    assert cus.book("M-GROWTH", "USD").cash == {"USD": Decimal("-148156.18")}


def test_a_sell_settles_minus_quantity_and_plus_cash() -> None:
    cus, _ = custodian()
    [booking] = cus.book_fill(equity_fill(Side.SELL), EQUITY, TRADE_DAY).bookings
    assert Custodian.signed_amounts(booking) == (Decimal(-1200), Decimal("148123.82"))
    cus.settlements_due(SETTLE_DAY)
    assert cus.contract_settled_position("M-GROWTH", EQUITY.instrument_id) == Decimal(-1200)
    # A short position is shown: only zero positions are left off the statement.
    assert cus.book("M-GROWTH", "USD").positions == {EQUITY.instrument_id: Decimal(-1200)}
    assert cus.book("M-GROWTH", "USD").cash == {"USD": Decimal("148123.82")}


def test_a_buy_signs_quantity_plus_and_cash_minus() -> None:
    cus, _ = custodian()
    [booking] = cus.book_fill(equity_fill(Side.BUY), EQUITY, TRADE_DAY).bookings
    assert Custodian.signed_amounts(booking) == (Decimal(1200), Decimal("-148156.18"))


def test_the_booked_position_counts_from_the_trade_date_by_side() -> None:
    """Dividend entitlement uses what the custodian booked by trade date, settled or not."""
    cus, _ = custodian()
    assert cus.booked_position("M-GROWTH", EQUITY.instrument_id) == 0
    cus.book_fill(equity_fill(Side.BUY), EQUITY, TRADE_DAY)
    assert cus.booked_position("M-GROWTH", EQUITY.instrument_id) == Decimal(1200)
    cus.book_fill(equity_fill(Side.SELL, fill_id="FIL-0000003"), EQUITY, TRADE_DAY)
    cus.book_fill(equity_fill(Side.SELL, fill_id="FIL-0000004"), EQUITY, TRADE_DAY)
    assert cus.booked_position("M-GROWTH", EQUITY.instrument_id) == Decimal(-1200)
    assert cus.booked_position("M-INCOME", EQUITY.instrument_id) == 0


def test_settlements_come_in_booking_order_and_later_ones_stay_open() -> None:
    cus, _ = custodian()
    first = cus.book_fill(equity_fill(fill_id="FIL-1"), EQUITY, TRADE_DAY).bookings[0]
    bond = cus.book_fill(bond_fill(Side.BUY), BOND, TRADE_DAY).bookings[0]
    third = cus.book_fill(equity_fill(fill_id="FIL-3"), EQUITY, TRADE_DAY).bookings[0]
    # The bond settles T+1 (13 March), the equities T+2 (16 March).
    assert cus.settlements_due(dt.date(2020, 3, 13)) == [(bond, SettlementState.SETTLED)]
    assert cus.settlements_due(SETTLE_DAY) == [
        (first, SettlementState.SETTLED),
        (third, SettlementState.SETTLED),
    ]
    # A day missed (no call on the settle date itself) still settles what is overdue.
    cus2, _ = custodian()
    late = cus2.book_fill(equity_fill(), EQUITY, TRADE_DAY).bookings[0]
    assert cus2.settlements_due(dt.date(2020, 3, 17)) == [(late, SettlementState.SETTLED)]


# ---------------------------------------------------------------- on-demand trade faults


def _inject(faults: FaultBook, kind: FaultKind, **target: str) -> None:
    faults.request(FaultRequest(kind=kind, **target))


def test_a_dropped_fill_is_not_booked_and_the_fault_says_which_and_until_when() -> None:
    cus, faults = custodian()
    _inject(faults, K.CUSTODIAN_DROP_TRADE)
    outcome = cus.book_fill(equity_fill(), EQUITY, TRADE_DAY)
    assert outcome.bookings == []
    assert outcome.fault is not None and outcome.fault.kind is K.CUSTODIAN_DROP_TRADE
    [record] = faults.records()
    assert record.status is FaultStatus.APPLIED and record.applied_date == TRADE_DAY
    assert (record.mandate_id, record.instrument_id, record.fill_id) == (
        "M-GROWTH",
        EQUITY.instrument_id,
        "FIL-0000001",
    )
    due = on_demand_correction_day(K.CUSTODIAN_DROP_TRADE)
    assert (
        record.description == f"custodian did not book fill FIL-0000001; the custodian corrects it on {due}"
    )
    assert record.corrected_date is None and record.correction_event_ids == ()
    assert cus.booked_position("M-GROWTH", EQUITY.instrument_id) == 0
    assert cus.settlements_due(SETTLE_DAY) == []
    # The next fill is booked normally: the fault was used up.
    assert len(cus.book_fill(equity_fill(fill_id="FIL-2"), EQUITY, TRADE_DAY).bookings) == 1


def test_a_duplicate_is_booked_twice_under_two_refs_and_both_settle() -> None:
    cus, faults = custodian()
    _inject(faults, K.CUSTODIAN_DUPLICATE_TRADE)
    outcome = cus.book_fill(equity_fill(), EQUITY, TRADE_DAY)
    original, duplicate = outcome.bookings
    assert (original.trade.custodian_ref, duplicate.trade.custodian_ref) == ("CUS-0000001", "CUS-0000002")
    # Only the second booking carries the fault: its events are the duplicate's.
    assert original.fault is None and duplicate.fault is outcome.fault
    assert duplicate.trade.quantity == original.trade.quantity == Decimal(1200)
    assert duplicate.trade.net_amount == Decimal("148156.18")
    assert duplicate.settle_on == SETTLE_DAY
    [record] = faults.records()
    due = on_demand_correction_day(K.CUSTODIAN_DUPLICATE_TRADE)
    assert record.description == (
        f"custodian booked fill FIL-0000001 twice (CUS-0000002); the custodian corrects it on {due}"
    )
    assert cus.booked_position("M-GROWTH", EQUITY.instrument_id) == Decimal(2400)
    assert cus.settlements_due(SETTLE_DAY) == [
        (original, SettlementState.SETTLED),
        (duplicate, SettlementState.SETTLED),
    ]
    assert cus.book("M-GROWTH", "USD").positions == {EQUITY.instrument_id: Decimal(2400)}
    assert cus.book("M-GROWTH", "USD").cash == {"USD": Decimal("-296312.36")}  # 2 x 148,156.18


# The typos 1,200 can get: swaps 2100 and 1020 (0-0 is no swap), 12000, 120, 1201.
QUANTITY_TYPOS_OF_1200 = {Decimal(q) for q in ("2100", "1020", "12000", "120", "1201")}


@pytest.mark.parametrize("side", [Side.BUY, Side.SELL])
def test_a_quantity_typo_books_the_wrong_quantity_and_its_own_net_amount(side: Side) -> None:
    cus, faults = custodian()
    _inject(faults, K.CUSTODIAN_QUANTITY_TYPO)
    fill = equity_fill(side)
    outcome = cus.book_fill(fill, EQUITY, TRADE_DAY)
    [booking] = outcome.bookings
    wrong = booking.trade.quantity
    assert wrong in QUANTITY_TYPOS_OF_1200
    assert outcome.confirm_quantity == wrong
    assert outcome.confirm_price is None
    assert booking.trade.price == fill.price and booking.fault is outcome.fault
    # The custodian's net follows its own figure: gross = wrong x 123.45 (exact to the cent),
    # no accrued interest, and the fill's 16.18 of costs added for a buy, taken off for a sell.
    costs = Decimal("16.18")
    expected = wrong * Decimal("123.45") + (costs if side is Side.BUY else -costs)
    assert booking.trade.net_amount == expected
    [record] = faults.records()
    due = on_demand_correction_day(K.CUSTODIAN_QUANTITY_TYPO)
    assert record.description == (
        f"custodian booked quantity {wrong} instead of 1200 for fill FIL-0000001"
        f"; the custodian corrects it on {due}"
    )
    assert cus.booked_position("M-GROWTH", EQUITY.instrument_id) == (wrong if side is Side.BUY else -wrong)


def test_the_typo_comes_from_the_on_demand_stream_after_its_lag_draw() -> None:
    """An injected typo draws from the on-demand stream (one draw for the lag, then the typo), so
    injecting never shifts the seeded stream: quantity typos of 1,200 pick among five options."""
    for seed in range(1, 6):
        cus, faults = custodian(seed=seed)
        _inject(faults, K.CUSTODIAN_QUANTITY_TYPO)
        [booking] = cus.book_fill(equity_fill(), EQUITY, TRADE_DAY).bookings
        stream = py_stream(seed, "custodian.on_demand")
        stream.random()
        options = ["2100", "1020", "12000", "120", "1201"]
        assert booking.trade.quantity == Decimal(options[stream.randrange(5)])


def test_a_quantity_typo_on_a_bond_rescales_accrued_interest_and_prices_per_100() -> None:
    cus, faults = custodian()
    _inject(faults, K.CUSTODIAN_QUANTITY_TYPO)
    [booking] = cus.book_fill(bond_fill(Side.SELL), BOND, TRADE_DAY).bookings
    wrong = booking.trade.quantity
    # Typos of 250000: 520000, 205000 (the zeros do not swap), 2500000, 25000, 250001.
    accrued = {
        Decimal(520000): Decimal("578.57"),  # 278.16 x 520,000 / 250,000 = 578.5728
        Decimal(205000): Decimal("228.09"),  # 278.16 x 0.82 = 228.0912
        Decimal(2500000): Decimal("2781.60"),
        Decimal(25000): Decimal("27.82"),  # 27.816
        Decimal(250001): Decimal("278.16"),  # 278.1611...
    }[wrong]
    gross = (wrong * Decimal("101.125") / 100).quantize(Decimal("0.01"))
    # A sell: gross + accrued - 28.10 of costs. E.g. 25,000: 25,281.25 + 27.82 - 28.10 = 25,280.97.
    assert booking.trade.net_amount == gross + accrued - Decimal("28.10")


def test_a_bond_quantity_typo_worked_example() -> None:
    """Every typo of a 250,000 nominal sell worked by hand: net = nominal x price / 100, plus the
    accrued interest rescaled to the typed nominal, minus the fill's costs. Seeds 1-11 between
    them pick all five typos."""
    hand = {
        Decimal(520000): Decimal("526400.47"),  # 525,850.00 + 578.57 - 28.10
        Decimal(205000): Decimal("207506.24"),  # 207,306.25 + 228.09 - 28.10
        Decimal(2500000): Decimal("2530878.50"),  # 2,528,125.00 + 2,781.60 - 28.10
        Decimal(25000): Decimal("25280.97"),  # 25,281.25 + 27.82 - 28.10
        Decimal(250001): Decimal("253063.57"),  # 252,813.51 (252,813.51125) + 278.16 - 28.10
    }
    seen = set()
    for seed in range(1, 12):
        cus, faults = custodian(seed=seed)
        _inject(faults, K.CUSTODIAN_QUANTITY_TYPO)
        [booking] = cus.book_fill(bond_fill(Side.SELL), BOND, TRADE_DAY).bookings
        assert booking.trade.net_amount == hand[booking.trade.quantity]
        seen.add(booking.trade.quantity)
    assert seen == set(hand)


def test_a_price_typo_books_the_wrong_price_and_its_own_net_amount() -> None:
    cus, faults = custodian()
    _inject(faults, K.CUSTODIAN_PRICE_TYPO)
    fill = equity_fill(Side.BUY)
    outcome = cus.book_fill(fill, EQUITY, TRADE_DAY)
    [booking] = outcome.bookings
    wrong = booking.trade.price
    # Same-length typos of 123.45 (digits 12345): 213.45, 132.45, 124.35, 123.54, 123.46.
    assert wrong in {Decimal(p) for p in ("213.45", "132.45", "124.35", "123.54", "123.46")}
    assert outcome.confirm_price == wrong and outcome.confirm_quantity is None
    assert booking.trade.quantity == Decimal(1200)
    assert booking.trade.net_amount == Decimal(1200) * wrong + Decimal("16.18")
    [record] = faults.records()
    due = on_demand_correction_day(K.CUSTODIAN_PRICE_TYPO)
    assert record.description == (
        f"custodian booked price {wrong} instead of 123.45 for fill FIL-0000001; the custodian corrects it on {due}"
    )


def test_a_price_typo_on_a_bond_divides_by_100() -> None:
    cus, faults = custodian()
    _inject(faults, K.CUSTODIAN_PRICE_TYPO)
    [booking] = cus.book_fill(bond_fill(Side.BUY), BOND, TRADE_DAY).bookings
    wrong = booking.trade.price
    assert wrong != Decimal("101.125") and wrong.as_tuple().exponent == -3
    # Nominal unchanged, so accrued interest is the fill's 278.16; a buy adds the 28.10 of costs.
    gross = (Decimal(250000) * wrong / 100).quantize(Decimal("0.01"))
    assert booking.trade.net_amount == gross + Decimal("278.16") + Decimal("28.10")


def test_a_settlement_delay_settles_late_by_its_drawn_lag() -> None:
    cus, faults = custodian()
    _inject(faults, K.SETTLEMENT_DELAY)
    outcome = cus.book_fill(equity_fill(), EQUITY, TRADE_DAY)
    [booking] = outcome.bookings
    lag = CORRECTION_DELAYS[K.SETTLEMENT_DELAY].days(on_demand_lag_draw())
    late = CALENDAR.add(SETTLE_DAY, lag)
    assert booking.settle_on == late
    # The broker confirms the contractual date: the late settlement is the custodian's event.
    assert (outcome.confirm_quantity, outcome.confirm_price) == (None, None)
    assert booking.fail_on is None
    # The trade keeps its contractual settle date; only when it settles moves.
    assert booking.trade.settle_date == SETTLE_DAY
    [record] = faults.records()
    assert record.description == (
        f"fill FIL-0000001 settles {late} at the custodian, {lag} business day(s) late"
    )
    # The contractual date counts for coupons even though nothing settles then.
    assert cus.settlements_due(SETTLE_DAY) == []
    assert cus.contract_settled_position("M-GROWTH", EQUITY.instrument_id) == Decimal(1200)
    assert cus.book("M-GROWTH", "USD").positions == {}
    # Settling late ends the fault: the custodian has corrected it that day.
    assert faults.records()[0].corrected_date is None
    assert cus.settlements_due(late) == [(booking, SettlementState.SETTLED)]
    assert faults.records()[0].corrected_date == late and booking.corrects is booking.fault


def test_delay_and_fail_lags_are_their_draw_through_the_distribution_of_the_fills_class() -> None:
    """The lag is the on-demand draw through the kind's delay distribution: a delay 1-5 days, an
    equity fail 1-20, a government bond fail 1-23 (its own, shorter-tailed distribution)."""
    government_fail = Delay(((0.70, 1, 1), (0.25, 2, 3), (0.04, 4, 7), (0.01, 8, 23)))
    cases = (
        (K.SETTLEMENT_DELAY, equity_fill, EQUITY, CORRECTION_DELAYS[K.SETTLEMENT_DELAY]),
        (K.SETTLEMENT_FAIL, equity_fill, EQUITY, CORRECTION_DELAYS[K.SETTLEMENT_FAIL]),
        (K.SETTLEMENT_FAIL, bond_fill, BOND, government_fail),
    )
    for kind, make_fill, instrument, delay in cases:
        seen = set()
        for seed in range(800):  # enough for the 1 % bucket of a government bond fail
            cus, faults = custodian(seed=seed)
            _inject(faults, kind)
            fill = make_fill()
            [booking] = cus.book_fill(fill, instrument, TRADE_DAY).bookings
            lag = CALENDAR.count_between(fill.settle_date, booking.settle_on)
            assert lag == delay.days(on_demand_lag_draw(seed))
            seen.add(next(i for i, (_, low, high) in enumerate(delay.buckets) if low <= lag <= high))
        assert seen == set(range(len(delay.buckets))), (kind, instrument.asset_class)


def test_a_settlement_fail_reports_failed_on_the_settle_date_then_settles_late() -> None:
    cus, faults = custodian()
    _inject(faults, K.SETTLEMENT_FAIL)
    outcome = cus.book_fill(equity_fill(), EQUITY, TRADE_DAY)
    [booking] = outcome.bookings
    late = CALENDAR.add(SETTLE_DAY, CORRECTION_DELAYS[K.SETTLEMENT_FAIL].days(on_demand_lag_draw()))
    assert booking.fail_on == SETTLE_DAY and booking.settle_on == late
    # The broker's confirmation shows the contractual date: a fail is not a late confirmation.
    assert (outcome.confirm_quantity, outcome.confirm_price) == (None, None)
    [record] = faults.records()
    assert record.description == f"fill FIL-0000001 fails to settle on {SETTLE_DAY}, settles {late}"
    assert cus.settlements_due(SETTLE_DAY) == [(booking, SettlementState.FAILED)]
    assert not booking.settled and cus.book("M-GROWTH", "USD").positions == {}
    assert cus.settlements_due(late) == [(booking, SettlementState.SETTLED)]
    assert cus.book("M-GROWTH", "USD").positions == {EQUITY.instrument_id: Decimal(1200)}


def test_an_injected_fault_waits_for_a_fill_of_its_target() -> None:
    cus, faults = custodian()
    _inject(faults, K.CUSTODIAN_DROP_TRADE, mandate_id="M-INCOME")
    assert len(cus.book_fill(equity_fill(mandate_id="M-GROWTH"), EQUITY, TRADE_DAY).bookings) == 1
    assert (
        cus.book_fill(equity_fill(mandate_id="M-INCOME", fill_id="FIL-2"), EQUITY, TRADE_DAY).bookings == []
    )


# ---------------------------------------------------------------- seeded trade faults


def _seeded_draws(seed: int) -> tuple[float, float, float]:
    stream = py_stream(seed, "custodian")
    return stream.random(), stream.random(), stream.random()


def _cumulative(kind: FaultKind) -> tuple[float, float]:
    """[low, high) of an equity fill's first draw, per unit of fault rate, that seeds this kind
    (TRADE_KINDS order; a fail has the equity rate of 3 %)."""
    low = 0.0
    for k in TRADE_KINDS:
        rate = 0.03 if k is K.SETTLEMENT_FAIL else SEEDED_RATES[k]
        if k is kind:
            return low, low + rate
        low += rate
    raise AssertionError(kind)


@pytest.mark.parametrize("kind", TRADE_KINDS)
def test_the_first_seeded_draw_picks_the_fault_by_cumulative_probability(kind: FaultKind) -> None:
    """The first of the fill's three draws is compared with the running sum of the kinds'
    probabilities in TRADE_KINDS order; a rate that puts the draw mid-band gives that kind."""
    draw, _, _ = _seeded_draws(SEED)
    low, high = _cumulative(kind)
    rate = draw / ((low + high) / 2)  # draw = rate x the middle of the band
    cus, faults = custodian(rate=rate)
    outcome = cus.book_fill(equity_fill(), EQUITY, TRADE_DAY)
    assert outcome.fault is not None and outcome.fault.kind is kind and not outcome.fault.on_demand
    [record] = faults.records()
    assert record.status is FaultStatus.APPLIED and record.fill_id == "FIL-0000001"


def test_a_draw_just_past_the_last_band_is_no_fault() -> None:
    draw, _, _ = _seeded_draws(SEED)
    total = _cumulative(TRADE_KINDS[-1])[1]
    cus, faults = custodian(rate=draw / total * 0.999)  # every band together ends just below the draw
    outcome = cus.book_fill(equity_fill(), EQUITY, TRADE_DAY)
    assert outcome.fault is None and len(outcome.bookings) == 1
    assert faults.records() == ()


def test_a_seeded_delay_uses_the_third_draw_for_its_lag_and_the_second_for_the_detail() -> None:
    draw, _, days = _seeded_draws(SEED)
    low, high = _cumulative(K.SETTLEMENT_DELAY)
    cus, _ = custodian(rate=draw / ((low + high) / 2))
    [booking] = cus.book_fill(equity_fill(), EQUITY, TRADE_DAY).bookings
    assert booking.settle_on == CALENDAR.add(SETTLE_DAY, CORRECTION_DELAYS[K.SETTLEMENT_DELAY].days(days))

    # The typo itself comes from a stream seeded with the second draw x 2**53 (seeds 1-8 pick
    # different typos, so a fixed or mis-scaled seed would show).
    options = ["2100", "1020", "12000", "120", "1201"]
    low, high = _cumulative(K.CUSTODIAN_QUANTITY_TYPO)
    picked = set()
    for seed in range(1, 9):
        draw, detail, _ = _seeded_draws(seed)
        cus, _ = custodian(rate=draw / ((low + high) / 2), seed=seed)
        [booking] = cus.book_fill(equity_fill(), EQUITY, TRADE_DAY).bookings
        assert booking.trade.quantity == Decimal(options[random.Random(int(detail * 2**53)).randrange(5)])
        picked.add(booking.trade.quantity)
    assert len(picked) > 1


def test_every_fill_takes_three_seeded_draws_even_when_a_fault_was_injected() -> None:
    """Seeded outcomes must not depend on injections: the second fill sees the same draws."""
    rate = 30.0
    plain, _ = custodian(rate=rate, seed=2)
    injected, faults = custodian(rate=rate, seed=2)
    _inject(faults, K.CUSTODIAN_DROP_TRADE)
    injected.book_fill(equity_fill(), EQUITY, TRADE_DAY)
    plain.book_fill(equity_fill(), EQUITY, TRADE_DAY)
    outcomes = []
    for cus in (plain, injected):
        fills = [equity_fill(fill_id=f"FIL-{i}") for i in range(2, 12)]
        outcomes.append(
            [
                (o.fault.kind if o.fault else None, [b.settle_on for b in o.bookings])
                for o in (cus.book_fill(f, EQUITY, TRADE_DAY) for f in fills)
            ]
        )
    assert outcomes[0] == outcomes[1]
    assert any(kind is not None for kind, _ in outcomes[0])  # the rate really seeds faults here


# ---------------------------------------------------------------- cash flows


def test_a_subscription_is_booked_on_its_date_and_never_faulted() -> None:
    cus, faults = custodian(rate=1000.0)  # every dividend would be mis-dated; a subscription cannot be
    _inject(faults, K.CORPORATE_ACTION_DATE_MISMATCH)
    day = dt.date(2020, 3, 10)
    cus.schedule_cash_flow(
        day, "CF-1", "M-GROWTH", CashFlowKind.SUBSCRIPTION, Decimal("1000000.00"), "USD", "", ("mkt-1",)
    )
    assert cus.cash_flows_due(dt.date(2020, 3, 9)) == []
    [scheduled] = cus.cash_flows_due(day)
    flow = scheduled.flow
    assert flow.custodian_ref == "CUS-CF-0000001"
    assert (flow.cash_flow_id, flow.mandate_id, flow.kind) == ("CF-1", "M-GROWTH", CashFlowKind.SUBSCRIPTION)
    assert (flow.amount, flow.currency, flow.instrument_id, flow.value_date) == (
        Decimal("1000000.00"),
        "USD",
        "",
        day,
    )
    assert (scheduled.book_on, scheduled.caused_by, scheduled.fault) == (day, ("mkt-1",), None)
    assert cus.book("M-GROWTH", "USD").cash == {"USD": Decimal("1000000.00")}
    # The injected mismatch still waits for a dividend or coupon.
    assert [f.status for f in faults.records()] == [FaultStatus.PENDING]


def _pay(cus: Custodian, kind: CashFlowKind = CashFlowKind.DIVIDEND, cash_flow_id: str = "CF-7") -> None:
    cus.schedule_cash_flow(
        dt.date(2020, 3, 20),
        cash_flow_id,
        "M-GROWTH",
        kind,
        Decimal("240.00"),
        "USD",
        EQUITY.instrument_id,
        ("e",),
    )


def _mismatch_draws(seed: int = SEED) -> tuple[int, bool]:
    """(lag, later) of an injected date mismatch: the on-demand stream's first two draws."""
    stream = py_stream(seed, "custodian.on_demand")
    lag_draw, early_draw = stream.random(), stream.random()
    return 1 + int(lag_draw * 2), early_draw < 0.5


@pytest.mark.parametrize("kind", [CashFlowKind.DIVIDEND, CashFlowKind.COUPON])
def test_a_date_mismatch_moves_the_value_date_one_or_two_business_days(kind: CashFlowKind) -> None:
    pay = dt.date(2020, 3, 20)  # Friday; the 18th is a holiday
    seen = set()
    for seed in range(12):
        cus, faults = custodian(seed=seed)
        _inject(faults, K.CORPORATE_ACTION_DATE_MISMATCH)
        _pay(cus, kind)
        lag, later = _mismatch_draws(seed)
        seen.add((lag, later))
        value_date = CALENDAR.add(pay, lag if later else -lag)
        [record] = faults.records()
        assert record.status is FaultStatus.APPLIED and record.applied_date == pay
        assert (record.mandate_id, record.instrument_id) == ("M-GROWTH", EQUITY.instrument_id)
        assert record.description.startswith(
            f"custodian booked {kind.lower()} CF-7 with value date {value_date} instead of {pay}; "
        )
        if later:  # booked when it is value-dated
            assert cus.cash_flows_due(CALENDAR.add(value_date, -1)) == []
            [scheduled] = cus.cash_flows_due(value_date)
        else:  # back-valued, booked on the pay date
            assert cus.cash_flows_due(dt.date(2020, 3, 19)) == []
            [scheduled] = cus.cash_flows_due(pay)
        assert scheduled.flow.value_date == value_date and scheduled.fault is not None
    assert seen == {(1, True), (2, True), (1, False), (2, False)}


def test_a_back_valued_dividend_over_a_holiday_counts_business_days() -> None:
    # Paid Friday 20 March with the 18th a holiday: one business day earlier is the 19th, two
    # the 17th; one later is Monday 23rd, two Tuesday 24th.
    assert CALENDAR.add(dt.date(2020, 3, 20), -2) == dt.date(2020, 3, 17)
    for seed in range(12):
        cus, faults = custodian(seed=seed)
        _inject(faults, K.CORPORATE_ACTION_DATE_MISMATCH)
        _pay(cus)
        lag, later = _mismatch_draws(seed)
        expected = {
            (1, True): dt.date(2020, 3, 23),
            (2, True): dt.date(2020, 3, 24),
            (1, False): dt.date(2020, 3, 19),
            (2, False): dt.date(2020, 3, 17),
        }[lag, later]
        assert cus.cash_flows_due(dt.date(2020, 3, 31))[0].flow.value_date == expected


def test_a_seeded_date_mismatch_fires_below_its_probability_only() -> None:
    draw = py_stream(SEED, "custodian.cashflows").random()
    base = SEEDED_RATES[K.CORPORATE_ACTION_DATE_MISMATCH]
    above, _ = custodian(rate=draw / base * 1.01)  # probability just above the draw: a fault
    _pay(above)
    [scheduled] = above.cash_flows_due(dt.date(2020, 3, 31))
    assert scheduled.fault is not None and not scheduled.fault.on_demand
    assert scheduled.flow.value_date != dt.date(2020, 3, 20)
    below, faults = custodian(rate=draw / base * 0.99)  # just below: none
    _pay(below)
    [scheduled] = below.cash_flows_due(dt.date(2020, 3, 31))
    assert scheduled.fault is None and scheduled.flow.value_date == dt.date(2020, 3, 20)
    assert faults.records() == ()


def test_a_seeded_mismatch_uses_the_seeded_lag_and_direction_draws() -> None:
    stream = py_stream(SEED, "custodian.cashflows")
    _, lag_draw, early_draw = stream.random(), stream.random(), stream.random()
    lag = 1 + int(lag_draw * 2)
    cus, _ = custodian(rate=1000.0)
    _pay(cus)
    [scheduled] = cus.cash_flows_due(dt.date(2020, 3, 31))
    pay = dt.date(2020, 3, 20)
    assert scheduled.flow.value_date == CALENDAR.add(pay, lag if early_draw < 0.5 else -lag)


def test_every_dividend_takes_three_seeded_draws_even_when_injected() -> None:
    """The cash-flow stream advances by three draws per dividend or coupon, injected or not."""
    plain, _ = custodian(rate=15.0, seed=3)
    injected, faults = custodian(rate=15.0, seed=3)
    _inject(faults, K.CORPORATE_ACTION_DATE_MISMATCH)
    for cus in (plain, injected):
        for i in range(12):
            _pay(cus, cash_flow_id=f"CF-{i}")
    dates = [
        [c.flow.value_date for c in cus.cash_flows_due(dt.date(2020, 4, 30))[1:]] for cus in (plain, injected)
    ]
    assert dates[0] == dates[1]
    assert len(set(dates[0])) > 1  # some are mis-dated at this rate, some not


def test_cash_flows_are_booked_in_scheduling_order_and_later_ones_wait() -> None:
    cus, _ = custodian()
    cus.schedule_cash_flow(
        dt.date(2020, 3, 11), "CF-A", "M-GROWTH", CashFlowKind.REDEMPTION, Decimal("-50.00"), "USD", "", ()
    )
    cus.schedule_cash_flow(
        dt.date(2020, 3, 10), "CF-B", "M-INCOME", CashFlowKind.SUBSCRIPTION, Decimal("70.00"), "EUR", "", ()
    )
    cus.schedule_cash_flow(
        dt.date(2020, 3, 12), "CF-C", "M-GROWTH", CashFlowKind.SUBSCRIPTION, Decimal("9.00"), "USD", "", ()
    )
    assert [c.flow.cash_flow_id for c in cus.cash_flows_due(dt.date(2020, 3, 11))] == ["CF-A", "CF-B"]
    assert [c.flow.custodian_ref for c in cus.cash_flows_due(dt.date(2020, 3, 12))] == ["CUS-CF-0000003"]
    assert cus.cash_flows_due(dt.date(2020, 3, 13)) == []
    assert cus.book("M-GROWTH", "USD").cash == {"USD": Decimal("-41.00")}
    # The base currency is always shown, and other currencies sorted after their code.
    assert cus.book("M-INCOME", "USD").cash == {"EUR": Decimal("70.00"), "USD": Decimal(0)}


def test_the_statement_sorts_positions_and_leaves_out_zero_holdings() -> None:
    cus, _ = custodian()
    cus.book_fill(bond_fill(Side.BUY), BOND, TRADE_DAY)
    cus.book_fill(equity_fill(Side.BUY, mandate_id="M-INCOME", fill_id="FIL-5"), EQUITY, TRADE_DAY)
    cus.settlements_due(SETTLE_DAY)
    book = cus.book("M-INCOME", "USD")
    assert book.mandate_id == "M-INCOME"
    assert list(book.positions) == sorted([BOND.instrument_id, EQUITY.instrument_id])
    cus.book_fill(equity_fill(Side.SELL, mandate_id="M-INCOME", fill_id="FIL-6"), EQUITY, TRADE_DAY)
    cus.settlements_due(SETTLE_DAY)
    assert cus.book("M-INCOME", "USD").positions == {BOND.instrument_id: Decimal(250000)}


def test_a_draw_exactly_at_a_bands_upper_edge_belongs_to_the_next_kind() -> None:
    """Bands are half-open, [low, high): with seed 0 a rate of draw / 0.003 makes the drop band
    end exactly at the first draw, so the fill falls in the next band, a duplicate."""
    draw, _, _ = _seeded_draws(0)
    rate = draw / SEEDED_RATES[K.CUSTODIAN_DROP_TRADE]
    assert FaultBook(rate).probability(K.CUSTODIAN_DROP_TRADE) == draw  # exactly at the edge
    cus, _ = custodian(rate=rate, seed=0)
    outcome = cus.book_fill(equity_fill(), EQUITY, TRADE_DAY)
    assert outcome.fault is not None and outcome.fault.kind is K.CUSTODIAN_DUPLICATE_TRADE
    cus, _ = custodian(rate=rate * (1 + 1e-9), seed=0)  # the edge just above the draw: a drop
    outcome = cus.book_fill(equity_fill(), EQUITY, TRADE_DAY)
    assert outcome.fault is not None and outcome.fault.kind is K.CUSTODIAN_DROP_TRADE


def test_a_cash_flow_draw_exactly_at_the_mismatch_probability_is_no_fault() -> None:
    draw = py_stream(0, "custodian.cashflows").random()
    rate = draw / SEEDED_RATES[K.CORPORATE_ACTION_DATE_MISMATCH]
    assert FaultBook(rate).probability(K.CORPORATE_ACTION_DATE_MISMATCH) == draw
    at, _ = custodian(rate=rate, seed=0)
    _pay(at)
    assert at.cash_flows_due(dt.date(2020, 3, 31))[0].fault is None
    above, _ = custodian(rate=rate * (1 + 1e-9), seed=0)
    _pay(above)
    assert above.cash_flows_due(dt.date(2020, 3, 31))[0].fault is not None


def test_an_injected_mismatch_waits_for_its_instrument() -> None:
    cus, faults = custodian()
    _inject(faults, K.CORPORATE_ACTION_DATE_MISMATCH, instrument_id=BOND.instrument_id)
    _pay(cus)  # a dividend of the equity: not the requested target
    assert [f.status for f in faults.records()] == [FaultStatus.PENDING]
    cus.schedule_cash_flow(
        dt.date(2020, 3, 20),
        "CF-8",
        "M-INCOME",
        CashFlowKind.COUPON,
        Decimal("1875.00"),
        "USD",
        BOND.instrument_id,
        (),
    )
    [record] = faults.records()
    assert record.status is FaultStatus.APPLIED and record.instrument_id == BOND.instrument_id
    assert record.mandate_id == "M-INCOME"
