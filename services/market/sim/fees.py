"""Management fees: accrued daily on the NAV reporting computes, paid monthly.

Conventions (docs/reporting-conventions.md, "Management fees"):

- At the start of each business day D, once the previous day end (D-1) is valued, each mandate
  accrues nav_basis x annual rate x days / 365, rounded half-even to the minor unit of its base
  currency, where nav_basis is its NAV at that day end and days the calendar days from D-1 to D
  (3 on a Monday, 4 after a Friday holiday). No accrual before the first NAV, nor on a NAV that is
  not positive.
- On the first business day of a month the mandate pays what it accrued in the months before (the
  accruals dated before the first of the month, i.e. the accrued balance before that day's own
  accrual): one cash flow of minus their sum.

The NAV is not computed here: every event the simulation emits goes, in order, into the platform's
ReportingBook (services/common/nav/book.py) and each day end is valued by its `value`, the very
code reporting runs, so the fee market charges is on the NAV reporting shows. Nothing here draws a
random number, so the fees move no seeded stream.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from services.common.money import quantize_money
from services.common.nav.book import ReportingBook
from services.common.nav.valuation import value
from services.market.sim.records import FeeAccrual, Instrument, Mandate, SimEvent

ZERO = Decimal(0)
DAYS_IN_YEAR = 365  # actual/365


def accrued_fee(nav_basis: Decimal, annual_rate: Decimal, days: int, currency: str) -> Decimal:
    """The fee for `days` calendar days on a NAV: nav x rate x days / 365, half-even to the minor unit."""
    return quantize_money(nav_basis * annual_rate * days / DAYS_IN_YEAR, currency)


@dataclass(frozen=True, slots=True)
class ValuedDayEnd:
    """A mandate's NAV at one day end, and the clock.day_end event it was taken at."""

    date: dt.date
    nav: Decimal
    event_id: str


@dataclass(frozen=True, slots=True)
class DueAccrual:
    """An accrual to emit today, with the day end its NAV was taken at (its caused_by)."""

    accrual: FeeAccrual
    day_end_event_id: str


@dataclass(frozen=True, slots=True)
class FeePayment:
    """What a mandate pays today: minus the sum of the accruals it settles, and their event ids."""

    mandate_id: str
    amount: Decimal  # negative: cash out of the mandate
    currency: str
    accrual_event_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class _Unpaid:
    accrual_date: dt.date
    amount: Decimal
    event_id: str


class ManagementFees:
    """Values every mandate at each day end with the shared NAV code and keeps its unpaid accruals."""

    def __init__(self, mandates: Sequence[Mandate], instruments: Iterable[Instrument]) -> None:
        self._mandates = tuple(mandates)
        self._instruments = {i.instrument_id: i for i in instruments}
        self._book = ReportingBook(self._mandates, self._instruments.values())
        self._valued: dict[str, ValuedDayEnd] = {}  # each mandate's last day end
        self._unpaid: dict[str, list[_Unpaid]] = {m.mandate_id: [] for m in self._mandates}

    def observe(self, events: Iterable[SimEvent]) -> None:
        """Feed the day's events, in seq order, to the NAV book; value each mandate at the day end."""
        for event in events:
            for end in self._book.apply(event):
                nav = value(end, self._instruments).nav
                self._valued[end.mandate.mandate_id] = ValuedDayEnd(end.date, nav, event.event_id)

    def last_nav(self, mandate_id: str) -> ValuedDayEnd | None:
        """The mandate's NAV at the last day end observed; None before the first."""
        return self._valued.get(mandate_id)

    def accruals(self, day: dt.date) -> list[DueAccrual]:
        """Today's accruals, in mandate order, on each NAV of an earlier day end (none before the first)."""
        due: list[DueAccrual] = []
        for mandate in self._mandates:
            valued = self._valued.get(mandate.mandate_id)
            if valued is None or valued.date >= day or valued.nav <= 0:
                continue
            days = (day - valued.date).days
            currency = mandate.base_currency
            rate = mandate.management_fee_rate
            accrual = FeeAccrual(
                mandate_id=mandate.mandate_id,
                amount=accrued_fee(valued.nav, rate, days, currency),
                currency=currency,
                accrual_date=day,
                nav_basis=valued.nav,
                annual_rate=rate,
                days=days,
            )
            due.append(DueAccrual(accrual, valued.event_id))
        return due

    def accrued(self, accrual: FeeAccrual, event_id: str) -> None:
        """Remember an emitted accrual until the month after it pays it."""
        self._unpaid[accrual.mandate_id].append(_Unpaid(accrual.accrual_date, accrual.amount, event_id))

    def payments(self, day: dt.date) -> list[FeePayment]:
        """What each mandate pays today: its accruals dated before this month, removed once paid.

        Only the first business day of a month has any (afterwards they are paid); a mandate whose
        accruals sum to nothing pays nothing."""
        month_start = day.replace(day=1)
        out: list[FeePayment] = []
        for mandate in self._mandates:
            unpaid = self._unpaid[mandate.mandate_id]
            settled = [u for u in unpaid if u.accrual_date < month_start]
            if not settled:
                continue
            self._unpaid[mandate.mandate_id] = [u for u in unpaid if u.accrual_date >= month_start]
            total = sum((u.amount for u in settled), ZERO)
            if total:
                out.append(
                    FeePayment(
                        mandate.mandate_id,
                        -total,
                        mandate.base_currency,
                        tuple(u.event_id for u in settled),
                    )
                )
        return out
