"""Each instrument's total return from one day end to the next: price, accrued interest and income.

An instrument's value per unit at a day end is its price (bonds: (clean + accrued) per 100 / 100,
the full price an index and a NAV both use). Its return over a day is

    (value today + income today) / value at the previous day end - 1

where income is a dividend per share on its ex-date (the day the holder earns it, whatever the pay
date) and, for a bond, one coupon per 100 face on the day its accrued interest falls back (the
coupon date passed; the full price drops by the coupon the holder was paid). An instrument with no
price at the previous day end has no return today.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from services.common.market_events import Instrument, priced_per_100

ZERO = Decimal(0)
HUNDRED = Decimal(100)


def unit_value(instrument: Instrument, price: Decimal, accrued_per_100: Decimal) -> Decimal:
    """The full value of one unit (a share, one currency unit of face)."""
    if priced_per_100(instrument.asset_class):
        return (price + accrued_per_100) / HUNDRED
    return price


def coupon_per_unit(instrument: Instrument) -> Decimal:
    """One coupon per currency unit of face."""
    if not instrument.coupon_rate_pct or not instrument.coupons_per_year:
        return ZERO
    return instrument.coupon_rate_pct / HUNDRED / instrument.coupons_per_year


@dataclass(frozen=True, slots=True)
class Move:
    """An instrument's day: its unit value at the previous day end (where weights are taken) and
    its total return since."""

    value_before: Decimal
    total_return: Decimal


class TotalReturns:
    """The previous day end's unit values, and today's returns from them."""

    def __init__(self, instruments: Iterable[Instrument]) -> None:
        self.instruments = {i.instrument_id: i for i in instruments}
        self.previous: dict[str, tuple[Decimal, Decimal]] = {}  # id -> (unit value, accrued per 100)
        self.previous_date: dt.date | None = None

    def day_end(
        self,
        day: dt.date,
        quotes: Mapping[str, tuple[Decimal, Decimal]],  # id -> (price, accrued per 100), today's closes
        dividends_ex_today: Mapping[str, Decimal],  # id -> amount per share going ex today
    ) -> dict[str, Move]:
        """Today's move of every instrument priced today and at the previous day end; then today's
        closes become the previous ones."""
        returns: dict[str, Move] = {}
        today: dict[str, tuple[Decimal, Decimal]] = {}
        for instrument_id, (price, accrued) in quotes.items():
            instrument = self.instruments[instrument_id]
            value = unit_value(instrument, price, accrued)
            today[instrument_id] = (value, accrued)
            before = self.previous.get(instrument_id)
            if before is None or before[0] <= 0:
                continue
            income = dividends_ex_today.get(instrument_id, ZERO)
            if priced_per_100(instrument.asset_class) and accrued < before[1]:
                income += coupon_per_unit(instrument)
            returns[instrument_id] = Move(before[0], (value + income) / before[0] - 1)
        self.previous = {**self.previous, **today}
        self.previous_date = day
        return returns

    def to_json(self) -> dict[str, object]:
        return {
            "date": self.previous_date.isoformat() if self.previous_date else None,
            "previous": {iid: [str(v), str(a)] for iid, (v, a) in self.previous.items()},
        }

    def restore(self, data: Mapping[str, object]) -> None:
        date = data.get("date")
        self.previous_date = dt.date.fromisoformat(date) if isinstance(date, str) else None
        previous = data.get("previous")
        assert isinstance(previous, dict)
        self.previous = {iid: (Decimal(v), Decimal(a)) for iid, (v, a) in previous.items()}
