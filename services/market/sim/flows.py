"""Investor flows: subscriptions and redemptions into and out of each mandate.

Day 1 is a SUBSCRIPTION of the mandate's initial capital. After that each
mandate sees a flow on about one business day in FLOW_ODDS (about monthly):
a subscription (SUBSCRIPTION_SHARE of flows) paid the same day, or a
redemption notified NOTICE_DAYS business days ahead (the desk raises cash
in time; the cash flow is on the pay date). Sizes are 1-5 % of NAV, rounded
down to a round amount of the base currency (at least one round amount).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal

from services.common.calendar import BusinessCalendar
from services.market.sim.records import CashFlowKind, Mandate
from services.market.sim.rng import py_stream

NOTICE_DAYS = 5
FLOW_ODDS = 21
SUBSCRIPTION_SHARE = 0.55
SIZE_RANGE = (0.01, 0.05)
ROUND_AMOUNT: Mapping[str, Decimal] = {
    "USD": Decimal(1000),
    "EUR": Decimal(1000),
    "GBP": Decimal(1000),
    "JPY": Decimal(100000),
}


@dataclass(frozen=True, slots=True)
class InvestorFlow:
    mandate_id: str
    kind: CashFlowKind
    amount: Decimal  # signed: + subscription, - redemption
    currency: str
    notified: dt.date
    pay_date: dt.date


class InvestorFlows:
    def __init__(self, seed: int, mandates: Sequence[Mandate], calendar: BusinessCalendar) -> None:
        self._rng = py_stream(seed, "flows")
        self._mandates = tuple(mandates)
        self._calendar = calendar
        self._scheduled: list[InvestorFlow] = []

    def initial(self, day: dt.date) -> None:
        for mandate in self._mandates:
            self._scheduled.append(
                InvestorFlow(
                    mandate.mandate_id,
                    CashFlowKind.SUBSCRIPTION,
                    mandate.initial_capital,
                    mandate.base_currency,
                    day,
                    day,
                )
            )

    def decide(self, day: dt.date, navs: Mapping[str, float]) -> None:
        """Today's new subscriptions and redemption notices (three draws per mandate, always)."""
        for mandate in self._mandates:
            happens, kind_draw, size_draw = self._rng.random(), self._rng.random(), self._rng.random()
            nav = navs.get(mandate.mandate_id, 0.0)
            if happens >= 1.0 / FLOW_ODDS or nav <= 0:
                continue
            unit = ROUND_AMOUNT[mandate.base_currency]
            share = SIZE_RANGE[0] + (SIZE_RANGE[1] - SIZE_RANGE[0]) * size_draw
            amount = max(
                unit, (Decimal(repr(nav * share)) / unit).to_integral_value(rounding=ROUND_FLOOR) * unit
            )
            if kind_draw < SUBSCRIPTION_SHARE:
                flow = InvestorFlow(
                    mandate.mandate_id, CashFlowKind.SUBSCRIPTION, amount, mandate.base_currency, day, day
                )
            else:
                pay = self._calendar.add(day, NOTICE_DAYS)
                flow = InvestorFlow(
                    mandate.mandate_id, CashFlowKind.REDEMPTION, -amount, mandate.base_currency, day, pay
                )
            self._scheduled.append(flow)

    def due(self, day: dt.date) -> list[InvestorFlow]:
        """Flows paid today, in the order they were decided; removed from the schedule."""
        due = [f for f in self._scheduled if f.pay_date <= day]
        if due:
            self._scheduled = [f for f in self._scheduled if f.pay_date > day]
        return due

    def upcoming(self, mandate_id: str) -> list[tuple[dt.date, Decimal]]:
        """(pay date, signed amount) of notified flows not yet paid."""
        return [(f.pay_date, f.amount) for f in self._scheduled if f.mandate_id == mandate_id]
