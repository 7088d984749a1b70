"""Corporate actions: quarterly cash dividends and bond coupons, planned over the whole run.

Dividends: each payer pays quarterly, its ex-dates in the months
(1, 4, 7, 10) shifted by its position in the universe mod 3, on a day of the
month that also depends on that position (so ex-dates spread over the
quarter). Announced ANNOUNCE_LEAD business days before the ex-date, record
date one business day after it (T+2 settlement), paid PAY_LAG business days
after it. The amount per share is fixed at announcement: the day's price
times the annual yield over 4, rounded to the cent (min 0.01).

Coupons: every regular coupon date of a bond (bonds.coupon_schedule); paid
on the first business day on or after the coupon date; ex- and record date
the last business day before it (holders settled by then get the coupon);
announced ANNOUNCE_LEAD business days before payment, or on the first
simulated day if that is later. Amount per 100 face: coupon rate / coupons
per year.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

from services.common.calendar import BusinessCalendar
from services.market.sim import bonds
from services.market.sim.records import CorporateActionKind, Instrument
from services.market.sim.universe import Universe

ANNOUNCE_LEAD = 10
PAY_LAG = 10
DIVIDEND_QUANTUM = Decimal("0.01")
_ONE_DAY = dt.timedelta(days=1)


@dataclass(frozen=True, slots=True)
class PlannedAction:
    instrument_id: str
    kind: CorporateActionKind
    announce_date: dt.date
    ex_date: dt.date
    record_date: dt.date
    pay_date: dt.date
    coupon_date: dt.date | None = None  # coupons: the nominal date entitlement is measured against


def dividend_per_share(price: Decimal, annual_yield: float) -> Decimal:
    amount = (price * Decimal(repr(annual_yield)) / 4).quantize(DIVIDEND_QUANTUM, rounding=ROUND_HALF_EVEN)
    return max(amount, DIVIDEND_QUANTUM)


def coupon_per_100(instrument: Instrument) -> Decimal:
    assert instrument.coupon_rate_pct is not None
    return instrument.coupon_rate_pct / instrument.coupons_per_year


def _months(first: dt.date, last: dt.date) -> list[tuple[int, int]]:
    out = []
    year, month = first.year, first.month
    while (year, month) <= (last.year, last.month):
        out.append((year, month))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def plan_actions(
    universe: Universe,
    calendar: BusinessCalendar,
    first: dt.date,
    last: dt.date,
    *,
    run_first: dt.date | None = None,
) -> list[PlannedAction]:
    """Every action announced between `first` and `last`, by announce date then universe order.

    A run with no end plans one window at a time; `run_first` (default `first`) is the run's first
    day, which announcements due before it are moved to. Consecutive windows then plan exactly what
    one plan over their union would, so a run's actions do not depend on how it was windowed.
    """
    run_first = first if run_first is None else run_first
    planned: list[tuple[int, PlannedAction]] = []
    months = _months(first, last + dt.timedelta(days=62))
    for position, instrument in enumerate(universe.instruments):
        spec = universe.equity_specs.get(instrument.instrument_id)
        if spec is not None and spec.dividend_yield > 0:
            phase, day_of_month = position % 3, 5 + (position * 5) % 20
            for year, month in months:
                if (month - 1) % 3 != phase:
                    continue
                ex = calendar.on_or_after(dt.date(year, month, day_of_month))
                action = PlannedAction(
                    instrument.instrument_id,
                    CorporateActionKind.CASH_DIVIDEND,
                    calendar.add(ex, -ANNOUNCE_LEAD),
                    ex,
                    calendar.add(ex, 1),
                    calendar.add(ex, PAY_LAG),
                )
                if first <= action.announce_date <= last:
                    planned.append((position, action))
        if instrument.maturity is not None:
            for coupon_date in bonds.coupon_schedule(instrument.maturity, instrument.coupons_per_year):
                pay = calendar.on_or_after(coupon_date)
                if pay <= run_first:
                    continue
                announce = max(run_first, calendar.add(pay, -ANNOUNCE_LEAD))
                if announce < first:
                    continue  # an earlier window's
                if announce > last:
                    break
                ex = calendar.on_or_before(coupon_date - _ONE_DAY)
                planned.append(
                    (
                        position,
                        PlannedAction(
                            instrument.instrument_id,
                            CorporateActionKind.COUPON,
                            announce,
                            ex,
                            ex,
                            pay,
                            coupon_date,
                        ),
                    )
                )
    planned.sort(key=lambda item: (item[1].announce_date, item[0], item[1].ex_date))
    return [action for _, action in planned]


def income_payers(universe: Universe) -> frozenset[str]:
    """Instruments that pay dividends or coupons."""
    return frozenset(
        i.instrument_id
        for i in universe.instruments
        if i.maturity is not None
        or (
            i.instrument_id in universe.equity_specs
            and universe.equity_specs[i.instrument_id].dividend_yield > 0
        )
    )


def index_by_date(actions: list[PlannedAction]) -> Mapping[dt.date, list[PlannedAction]]:
    out: dict[dt.date, list[PlannedAction]] = {}
    for action in actions:
        out.setdefault(action.announce_date, []).append(action)
    return out
