"""Corporate actions planned on a small universe and a hand-made calendar, every date worked out by hand.

The calendar is every weekday from 2021-09-01 to 2022-03-31 except two holidays, Fri 2021-12-24 and
Fri 2021-12-31. Positions in the universe set each payer's quarter and day of month (actions.py):
phase = position % 3 picks the months (phase 0: Jan/Apr/Jul/Oct, 1: Feb/May/..., 2: Mar/Jun/Sep/Dec),
and the nominal ex-day is 5 + (5 x position) % 20 of the month.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from services.common.calendar import BusinessCalendar
from services.market.sim.actions import (
    PlannedAction,
    coupon_per_100,
    dividend_per_share,
    income_payers,
    index_by_date,
    plan_actions,
)
from services.market.sim.records import AssetClass, CorporateActionKind, Instrument
from services.market.sim.universe import EquitySpec, Universe

DIV, CPN = CorporateActionKind.CASH_DIVIDEND, CorporateActionKind.COUPON
D = dt.date
HOLIDAYS = {D(2021, 12, 24), D(2021, 12, 31)}
CALENDAR = BusinessCalendar(
    [
        D(2021, 9, 1) + dt.timedelta(days=n)
        for n in range((D(2022, 3, 31) - D(2021, 9, 1)).days + 1)
        if (D(2021, 9, 1) + dt.timedelta(days=n)).weekday() < 5
        and D(2021, 9, 1) + dt.timedelta(days=n) not in HOLIDAYS
    ]
)


def _equity(iid: str) -> Instrument:
    return Instrument(iid, iid, iid, AssetClass.EQUITY, "USD", "X", "US", Decimal("0.01"), 2)


def _bond(iid: str, maturity: dt.date, coupon: str = "4", per_year: int = 2) -> Instrument:
    return Instrument(
        iid, iid, iid, AssetClass.CORPORATE_BOND, "USD", "Corporate Credit", "US", Decimal("0.001"), 2,
        Decimal(coupon), maturity, per_year, iid, 100, "30/360",
    )  # fmt: skip


def _spec(dividend_yield: float) -> EquitySpec:
    return EquitySpec("S", "S", "US", "X", 1.0, 0.5, "100.00", dividend_yield)


# Positions 0-4 are equities (N1 pays nothing), 5 and 6 bonds.
UNIVERSE = Universe(
    instruments=(
        _equity("P0"),
        _equity("N1"),
        _equity("P2"),
        _equity("P3"),
        _equity("P4"),
        _bond("B5", D(2023, 12, 15)),
        _bond("B6", D(2024, 1, 15)),
    ),
    equity_specs={
        "P0": _spec(0.03),
        "N1": _spec(0.0),
        "P2": _spec(0.02),
        "P3": _spec(0.01),
        "P4": _spec(0.05),
    },
)


def _key(action: PlannedAction) -> tuple:
    return (action.instrument_id, action.announce_date)


def test_a_quarter_of_dividends_and_coupons_with_every_date_worked_out() -> None:
    """first 2021-11-01, last 2022-01-31: the payers' ex-months from November to April are examined
    (62 days past the last day), and only actions announced inside the window are kept.

    P0 (position 0: phase 0, day 5): ex Wed 2022-01-05; 10 business days back, skipping the holidays
      Dec 31 and Dec 24: Jan 4, 3, Dec 30, 29, 28, 27, 23, 22, 21, 20 -> announced Mon Dec 20;
      record Jan 6 (ex + 1); paid Jan 6, 7, 10-14, 17, 18, 19 -> Wed Jan 19. (April: announced in March.)
    N1 (position 1) has a zero yield: no dividends, although its February ex-date would be announced
      in the window.
    P2 (position 2: phase 2, day 15): ex Wed 2021-12-15; back 14, 13, 10, 9, 8, 7, 6, 3, 2, 1 -> Wed Dec 1;
      record Dec 16; paid 16, 17, 20-23, 27-30 (Dec 24 a holiday) -> Thu Dec 30. (March: announced Mar 1.)
    P3 (position 3: phase 0, day 5 + 15 = 20): ex Thu 2022-01-20; back 19, 18, 17, 14-10, 7, 6 -> Thu Jan 6;
      record Fri Jan 21; paid 21, 24-28, 31, Feb 1, 2, 3 -> Thu Feb 3.
    P4 (position 4: phase 1, day 5 + 20 % 20 = 5): Sat 2022-02-05 -> ex Mon Feb 7; back Feb 4-1, Jan 31,
      28-24 -> Mon Jan 24; record Feb 8; paid 8-11, 14-18, 21 -> Mon Feb 21. (Its November ex-date,
      Fri Nov 5, was announced Oct 22, before the window.)
    B5 (coupons Jun 15 / Dec 15): the June 2021 coupon was paid before the window; Wed Dec 15 2021 is
      paid that day, announced 10 business days before (Dec 1), ex and record the last business day
      before the coupon date (Tue Dec 14). June 2022 is announced after the window.
    B6 (Jan 15 / Jul 15): Sat 2022-01-15 is paid Mon Jan 17, announced Jan 14-10, 7-3 -> Mon Jan 3;
      ex and record Fri Jan 14; the coupon date stays Jan 15.
    Order: by announce date, then universe position (P2 before B5 on Dec 1 although B5's ex-date is
    a day earlier).
    """
    planned = plan_actions(UNIVERSE, CALENDAR, D(2021, 11, 1), D(2022, 1, 31))
    assert planned == [
        PlannedAction("P2", DIV, D(2021, 12, 1), D(2021, 12, 15), D(2021, 12, 16), D(2021, 12, 30)),
        PlannedAction("B5", CPN, D(2021, 12, 1), D(2021, 12, 14), D(2021, 12, 14), D(2021, 12, 15), D(2021, 12, 15)),
        PlannedAction("P0", DIV, D(2021, 12, 20), D(2022, 1, 5), D(2022, 1, 6), D(2022, 1, 19)),
        PlannedAction("B6", CPN, D(2022, 1, 3), D(2022, 1, 14), D(2022, 1, 14), D(2022, 1, 17), D(2022, 1, 15)),
        PlannedAction("P3", DIV, D(2022, 1, 6), D(2022, 1, 20), D(2022, 1, 21), D(2022, 2, 3)),
        PlannedAction("P4", DIV, D(2022, 1, 24), D(2022, 2, 7), D(2022, 2, 8), D(2022, 2, 21)),
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("first", "expected"),
    [
        # P2's dividend and B5's coupon are both announced Wed Dec 1 (see above).
        (D(2021, 11, 30), [("P2", D(2021, 12, 1)), ("B5", D(2021, 12, 1))]),
        (D(2021, 12, 1), [("P2", D(2021, 12, 1)), ("B5", D(2021, 12, 1))]),
        # From Dec 2 the dividend was announced before the run; the coupon, paid Dec 15, is still
        # ahead, so it is announced on the first simulated day instead.
        (D(2021, 12, 2), [("B5", D(2021, 12, 2))]),
    ],
)
def test_actions_announced_before_the_first_day_are_left_out_but_coupons_still_due_are_not(
    first: dt.date, expected: list[tuple[str, dt.date]]
) -> None:
    planned = plan_actions(UNIVERSE, CALENDAR, first, D(2021, 12, 10))
    assert [_key(a) for a in planned] == expected


@pytest.mark.parametrize(
    ("last", "expected"),
    [
        (D(2021, 11, 30), []),
        (D(2021, 12, 1), [("P2", D(2021, 12, 1)), ("B5", D(2021, 12, 1))]),
        (D(2021, 12, 2), [("P2", D(2021, 12, 1)), ("B5", D(2021, 12, 1))]),
    ],
)
def test_actions_announced_after_the_last_day_are_left_out(
    last: dt.date, expected: list[tuple[str, dt.date]]
) -> None:
    assert [_key(a) for a in plan_actions(UNIVERSE, CALENDAR, D(2021, 11, 1), last)] == expected


@pytest.mark.parametrize(
    ("first", "planned"),
    [
        # B7 pays on Mon 2021-11-01. From Fri Oct 29 the payment is ahead: announced on the first day
        # (10 business days before it is Oct 18, before the run), ex and record Fri Oct 29.
        (D(2021, 10, 29), [PlannedAction("B7", CPN, D(2021, 10, 29), D(2021, 10, 29), D(2021, 10, 29), D(2021, 11, 1), D(2021, 11, 1))]),
        # A coupon paid on the first day itself or before it belongs to the history already.
        (D(2021, 11, 1), []),
        (D(2021, 11, 2), []),
    ],
)  # fmt: skip
def test_a_coupon_paid_on_or_before_the_first_day_is_not_planned(
    first: dt.date, planned: list[PlannedAction]
) -> None:
    universe = Universe(instruments=(_bond("B7", D(2024, 5, 1)),), equity_specs={})
    assert plan_actions(universe, CALENDAR, first, D(2021, 11, 30)) == planned


def test_the_ex_months_roll_over_the_year_end() -> None:
    """A window inside December 2021 still plans a January ex-date, announced in December: the months
    examined run past the year's end into January 2022 (P0: announced Dec 20 for Jan 5)."""
    planned = plan_actions(UNIVERSE, CALENDAR, D(2021, 12, 17), D(2021, 12, 22))
    assert [_key(a) for a in planned] == [("P0", D(2021, 12, 20))]


