"""The desk on a tiny world: which names it trades, how much, within what cash, and how orders fill.

A two-stock euro mandate (one stock per sector, sector targets 50/50, cash band 1-5 %, so each
name's target is 0.5 x (1 - 0.03) = 48.5 % of NAV) keeps the arithmetic small enough to do by
hand. Quantities and budgets are checked exactly; the random parts of an order (broker, split,
slippage) are checked against their documented ranges.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal
from types import MappingProxyType

import pytest

from services.common.calendar import BusinessCalendar
from services.common.fx_rates import FxRates
from services.market.sim.books import InternalBook, cash_floor
from services.market.sim.desk import (
    ALL_BROKERS,
    BROKERS,
    Desk,
    make_fill,
    unit_value,
)
from services.market.sim.records import (
    AssetClass,
    CashFlow,
    CashFlowKind,
    Fill,
    Instrument,
    Mandate,
    PriceQuote,
    SectorTarget,
    Side,
)
from services.market.sim.rng import py_stream
from services.market.sim.universe import Universe

DAY = dt.date(2020, 3, 9)  # Monday
CALENDAR = BusinessCalendar(
    [
        dt.date(2020, 3, 2) + dt.timedelta(days=i)
        for i in range(40)
        if (dt.date(2020, 3, 2) + dt.timedelta(days=i)).weekday() < 5
    ]
)
T2 = dt.date(2020, 3, 11)


def _equity(instrument_id: str, sector: str, market: str = "EU", currency: str = "EUR") -> Instrument:
    return Instrument(
        instrument_id=instrument_id,
        symbol=instrument_id,
        name=instrument_id,
        asset_class=AssetClass.EQUITY,
        currency=currency,
        sector=sector,
        market=market,
        tick_size=Decimal(1) if market == "JP" else Decimal("0.01"),
        settlement_days=2,
    )


A = _equity("EU-A", "S1")
B = _equity("EU-B", "S2")
C = _equity("US-C", "S1", market="US", currency="USD")  # not eligible for a euro mandate: never a target
BOND = Instrument(
    instrument_id="UST-2030",
    symbol="T 2 30",
    name="Treasury 2% 2030",
    asset_class=AssetClass.GOVERNMENT_BOND,
    currency="USD",
    sector="Government",
    market="US",
    tick_size=Decimal("0.001"),
    settlement_days=1,
    coupon_rate_pct=Decimal(2),
    maturity=dt.date(2030, 2, 15),
    coupons_per_year=2,
    issuer="US Treasury",
    day_count="ACT/ACT",
)
UNIVERSE = Universe(instruments=(A, B, C), equity_specs=MappingProxyType({}))


def mandate(
    min_cash: float = 0.01, max_cash: float = 0.05, max_name: float = 0.6, mandate_id: str = "EQ-TEST"
) -> Mandate:
    return Mandate(
        mandate_id=mandate_id,
        name="Test",
        base_currency="EUR",
        benchmark="",
        benchmark_weights=MappingProxyType({}),
        sector_targets=(SectorTarget("S1", 0.5, 0.45, 0.55), SectorTarget("S2", 0.5, 0.45, 0.55)),
        max_single_name_weight=max_name,
        min_cash_weight=min_cash,
        max_cash_weight=max_cash,
        initial_capital=Decimal(1_000_000),
        lot_method="FIFO",
        allowed_asset_classes=(AssetClass.EQUITY,),
    )


def quote(instrument: Instrument, price: str, accrued: str | None = None) -> PriceQuote:
    return PriceQuote(
        instrument_id=instrument.instrument_id,
        price=Decimal(price),
        currency=instrument.currency,
        vendor="primary",
        price_date=DAY,
        accrued_interest=None if accrued is None else Decimal(accrued),
    )


QUOTES = {"EU-A": quote(A, "100.00"), "EU-B": quote(B, "50.00"), "US-C": quote(C, "20.00")}
# What a dollar holding of the euro mandate is valued at: 1.25 USD per EUR.
EURUSD = FxRates({"EURUSD": Decimal("1.25")})


def book_with(cash: str, mandate_id: str = "EQ-TEST") -> InternalBook:
    book = InternalBook([mandate_id], {mandate_id: "EUR"})
    if Decimal(cash):
        book.apply_cash_flow(
            CashFlow(
                cash_flow_id="CF-0",
                mandate_id=mandate_id,
                kind=CashFlowKind.SUBSCRIPTION,
                amount=Decimal(cash),
                currency="EUR",
            )
        )
    return book


def hold(
    book: InternalBook, instrument: Instrument, quantity: int, price: str, on: dt.date = dt.date(2020, 3, 2)
) -> None:
    """Put a settled holding in the book (bought for nothing: the cash is set separately)."""
    book.apply_fill(
        make_fill(
            "FIL-X",
            "ORD-X",
            "EQ-TEST",
            instrument,
            Side.BUY,
            Decimal(quantity),
            Decimal(price),
            Decimal(0),
            on,
            on,
            "x",
        )
    )
    book.settle(on)


def totals(fills: Sequence[Fill]) -> dict[tuple[str, Side], Decimal]:
    out: dict[tuple[str, Side], Decimal] = defaultdict(Decimal)
    for fill in fills:
        out[fill.instrument_id, fill.side] += fill.quantity
    return dict(out)


# ---------------------------------------------------------------- valuation


def test_unit_value_of_a_bond_is_dirty_price_per_unit_of_face() -> None:
    # (101.5 + 0.75) / 100 = 1.0225 per unit of face.
    assert unit_value(BOND, quote(BOND, "101.5", "0.75")) == pytest.approx(1.0225)
    # No accrued on the quote: clean only.
    assert unit_value(BOND, quote(BOND, "101.5")) == pytest.approx(1.015)
    assert unit_value(A, quote(A, "100.00")) == 100.0


def test_cash_floor_is_the_lowest_running_balance_after_the_day() -> None:
    flows = [
        (dt.date(2020, 3, 13), Decimal(-700)),
        (dt.date(2020, 3, 9), Decimal(-50)),  # on the day: already in the opening balance
        (dt.date(2020, 3, 6), Decimal(20)),  # before the day: likewise
        (dt.date(2020, 3, 16), Decimal(900)),
        (dt.date(2020, 3, 13), Decimal(100)),  # same date as the -700: netted first (-600)
        (dt.date(2020, 3, 11), Decimal(-300)),
    ]
    # Opening 1,000 - 50 + 20 = 970; 11th: 670; 13th: 70; 16th: 970.
    assert cash_floor(Decimal(1000), flows, DAY) == (Decimal(70), Decimal(970))
    # Counting from the 13th, everything up to it is in the opening balance: 70, then 970.
    assert cash_floor(Decimal(1000), flows, dt.date(2020, 3, 13)) == (Decimal(70), Decimal(970))
    # No flows: the balance is both.
    assert cash_floor(Decimal(5), [], DAY) == (Decimal(5), Decimal(5))
    # A floor never above the opening balance: only inflows later.
    assert cash_floor(Decimal(5), [(dt.date(2020, 3, 10), Decimal(1))], DAY) == (Decimal(5), Decimal(6))


def test_valuation_adds_trade_date_holdings_at_market_and_projected_cash() -> None:
    """Settled: 100 A bought at 90 for 9,000 + 5.00 minimum commission, leaving 20,995.00 of
    30,000. Pending: 200 B at 50, 10,005.00 due on the 11th (counted as held at once). Notified:
    a 5,000 redemption on the 16th. Cash runs 20,995 -> 10,990 -> 5,990: projected cash and the
    floor are both 5,990; NAV = 100 x 100 + 200 x 50 + 5,990 = 25,990."""
    book = book_with("30000")
    hold(book, A, 100, "90")
    book.apply_fill(
        make_fill("F2", "O2", "EQ-TEST", B, Side.BUY, Decimal(200), Decimal(50), Decimal(0), DAY, T2, "x")
    )
    upcoming = [(dt.date(2020, 3, 16), Decimal(-5000))]
    valuation = Desk(1, UNIVERSE, CALENDAR).value(DAY, mandate(), book, QUOTES, upcoming)
    assert book.cash("EQ-TEST", "EUR") == Decimal("20995.00")
    assert valuation.values == {"EU-A": 10_000.0, "EU-B": 10_000.0}
    assert valuation.projected_cash == 5990.0
    assert valuation.cash_floor == 5990.0
    assert valuation.nav == 25_990.0
    # A subscription due before the redemption raises the final balance but not the floor below it.
    upcoming = [(dt.date(2020, 3, 12), Decimal(-8000)), (dt.date(2020, 3, 13), Decimal(9000))]
    valuation = Desk(1, UNIVERSE, CALENDAR).value(DAY, mandate(), book, QUOTES, upcoming)
    # 20,995 -> 11th 10,990 -> 12th 2,990 -> 13th 11,990.
    assert (valuation.cash_floor, valuation.projected_cash) == (2990.0, 11990.0)


def test_valuation_skips_names_without_a_quote() -> None:
    book = book_with("1000")
    hold(book, C, 10, "20")
    valuation = Desk(1, UNIVERSE, CALENDAR).value(DAY, mandate(), book, {"EU-A": QUOTES["EU-A"]}, [])
    assert valuation.values == {}
    assert valuation.nav == float(book.cash("EQ-TEST", "EUR"))


# ---------------------------------------------------------------- rebalancing


def test_all_cash_is_invested_to_target_in_whole_lots() -> None:
    """1,000,000 of cash: projected cash 100 % is above the band, so a full rebalance buys
    48.5 % of NAV of each name: 485,000 / 100 = 4,850 A and 485,000 / 50 = 9,700 B. The budget,
    1,000,000 - max(1 %, 3 % / 2) x 1,000,000 = 985,000, covers 979,700 of cost with 1 % headroom."""
    desk = Desk(1, UNIVERSE, CALENDAR)
    fills = desk.rebalance(DAY, mandate(), book_with("1000000"), QUOTES, [])
    assert totals(fills) == {("EU-A", Side.BUY): Decimal(4850), ("EU-B", Side.BUY): Decimal(9700)}
    # Universe order within the buys: A's fills, then B's.
    assert [f.instrument_id for f in fills] == sorted(f.instrument_id for f in fills)
    for fill in fills:
        assert fill.trade_date == DAY and fill.settle_date == T2 and fill.mandate_id == "EQ-TEST"
        assert fill.broker in BROKERS["EU"]


def test_buys_are_scaled_down_to_the_lowest_future_cash() -> None:
    """A redemption of 300,000 on the 12th, refilled on the 17th: NAV is still 1,000,000 but cash
    dips to 700,000 after the buys would settle (11th). Budget 700,000 - 15,000 = 685,000 of
    979,700 of cost: every buy is scaled by 685,000 / 979,700 = 0.69919..., in whole lots:
    4,850 x 0.69919 = 3,391.09 -> 3,391 and 9,700 x 0.69919 = 6,782.18 -> 6,782."""
    upcoming = [(dt.date(2020, 3, 12), Decimal(-300000)), (dt.date(2020, 3, 17), Decimal(300000))]
    fills = Desk(1, UNIVERSE, CALENDAR).rebalance(DAY, mandate(), book_with("1000000"), QUOTES, upcoming)
    assert totals(fills) == {("EU-A", Side.BUY): Decimal(3391), ("EU-B", Side.BUY): Decimal(6782)}


def test_a_dip_before_the_buys_settle_does_not_limit_them() -> None:
    """Cash needed from the settle date (the 11th) on: an outflow on the 10th repaid on the 11th
    is in the opening balance of that day and leaves 1,000,000."""
    upcoming = [(dt.date(2020, 3, 10), Decimal(-900000)), (dt.date(2020, 3, 11), Decimal(900000))]
    fills = Desk(1, UNIVERSE, CALENDAR).rebalance(DAY, mandate(), book_with("1000000"), QUOTES, upcoming)
    assert totals(fills) == {("EU-A", Side.BUY): Decimal(4850), ("EU-B", Side.BUY): Decimal(9700)}


def test_the_budget_keeps_the_larger_of_the_minimum_and_half_the_cash_target() -> None:
    """With a 2-3 % band the minimum (2 %) is above half the target (1.25 %): budget =
    700,000 - 20,000 = 680,000; with the mandate's 1-5 % band half the target (1.5 %) wins:
    685,000. Targets 48.75 % with a 2.5 % cash target: 487,500 / 100 = 4,875 A, 9,750 B; cost
    4,875 x 101 + 9,750 x 50.5 = 984,750; scale 680,000 / 984,750 = 0.690530...:
    4,875 x 0.69053 = 3,366.34 -> 3,366, 9,750 x 0.69053 = 6,732.67 -> 6,732."""
    upcoming = [(dt.date(2020, 3, 12), Decimal(-300000)), (dt.date(2020, 3, 17), Decimal(300000))]
    fills = Desk(1, UNIVERSE, CALENDAR).rebalance(
        DAY, mandate(min_cash=0.02, max_cash=0.03), book_with("1000000"), QUOTES, upcoming
    )
    assert totals(fills) == {("EU-A", Side.BUY): Decimal(3366), ("EU-B", Side.BUY): Decimal(6732)}


def test_no_buys_when_the_lowest_future_cash_is_below_the_reserve() -> None:
    # Cash dips to 10,000 after the settle date: 10,000 - 15,000 < 0 leaves nothing to buy.
    upcoming = [(dt.date(2020, 3, 12), Decimal(-990000)), (dt.date(2020, 3, 17), Decimal(990000))]
    assert Desk(1, UNIVERSE, CALENDAR).rebalance(DAY, mandate(), book_with("1000000"), QUOTES, upcoming) == []


def test_nothing_to_do_with_no_nav() -> None:
    assert Desk(1, UNIVERSE, CALENDAR).rebalance(DAY, mandate(), book_with("0"), QUOTES, []) == []


def _balanced_book(cash: str = "30000") -> InternalBook:
    """4,850 A at 100 and 9,700 B at 50 (485,000 each) plus cash: on target at those prices."""
    book = book_with(cash)
    hold(book, A, 4850, "100")
    hold(book, B, 9700, "50")
    # hold() paid for them: put the cash back so settled cash is as asked.
    book.apply_cash_flow(
        CashFlow(
            cash_flow_id="CF-1",
            mandate_id="EQ-TEST",
            kind=CashFlowKind.SUBSCRIPTION,
            amount=-book.cash("EQ-TEST", "EUR") + Decimal(cash),
            currency="EUR",
        )
    )
    return book


def test_a_book_on_target_with_cash_inside_the_band_does_not_trade() -> None:
    # NAV 1,000,000, cash 3 %: between 1 % + 0.8 % and 5 % - 0.8 % (20 % of the 4 % band's width).
    book = _balanced_book()
    assert book.cash("EQ-TEST", "EUR") == Decimal(30000)
    assert Desk(1, UNIVERSE, CALENDAR).rebalance(DAY, mandate(), book, QUOTES, []) == []


@pytest.mark.parametrize(
    ("cash", "full"),
    [
        # Cash share of NAV vs the triggers 4.2 % (top) and 1.8 % (bottom) of a 1-5 % band.
        ("40000", False),  # 40,000 / 1,010,000 = 3.96 %
        ("45000", True),  # 45,000 / 1,015,000 = 4.43 %
        ("19000", False),  # 19,000 / 989,000 = 1.92 %
        ("17000", True),  # 17,000 / 987,000 = 1.72 %
    ],
)
def test_cash_near_an_edge_of_the_band_triggers_a_full_rebalance(cash: str, full: bool) -> None:
    """Near the top the full rebalance buys; near the bottom it sells (the names are then above
    their 48.5 % target by more than the 0.05 % minimum trade, but not drifted)."""
    fills = Desk(1, UNIVERSE, CALENDAR).rebalance(DAY, mandate(), _balanced_book(cash), QUOTES, [])
    assert bool(fills) is full


def test_a_drifted_name_trades_back_to_target_and_an_undrifted_one_does_not() -> None:
    """A at 120: A = 582,000, B = 485,000, cash 30,000, NAV 1,097,000. A's weight 53.05 % is off
    its 48.5 % target by 4.55 pts, under the 10 % x 48.5 % + 0.1 % = 4.95 pt drift allowance, so
    nothing trades. At 130: A = 630,500 of NAV 1,145,500 = 55.04 %, 6.54 pts off: sell
    (630,500 - 0.485 x 1,145,500) / 130 = 74,932.5 / 130 = 576.4 -> 576. B is 42.34 %, 6.16 pts
    under: buy (555,567.5 - 485,000) / 50 = 1,411.35 -> 1,411."""
    book = _balanced_book()
    quotes = {**QUOTES, "EU-A": quote(A, "120.00")}
    assert Desk(1, UNIVERSE, CALENDAR).rebalance(DAY, mandate(), book, quotes, []) == []
    quotes = {**QUOTES, "EU-A": quote(A, "130.00")}
    fills = Desk(1, UNIVERSE, CALENDAR).rebalance(DAY, mandate(), book, quotes, [])
    assert totals(fills) == {("EU-A", Side.SELL): Decimal(576), ("EU-B", Side.BUY): Decimal(1411)}
    # Sells first, then buys.
    sides = [f.side for f in fills]
    assert sides == sorted(sides, key=lambda s: s is Side.BUY)


def test_a_name_above_the_single_name_limit_trades_even_when_not_drifted() -> None:
    """With a 50 % name limit, A at 120 (53.05 %, not drifted) is above it: sold back to target,
    (582,000 - 0.485 x 1,097,000) / 120 = 49,955 / 120 = 416.29 -> 416. B (44.21 %, 4.29 pts
    under) is not drifted and stays."""
    quotes = {**QUOTES, "EU-A": quote(A, "120.00")}
    fills = Desk(1, UNIVERSE, CALENDAR).rebalance(DAY, mandate(max_name=0.50), _balanced_book(), quotes, [])
    assert totals(fills) == {("EU-A", Side.SELL): Decimal(416)}


def test_a_name_leaving_the_targets_is_sold_whole_however_small() -> None:
    """C, a dollar stock in a euro mandate, has no target: all 3 held are sold although 60 USD
    (48 EUR at 1.25 USD per EUR: a holding is valued in the base currency) is far below the minimum
    trade (0.05 % of NAV = 500); an eligible name 48 off target would stay."""
    book = _balanced_book()
    hold(book, C, 3, "20")
    fills = Desk(1, UNIVERSE, CALENDAR).rebalance(DAY, mandate(), book, QUOTES, [], EURUSD)
    assert totals(fills) == {("US-C", Side.SELL): Decimal(3)}
    assert all(f.currency == "USD" and f.broker in BROKERS["US"] for f in fills)


def test_trades_below_the_minimum_weight_are_skipped() -> None:
    """A 3-3.3 % band (top trigger 3.3 % - 20 % x 0.3 % = 3.24 %; cash target 3.15 %, so each
    name's target is 0.5 x 96.85 % = 48.425 % = 484,250 of NAV 1,000,000). Cash 32,500 (3.25 %)
    fires a full rebalance; A (4,838 x 100 = 483,800) is 450 short, under the 0.05 % minimum
    trade of 500, and is skipped; B (9,674 x 50 = 483,700) is 550 short: buy 11."""
    book = book_with("32500")
    hold(book, A, 4838, "100")
    hold(book, B, 9674, "50")
    book.apply_cash_flow(
        CashFlow(
            cash_flow_id="CF-1",
            mandate_id="EQ-TEST",
            kind=CashFlowKind.SUBSCRIPTION,
            amount=Decimal(32500) - book.cash("EQ-TEST", "EUR"),
            currency="EUR",
        )
    )
    fills = Desk(1, UNIVERSE, CALENDAR).rebalance(
        DAY, mandate(min_cash=0.03, max_cash=0.033), book, QUOTES, []
    )
    assert totals(fills) == {("EU-B", Side.BUY): Decimal(11)}


def test_a_sell_never_exceeds_the_holding() -> None:
    """Near the bottom of the band everything is sold down; a name held below what the maths
    asks to sell is sold only as far as held."""
    book = book_with("17000")
    hold(book, A, 4850, "100")
    hold(book, B, 9700, "50")
    book.apply_cash_flow(
        CashFlow(
            cash_flow_id="CF-1",
            mandate_id="EQ-TEST",
            kind=CashFlowKind.SUBSCRIPTION,
            amount=-book.cash("EQ-TEST", "EUR") + Decimal(17000),
            currency="EUR",
        )
    )
    fills = Desk(1, UNIVERSE, CALENDAR).rebalance(DAY, mandate(max_cash=0.02, min_cash=0.0), book, QUOTES, [])
    for (instrument_id, side), quantity in totals(fills).items():
        if side is Side.SELL:
            assert quantity <= book.position("EQ-TEST", instrument_id)


# ---------------------------------------------------------------- executing an order


def test_an_order_fills_in_one_to_three_parts_that_add_up() -> None:
    desk = Desk(3, UNIVERSE, CALENDAR)
    parts = set()
    count = 0
    for i in range(60):
        fills = desk._execute(DAY, mandate(), A, Side.BUY, Decimal(1000 + i), QUOTES["EU-A"])
        parts.add(len(fills))
        assert [f.fill_id for f in fills] == [f"FIL-{count + k:07d}" for k in range(1, len(fills) + 1)]
        count += len(fills)
        assert sum(f.quantity for f in fills) == 1000 + i
        assert len({f.order_id for f in fills}) == 1 and all(f.quantity > 0 for f in fills)
        assert all(Decimal("99.98") <= f.price <= Decimal("100.02") for f in fills)
        assert len({f.broker for f in fills}) == 1
    assert parts == {1, 2, 3}
    # Order and fill ids count up across orders.
    assert fills[-1].order_id == "ORD-0000060"


def test_an_order_of_one_lot_fills_once() -> None:
    desk = Desk(3, UNIVERSE, CALENDAR)
    for _ in range(20):
        assert len(desk._execute(DAY, mandate(), A, Side.BUY, Decimal(1), QUOTES["EU-A"])) == 1


def test_slippage_never_prices_below_one_tick() -> None:
    desk = Desk(3, UNIVERSE, CALENDAR)
    cheap = quote(A, "0.01")
    prices = {
        f.price for _ in range(30) for f in desk._execute(DAY, mandate(), A, Side.SELL, Decimal(5), cheap)
    }
    assert min(prices) == Decimal("0.01") and max(prices) <= Decimal("0.03")


def test_brokers_come_from_the_market_and_bonds_from_the_bond_houses() -> None:
    desk = Desk(3, UNIVERSE, CALENDAR)
    seen_eq = {
        desk._execute(DAY, mandate(), A, Side.BUY, Decimal(1), QUOTES["EU-A"])[0].broker for _ in range(40)
    }
    assert seen_eq == set(BROKERS["EU"])
    bond_quote = quote(BOND, "101.5", "0.5")
    seen_bond = set()
    for _ in range(40):
        [*fills] = desk._execute(DAY, mandate(), BOND, Side.BUY, Decimal(1000), bond_quote)
        seen_bond.add(fills[0].broker)
    assert seen_bond == set(BROKERS["BONDS"])
    assert set(ALL_BROKERS) == {b for names in BROKERS.values() for b in names} and list(
        ALL_BROKERS
    ) == sorted(ALL_BROKERS)


def test_a_bond_order_settles_t_plus_1_with_accrued_to_the_settle_date() -> None:
    desk = Desk(3, UNIVERSE, CALENDAR)
    fills = desk._execute(DAY, mandate(), BOND, Side.BUY, Decimal(250000), quote(BOND, "101.5", "0.5"))
    assert sum(f.quantity for f in fills) == 250000
    assert all(f.quantity % 1000 == 0 for f in fills)  # whole 1,000 face lots
    for fill in fills:
        assert fill.settle_date == dt.date(2020, 3, 10)
        # Accrued at 2 % from 15 Feb to 10 Mar 2020: 24 of 182 days x 1.00 per half-year =
        # 0.131868... per 100; on the fill's face / 100, to the cent.
        per_100 = Decimal(24) / Decimal(182)
        assert abs(fill.accrued_interest - fill.quantity * per_100 / 100) <= Decimal("0.005")
        assert Decimal("101.490") <= fill.price <= Decimal("101.510")  # 10 ticks of 0.001


# ---------------------------------------------------------------- fill amounts


def test_a_japanese_fill_rounds_to_the_yen_with_the_minimum_commission() -> None:
    jp = _equity("JP-1", "S1", market="JP", currency="JPY")
    # 100 shares at 1,234 yen: gross 123,400; 4 bp = 49.36 yen, under the 500 yen minimum.
    fill = make_fill("F", "O", "M", jp, Side.BUY, Decimal(100), Decimal(1234), Decimal(0), DAY, T2, "b")
    assert (fill.gross_amount, fill.commission, fill.fees, fill.net_amount) == (
        Decimal(123400),
        Decimal(500),
        Decimal(0),
        Decimal(123900),
    )
    assert fill.gross_amount.as_tuple().exponent == 0 and fill.accrued_interest == 0


def test_a_uk_buy_pays_stamp_duty_and_a_sell_does_not() -> None:
    uk = _equity("UK-1", "S1", market="UK", currency="GBP")
    # 2,000 at 4.567: gross 9,134.00; commission 5 bp = 4.567 -> 4.57 (above the 5.00 minimum? no:
    # the minimum 5.00 wins); stamp duty 0.5 % = 45.67 on the buy only.
    buy = make_fill("F", "O", "M", uk, Side.BUY, Decimal(2000), Decimal("4.567"), Decimal(0), DAY, T2, "b")
    assert (buy.gross_amount, buy.commission, buy.fees, buy.net_amount) == (
        Decimal("9134.00"),
        Decimal("5.00"),
        Decimal("45.67"),
        Decimal("9184.67"),
    )
    sell = make_fill("F", "O", "M", uk, Side.SELL, Decimal(2000), Decimal("4.567"), Decimal(0), DAY, T2, "b")
    assert (sell.fees, sell.net_amount) == (Decimal("0.00"), Decimal("9129.00"))


def test_a_bond_fill_has_accrued_and_no_commission() -> None:
    # 50,000 face at 99.5: gross 49,750.00; accrued 0.131868 per 100 -> 65.934 -> 65.93.
    fill = make_fill(
        "F", "O", "M", BOND, Side.SELL, Decimal(50000), Decimal("99.5"), Decimal("0.131868"), DAY, T2, "b"
    )
    assert (fill.gross_amount, fill.accrued_interest, fill.commission, fill.fees) == (
        Decimal("49750.00"),
        Decimal("65.93"),
        Decimal("0.00"),
        Decimal("0.00"),
    )
    assert fill.net_amount == Decimal("49815.93")  # a sell receives gross + accrued
    assert (fill.fill_id, fill.order_id, fill.mandate_id, fill.instrument_id, fill.currency, fill.broker) == (
        "F",
        "O",
        "M",
        "UST-2030",
        "USD",
        "b",
    )
    assert (fill.trade_date, fill.settle_date, fill.side, fill.quantity, fill.price) == (
        DAY,
        T2,
        Side.SELL,
        Decimal(50000),
        Decimal("99.5"),
    )


# ---------------------------------------------------------------- boundaries of the band and the budget


def _book_of(cash: int, a: int, b: int) -> InternalBook:
    """Settled cash exactly `cash` with a shares of A and b of B held (at any price)."""
    book = book_with("0")
    hold(book, A, a, "100")
    hold(book, B, b, "50")
    book.apply_cash_flow(
        CashFlow(
            cash_flow_id="CF-1",
            mandate_id="EQ-TEST",
            kind=CashFlowKind.SUBSCRIPTION,
            amount=Decimal(cash) - book.cash("EQ-TEST", "EUR"),
            currency="EUR",
        )
    )
    return book


@pytest.mark.parametrize(("cash", "full"), [(41999, False), (42000, False), (42001, True)])
def test_the_top_trigger_is_strictly_above_4_2_percent(cash: int, full: bool) -> None:
    """1-5 % band: full rebalance only above 5 % - 20 % x 4 % = 4.2 %. 4,790 A and 9,580 B
    are 958,000; with 42,000 of cash NAV is 1,000,000 and cash exactly 4.2 %: no trade (the
    names, 47.9 % against 48.5 %, are within the drift allowance)."""
    fills = Desk(1, UNIVERSE, CALENDAR).rebalance(DAY, mandate(), _book_of(cash, 4790, 9580), QUOTES, [])
    assert bool(fills) is full


@pytest.mark.parametrize(("cash", "full"), [(21999, True), (22000, False), (22001, False)])
def test_the_bottom_trigger_is_strictly_below_2_2_percent(cash: int, full: bool) -> None:
    """2-3 % band: full rebalance only below 2 % + 20 % x 1 % = 2.2 %. 4,890 A and 9,780 B are
    978,000; with 22,000 of cash exactly 2.2 % of 1,000,000: no trade."""
    fills = Desk(1, UNIVERSE, CALENDAR).rebalance(
        DAY, mandate(min_cash=0.02, max_cash=0.03), _book_of(cash, 4890, 9780), QUOTES, []
    )
    assert bool(fills) is full


def test_sale_proceeds_settling_before_the_buys_pay_for_them() -> None:
    """600,000 settled and a sale of 4,000 A at 100 paying 399,800 (400,000 - 200 commission)
    on the 10th, before buys settle on the 11th. NAV 999,800, all cash: buy 0.485 x 999,800 =
    484,903 of each, 4,849 A and 9,698 B, costing 979,498 with headroom, within the budget of
    999,800 - 1.5 % x 999,800 = 984,803 only because the proceeds count."""
    book = _book_of(600000, 4000, 0)
    book.apply_fill(
        make_fill(
            "F9",
            "O9",
            "EQ-TEST",
            A,
            Side.SELL,
            Decimal(4000),
            Decimal(100),
            Decimal(0),
            DAY,
            dt.date(2020, 3, 10),
            "x",
        )
    )
    fills = Desk(1, UNIVERSE, CALENDAR).rebalance(DAY, mandate(), book, QUOTES, [])
    assert totals(fills) == {("EU-A", Side.BUY): Decimal(4849), ("EU-B", Side.BUY): Decimal(9698)}


def test_a_nav_of_one_euro_still_trades() -> None:
    """One euro of cash with both names at 0.01: 0.485 / 0.01 = 48.5 -> 48 shares of each,
    costing 2 x 48 x 0.01 x 1.01 = 0.9696 of a 1 - 0.015 = 0.985 budget."""
    cheap = {"EU-A": quote(A, "0.01"), "EU-B": quote(B, "0.01")}
    fills = Desk(1, UNIVERSE, CALENDAR).rebalance(DAY, mandate(), book_with("1"), cheap, [])
    assert totals(fills) == {("EU-A", Side.BUY): Decimal(48), ("EU-B", Side.BUY): Decimal(48)}


@pytest.mark.parametrize(
    ("b_price", "expected"),
    [
        # B at 0.40: 48.5 / 0.4 = 121 shares, cost 48.884; A 4,850 at 0.01, cost 48.985; total
        # 97.869. Budget 2.40 - 1.50 = 0.90: scale 0.009196: A 44.6 -> 44, B 1.11 -> 1.
        ("0.40", {("EU-A", Side.BUY): Decimal(44), ("EU-B", Side.BUY): Decimal(1)}),
        # B at 5.00: 9 shares, cost 45.45; total 94.435, scale 0.00953: A 46.2 -> 46, B 0.09 -> none.
        ("5.00", {("EU-A", Side.BUY): Decimal(46)}),
    ],
)
def test_a_budget_under_one_euro_still_buys_whole_lots_and_drops_names_scaled_to_none(
    b_price: str, expected: dict[tuple[str, Side], Decimal]
) -> None:
    """NAV 100 with a dip to 2.40 of cash after the settle date: the budget is 0.90."""
    quotes = {"EU-A": quote(A, "0.01"), "EU-B": quote(B, b_price)}
    upcoming = [(dt.date(2020, 3, 12), Decimal("-97.60")), (dt.date(2020, 3, 17), Decimal("97.60"))]
    fills = Desk(1, UNIVERSE, CALENDAR).rebalance(DAY, mandate(), book_with("100"), quotes, upcoming)
    assert totals(fills) == expected


J1 = _equity("JP-1", "S1", market="JP", currency="JPY")
J2 = _equity("JP-2", "S2", market="JP", currency="JPY")


def test_japanese_buys_are_scaled_in_lots_of_100() -> None:
    """A yen mandate with 100,000,000 and a dip to 70,000,000: targets 48,500,000 each, 48,500
    J1 at 1,000 and 97,000 J2 at 500, costing 97,970,000 with headroom. Budget 70,000,000 -
    1,500,000 = 68,500,000, scale 0.699193: J1 48,500 x 0.699193 / 100 = 339.1 lots -> 33,900;
    J2 678.2 lots -> 67,800."""
    universe = Universe(instruments=(J1, J2), equity_specs=MappingProxyType({}))
    yen = dataclasses.replace(mandate(mandate_id="EQ-JP"), base_currency="JPY")
    book = InternalBook(["EQ-JP"], {"EQ-JP": "JPY"})
    book.apply_cash_flow(
        CashFlow(
            cash_flow_id="C",
            mandate_id="EQ-JP",
            kind=CashFlowKind.SUBSCRIPTION,
            amount=Decimal(100_000_000),
            currency="JPY",
        )
    )
    quotes = {"JP-1": quote(J1, "1000"), "JP-2": quote(J2, "500")}
    upcoming = [(dt.date(2020, 3, 12), Decimal(-30_000_000)), (dt.date(2020, 3, 17), Decimal(30_000_000))]
    fills = Desk(1, universe, CALENDAR).rebalance(DAY, yen, book, quotes, upcoming)
    assert totals(fills) == {("JP-1", Side.BUY): Decimal(33900), ("JP-2", Side.BUY): Decimal(67800)}
    assert all(f.quantity % 100 == 0 for f in fills)
    # Unscaled, the full targets: 485 and 970 lots.
    full = Desk(1, universe, CALENDAR).rebalance(DAY, yen, book, quotes, [])
    assert totals(full) == {("JP-1", Side.BUY): Decimal(48500), ("JP-2", Side.BUY): Decimal(97000)}


def test_a_leaving_name_is_sold_whole_even_where_float_division_would_leave_a_share() -> None:
    """11 C at 0.03: in floats 11 x 0.03 / 0.03 = 10.999..., which would truncate to 10 lots;
    a name leaving the targets sells exactly what is held."""
    book = _balanced_book()
    hold(book, C, 11, "0.03")
    fills = Desk(1, UNIVERSE, CALENDAR).rebalance(
        DAY, mandate(), book, {**QUOTES, "US-C": quote(C, "0.03")}, [], EURUSD
    )
    assert totals(fills) == {("US-C", Side.SELL): Decimal(11)}


def test_a_name_without_a_quote_is_skipped_and_the_others_still_trade() -> None:
    # A is first in the universe and has no price today: B is still bought (485,000 / 50).
    fills = Desk(1, UNIVERSE, CALENDAR).rebalance(
        DAY, mandate(), book_with("1000000"), {"EU-B": QUOTES["EU-B"]}, []
    )
    assert totals(fills) == {("EU-B", Side.BUY): Decimal(9700)}


def test_a_drift_just_inside_the_allowance_does_not_trade() -> None:
    """A at 121.50: 589,275 of NAV 1,104,275 = 53.363 %, 4.863 pts over 48.5 %: inside the
    allowance of 10 % x 48.5 % + 0.1 % = 4.95 pts (it would be outside 4.75 pts)."""
    quotes = {**QUOTES, "EU-A": quote(A, "121.50")}
    assert Desk(1, UNIVERSE, CALENDAR).rebalance(DAY, mandate(), _balanced_book(), quotes, []) == []


@pytest.mark.parametrize(("a_shares", "trades"), [(5000, False), (5001, True)])
def test_the_single_name_limit_is_strictly_above_the_maximum(a_shares: int, trades: bool) -> None:
    """A limit of 50 %: 5,000 A at 100 of NAV 1,000,000 (with 9,400 B and 30,000 cash) is
    exactly 50 %, not above it: no trade (1.5 pts from target is no drift). 5,001 A is 50.005 %
    of 1,000,100: sold back."""
    book = _book_of(30000, a_shares, 9400)
    fills = Desk(1, UNIVERSE, CALENDAR).rebalance(DAY, mandate(max_name=0.50), book, QUOTES, [])
    assert bool(fills) is trades
    if trades:
        assert set(totals(fills)) == {("EU-A", Side.SELL)}


def _priced_book(cash: int, a: tuple[int, str], b: tuple[int, str]) -> InternalBook:
    book = book_with("0")
    hold(book, A, a[0], a[1])
    hold(book, B, b[0], b[1])
    book.apply_cash_flow(
        CashFlow(
            cash_flow_id="CF-1",
            mandate_id="EQ-TEST",
            kind=CashFlowKind.SUBSCRIPTION,
            amount=Decimal(cash) - book.cash("EQ-TEST", "EUR"),
            currency="EUR",
        )
    )
    return book


# A 3-3.3 % band: a full rebalance once cash passes 3.24 %, each name's target 48.425 % of NAV.
NARROW = {"min_cash": 0.03, "max_cash": 0.033}


@pytest.mark.parametrize(
    ("a", "b", "cash", "expected"),
    [
        # A 700 x 691 = 483,700 is 550 short of 484,250: over the 500 minimum but under one
        # share, so no order; B 483 x 1,000 is 1,250 short: exactly one share.
        ((691, "700"), (483, "1000"), 33300, {("EU-B", Side.BUY): Decimal(1)}),
        # B 485 x 1,000 is 750 over: under one share, no sell; A 482 x 1,000 is 2,250 short: 2.
        ((482, "1000"), (485, "1000"), 33000, {("EU-A", Side.BUY): Decimal(2)}),
        # B 486 x 1,000 is 1,750 over: sell exactly one; A 481 is 3,250 short: buy 3.
        (
            (481, "1000"),
            (486, "1000"),
            33000,
            {("EU-B", Side.SELL): Decimal(1), ("EU-A", Side.BUY): Decimal(3)},
        ),
    ],
)
def test_orders_round_down_to_whole_shares_and_an_order_of_none_is_not_sent(
    a: tuple[int, str], b: tuple[int, str], cash: int, expected: dict[tuple[str, Side], Decimal]
) -> None:
    quotes = {"EU-A": quote(A, a[1]), "EU-B": quote(B, b[1])}
    fills = Desk(1, UNIVERSE, CALENDAR).rebalance(
        DAY, mandate(**NARROW), _priced_book(cash, a, b), quotes, []
    )
    assert totals(fills) == expected
    assert all(f.quantity > 0 for f in fills)


def test_the_desk_draws_each_order_from_its_own_stream_in_a_fixed_order() -> None:
    """Per order the "desk" stream gives, in turn: the broker (an index into the market's
    houses), the split roll (under 0.6 one fill, under 0.9 two, else three), the cut points
    (distinct, from 1 to lots - 1), then one slippage in ticks (-2..+2) per fill. Replaying the
    stream pins all of it: which stream, the odds, where cuts may fall and the slippage sign."""
    parts_seen = set()
    for seed in range(1, 13):
        desk = Desk(seed, UNIVERSE, CALENDAR)
        stream = py_stream(seed, "desk")
        fills = desk._execute(DAY, mandate(), A, Side.BUY, Decimal(10), QUOTES["EU-A"])
        broker = BROKERS["EU"][stream.randrange(2)]
        roll = stream.random()
        parts = 1 if roll < 0.6 else 2 if roll < 0.9 else 3
        cuts = sorted(stream.sample(range(1, 10), parts - 1)) if parts > 1 else []
        sizes = [b - a for a, b in zip([0, *cuts], [*cuts, 10], strict=True)]
        prices = [Decimal("100.00") + stream.randint(-2, 2) * Decimal("0.01") for _ in sizes]
        assert [(f.broker, f.quantity, f.price) for f in fills] == [
            (broker, Decimal(size), price) for size, price in zip(sizes, prices, strict=True)
        ]
        parts_seen.add(parts)
    assert parts_seen == {1, 2, 3}


def test_bond_slippage_spans_ten_ticks_each_way() -> None:
    desk = Desk(3, UNIVERSE, CALENDAR)
    prices = {
        f.price
        for _ in range(80)
        for f in desk._execute(DAY, mandate(), BOND, Side.BUY, Decimal(1000), quote(BOND, "101.5", "0.5"))
    }
    ticks = {int((p - Decimal("101.5")) / Decimal("0.001")) for p in prices}
    assert min(ticks) >= -10 and max(ticks) <= 10
    assert min(ticks) < -2 and max(ticks) > 2  # wider than an equity's two ticks
