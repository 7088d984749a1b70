"""Returns of a portfolio with external flows: time-weighted, Modified Dietz and money-weighted.

The conventions (the same for a user's file, `opsuite perf returns`, and for the reporting service):

- A valuation is the market value at a date before that date's flows; a flow is external (positive
  in). Flows dated on a valuation date count from that date: they start the sub-period after it.
- Time-weighted: the sub-periods between consecutive valuations are linked geometrically,
  (1 + r1)(1 + r2)... - 1. A sub-period whose flows all fall on its first date has the exact return
  V_end / (V_start + F) - 1; one with flows inside it is measured by Modified Dietz over that
  sub-period.
- Modified Dietz over [t0, T] in calendar days: (V_T - V_0 - sum F) / (V_0 + sum w F), with
  w = (T - t) / T for a flow t days after t0. A flow dated on the last valuation comes after it and
  is left out (it belongs to the next period).
- Money-weighted: the annual rate (actual/365) that discounts the investor's dated flows to zero
  (XIRR): the first valuation paid in, each flow paid in, the last valuation received. Solved by
  pyxirr, not by hand.

Returns are fractions of the whole period, not annualised (money-weighted excepted, an annual rate).
Money is Decimal; the returns are analytics, and the ratios are taken in Decimal before the result
is a float.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

import pyxirr

ZERO = Decimal(0)


class ReturnsError(ValueError):
    """Records that do not make a period whose return can be measured, in words a person can act on."""


@dataclass(frozen=True, slots=True)
class Valuation:
    date: dt.date
    value: Decimal


@dataclass(frozen=True, slots=True)
class Flow:
    date: dt.date
    amount: Decimal  # positive into the portfolio


@dataclass(frozen=True, slots=True)
class PeriodReturns:
    time_weighted: float
    modified_dietz: float
    money_weighted: float | None  # None when no rate solves the flows (pyxirr finds none)


def modified_dietz(start: Valuation, end: Valuation, flows: Sequence[Flow]) -> Decimal:
    """The Modified Dietz return over [start.date, end.date]; flows outside [start, end) are ignored."""
    days = (end.date - start.date).days
    if days <= 0:
        raise ReturnsError(f"the period from {start.date} to {end.date} has no length")
    inside = [f for f in flows if start.date <= f.date < end.date]
    net = sum((f.amount for f in inside), ZERO)
    weighted = sum((f.amount * Decimal((end.date - f.date).days) / Decimal(days) for f in inside), ZERO)
    capital = start.value + weighted
    if capital == 0:
        raise ReturnsError(
            f"the average capital from {start.date} to {end.date} is zero: no Modified Dietz return exists"
        )
    return (end.value - start.value - net) / capital


def time_weighted(valuations: Sequence[Valuation], flows: Sequence[Flow]) -> Decimal:
    """The time-weighted return over the valuations' span, linking the sub-periods between them."""
    _check(valuations, flows)
    growth = Decimal(1)
    for start, end in itertools.pairwise(valuations):
        on_start = sum((f.amount for f in flows if f.date == start.date), ZERO)
        inside = [f for f in flows if start.date < f.date < end.date]
        begin = Valuation(start.date, start.value + on_start)
        if inside:
            growth *= 1 + modified_dietz(begin, end, inside)
        else:
            if begin.value == 0:
                raise ReturnsError(f"the value after the flows of {start.date} is zero: no return from it")
            # The ratio itself, not 1 + (ratio - 1): a fall to a small fraction keeps its digits.
            growth *= end.value / begin.value
    return growth - 1


def money_weighted(valuations: Sequence[Valuation], flows: Sequence[Flow]) -> float | None:
    """XIRR (actual/365) of the investor's flows: None when no rate solves them."""
    _check(valuations, flows)
    first, last = valuations[0], valuations[-1]
    dates = [first.date, *(f.date for f in flows if f.date < last.date), last.date]
    amounts = [-first.value, *(-f.amount for f in flows if f.date < last.date), last.value]
    rate = pyxirr.xirr(dates, [float(a) for a in amounts])
    return None if rate is None else float(rate)


def period_returns(valuations: Sequence[Valuation], flows: Sequence[Flow]) -> PeriodReturns:
    _check(valuations, flows)
    return PeriodReturns(
        time_weighted=float(time_weighted(valuations, flows)),
        modified_dietz=float(modified_dietz(valuations[0], valuations[-1], flows)),
        money_weighted=money_weighted(valuations, flows),
    )


def _check(valuations: Sequence[Valuation], flows: Sequence[Flow]) -> None:
    if len(valuations) < 2:
        raise ReturnsError("a return needs at least two valuations (value rows): the start and the end")
    for earlier, later in itertools.pairwise(valuations):
        if later.date <= earlier.date:
            raise ReturnsError(f"valuations must have rising dates: {later.date} follows {earlier.date}")
    outside = [f for f in flows if not valuations[0].date <= f.date <= valuations[-1].date]
    if outside:
        raise ReturnsError(
            f"the flow of {outside[0].date} is outside the valuations' span "
            f"({valuations[0].date} to {valuations[-1].date})"
        )