@pytest.mark.parametrize(
    ("price", "annual_yield", "expected"),
    [
        ("100.00", 0.03, "0.75"),  # 100 x 0.03 / 4 = 0.75
        ("48.00", 0.028, "0.34"),  # 48 x 0.028 / 4 = 0.336 -> 0.34
        ("1.00", 0.1, "0.02"),  # 1 x 0.1 / 4 = 0.025 exactly (the yield as written): half-even -> 0.02
        ("1.40", 0.1, "0.04"),  # 0.035 -> half-even 0.04
        ("4.00", 0.01, "0.01"),  # exactly one cent: kept
        ("3.96", 0.01, "0.01"),  # 0.0099 -> 0.01 by rounding
        ("1.00", 0.01, "0.01"),  # 0.0025 -> 0.00, raised to the minimum of one cent
    ],
)
def test_a_dividend_is_a_quarter_of_the_yield_on_the_price_to_the_cent_and_at_least_a_cent(
    price: str, annual_yield: float, expected: str
) -> None:
    assert dividend_per_share(Decimal(price), annual_yield) == Decimal(expected)


def test_a_coupon_per_100_is_the_rate_over_the_coupons_a_year() -> None:
    assert coupon_per_100(_bond("B", D(2030, 1, 15), coupon="4.25", per_year=2)) == Decimal("2.125")
    assert coupon_per_100(_bond("B", D(2030, 1, 15), coupon="6", per_year=4)) == Decimal("1.5")


def test_income_payers_are_bonds_and_equities_with_a_positive_yield() -> None:
    assert income_payers(UNIVERSE) == frozenset({"P0", "P2", "P3", "P4", "B5", "B6"})
    # An equity without a spec (not in the model) pays nothing.
    bare = Universe(instruments=(_equity("X"),), equity_specs={})
    assert income_payers(bare) == frozenset()


def test_actions_are_indexed_by_announce_date_in_plan_order() -> None:
    planned = plan_actions(UNIVERSE, CALENDAR, D(2021, 11, 1), D(2022, 1, 31))
    index = index_by_date(planned)
    assert {day: [a.instrument_id for a in actions] for day, actions in index.items()} == {
        D(2021, 12, 1): ["P2", "B5"],
        D(2021, 12, 20): ["P0"],
        D(2022, 1, 3): ["B6"],
        D(2022, 1, 6): ["P3"],
        D(2022, 1, 24): ["P4"],
    }
