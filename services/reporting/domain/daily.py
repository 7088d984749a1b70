"""Market's events in, each mandate's valued day out: NAV and units, the benchmark's return, and the
day's weights and returns by group for attribution. Pure: the consumer persists what comes out."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from services.common.market_events import Instrument, Mandate, MarketEvent
from services.common.nav.book import DayEndBook, ReportingBook
from services.common.nav.valuation import DayValuation, Dealt, UnitRegister, value
from services.reporting.domain.exposure import (
    Exposure,
    benchmark_exposure,
    daily_cash_rate,
    portfolio_exposure,
)
from services.reporting.domain.total_returns import TotalReturns


@dataclass(frozen=True, slots=True)
class ValuedDay:
    valuation: DayValuation
    dealt: Dealt
    portfolio: Exposure | None  # None on the first day (nothing held the day before)
    benchmark: Exposure | None  # None until every segment has a priced constituent
    risk_free_return: Decimal = Decimal(0)  # the day's return of cash in the base currency

    @property
    def benchmark_return(self) -> Decimal | None:
        return self.benchmark.total_return if self.benchmark is not None else None


class DailyValuer:
    def __init__(self, mandates: Iterable[Mandate], instruments: Iterable[Instrument]) -> None:
        self.book = ReportingBook(mandates, instruments)
        self.total_returns = TotalReturns(self.book.instruments.values())
        self.registers = {mandate_id: UnitRegister() for mandate_id in self.book.mandates}
        self.previous: dict[str, DayValuation] = {}  # each mandate's last valued day end

    def apply(self, event: MarketEvent) -> list[ValuedDay]:
        ends = self.book.apply(event)
        return self._value(ends) if ends else []

    def _value(self, ends: list[DayEndBook]) -> list[ValuedDay]:
        day = ends[0].date
        weighted_on = self.total_returns.previous_date
        closes = {
            iid: (quote.price, quote.accrued_per_100)
            for iid, quote in self.book.quotes.items()
            if quote.price_date == day
        }
        moves = self.total_returns.day_end(day, closes, self.book.ex_today)
        elapsed = (day - weighted_on).days if weighted_on is not None else 0
        cash_rate = daily_cash_rate(self.book.fed_funds_pct, elapsed)
        valued = []
        for end in ends:
            mandate_id = end.mandate.mandate_id
            valuation = value(end, self.book.instruments)
            before = self.previous.get(mandate_id)
            portfolio = (
                portfolio_exposure(before, self.book.instruments, moves) if before is not None else None
            )
            benchmark = (
                benchmark_exposure(end.mandate, self.book.instruments, weighted_on, moves, cash_rate)
                if weighted_on is not None
                else None
            )
            risk_free = cash_rate.get(end.mandate.base_currency, Decimal(0))
            dealt = self.registers[mandate_id].deal(valuation)
            valued.append(ValuedDay(valuation, dealt, portfolio, benchmark, risk_free))
            self.previous[mandate_id] = valuation
        return valued

    def to_json(self) -> str:
        return json.dumps(
            {
                "book": self.book.to_json(),
                "total_returns": self.total_returns.to_json(),
                "units": {
                    mandate_id: [str(r.units), None if r.last_nav is None else str(r.last_nav)]
                    for mandate_id, r in self.registers.items()
                },
            }
        )

    def restore(self, text: str, previous: dict[str, DayValuation]) -> None:
        """The state of to_json, with each mandate's last valued day end (kept by the store)."""
        data = json.loads(text)
        self.book.restore(data["book"])
        self.total_returns.restore(data["total_returns"])
        for mandate_id, (units, last_nav) in data["units"].items():
            if mandate_id in self.registers:
                self.registers[mandate_id] = UnitRegister(
                    Decimal(units), None if last_nav is None else Decimal(last_nav)
                )
        self.previous = dict(previous)
