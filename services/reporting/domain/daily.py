"""Market's events in, each mandate's valued day out: NAV and units, the benchmark's return, and the
day's weights and returns by group for attribution. Pure: the consumer persists what comes out."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal

from services.common.fx_rates import FxRates
from services.common.market_events import Instrument, Mandate, MarketEvent, currencies_of
from services.common.nav.book import DayEndBook, Quote, ReportingBook
from services.common.nav.valuation import DayValuation, Dealt, UnitRegister, value
from services.reporting.domain.exposure import (
    Currency,
    Exposure,
    benchmark_exposure,
    currency_days,
    daily_cash_rate,
    portfolio_exposure,
)
from services.reporting.domain.quarantine import QuarantinedPrice, RejectedPrice, unreplaceable_warning
from services.reporting.domain.total_returns import TotalReturns


@dataclass(frozen=True, slots=True)
class ValuedDay:
    valuation: DayValuation
    dealt: Dealt
    portfolio: Exposure | None  # None on the first day (nothing held the day before)
    benchmark: Exposure | None  # None until every segment has a priced constituent
    risk_free_return: Decimal = Decimal(0)  # the day's return of cash in the base currency
    quarantined: tuple[QuarantinedPrice, ...] = ()  # holdings valued at a last good price (provisional)

    @property
    def benchmark_return(self) -> Decimal | None:
        return self.benchmark.total_return if self.benchmark is not None else None


def _held_ids(valuation: DayValuation | None) -> set[str]:
    return set() if valuation is None else {h.instrument_id for h in valuation.holdings}


class DailyValuer:
    def __init__(self, mandates: Iterable[Mandate], instruments: Iterable[Instrument]) -> None:
        self.book = ReportingBook(mandates, instruments)
        self.total_returns = TotalReturns(self.book.instruments.values())
        self.registers = {mandate_id: UnitRegister() for mandate_id in self.book.mandates}
        self.previous: dict[str, DayValuation] = {}  # each mandate's last valued day end
        self.fx_before: FxRates | None = None  # the primary rates at the previous day end

    def apply(self, event: MarketEvent, rejected: Iterable[RejectedPrice] = ()) -> list[ValuedDay]:
        """Move the book past one event; at a day end, every mandate valued. rejected: the day's
        primary prices dq quarantined (domain/quarantine.py), valued at their last good price."""
        ends = self.book.apply(event)
        return self._value(ends, rejected) if ends else []

    def _value(self, ends: list[DayEndBook], rejected: Iterable[RejectedPrice]) -> list[ValuedDay]:
        day = ends[0].date
        weighted_on = self.total_returns.previous_date
        replaced, unreplaceable = self._replacements(day, rejected)
        # A quarantined price makes no move today: the next good price moves from the last good one.
        closes = {
            iid: (quote.price, quote.accrued_per_100)
            for iid, quote in self.book.quotes.items()
            if quote.price_date == day and iid not in replaced
        }
        moves = self.total_returns.day_end(day, closes, self.book.ex_today)
        elapsed = (day - weighted_on).days if weighted_on is not None else 0
        cash_rate = daily_cash_rate(self.book.fed_funds_pct, elapsed)
        valued = []
        for end in ends:
            mandate_id = end.mandate.mandate_id
            valuation, quarantined = self._valuation(end, replaced, unreplaceable)
            before = self.previous.get(mandate_id)
            currencies = self._currency_days(end.mandate, before, cash_rate)
            portfolio = (
                portfolio_exposure(before, self.book.instruments, moves, currencies)
                if before is not None
                else None
            )
            benchmark = (
                benchmark_exposure(end.mandate, self.book.instruments, weighted_on, moves, currencies)
                if weighted_on is not None
                else None
            )
            risk_free = cash_rate.get(end.mandate.base_currency, Decimal(0))
            dealt = self.registers[mandate_id].deal(valuation)
            valued.append(ValuedDay(valuation, dealt, portfolio, benchmark, risk_free, quarantined))
            self.previous[mandate_id] = valuation
        self.fx_before = FxRates(self.book.fx.pairs)
        return valued

    def _replacements(
        self, day: dt.date, rejected: Iterable[RejectedPrice]
    ) -> tuple[dict[str, tuple[RejectedPrice, Quote]], list[RejectedPrice]]:
        """The day's rejected official prices with the quote to value at instead, and those with no
        good price to fall back on. A rejection that is not about today's official price is ignored."""
        replaced: dict[str, tuple[RejectedPrice, Quote]] = {}
        unreplaceable = []
        for r in rejected:
            quote = self.book.quotes.get(r.instrument_id)
            if quote is None or quote.price_date != day or quote.price != r.rejected:
                continue
            if r.last_good is None or r.last_good_date is None:
                unreplaceable.append(r)
                continue
            replaced[r.instrument_id] = (r, Quote(r.last_good, r.last_good_date, quote.accrued_per_100))
        return replaced, unreplaceable

    def _valuation(
        self,
        end: DayEndBook,
        replaced: Mapping[str, tuple[RejectedPrice, Quote]],
        unreplaceable: Sequence[RejectedPrice],
    ) -> tuple[DayValuation, tuple[QuarantinedPrice, ...]]:
        """The mandate valued at the last good price of each quarantined holding, with each one's
        effect against the official valuation."""
        official = value(end, self.book.instruments)
        held = [iid for iid in sorted(replaced) if end.positions.get(iid)]
        warnings = [unreplaceable_warning(r) for r in unreplaceable if end.positions.get(r.instrument_id)]
        if not held:
            return (replace(official, warnings=(*official.warnings, *warnings)) if warnings else official), ()
        quotes = {**end.quotes, **{iid: replaced[iid][1] for iid in held}}
        valuation = value(replace(end, quotes=quotes), self.book.instruments)
        before = {h.instrument_id: h.base_market_value + h.base_accrued_interest for h in official.holdings}
        after = {h.instrument_id: h.base_market_value + h.base_accrued_interest for h in valuation.holdings}
        quarantined = tuple(
            QuarantinedPrice(
                iid,
                replaced[iid][0].issue_id,
                replaced[iid][0].rejected,
                replaced[iid][1].price,
                replaced[iid][1].price_date,
                after[iid] - before[iid],
            )
            for iid in held
        )
        ccy = end.mandate.base_currency
        warnings += [q.warning(ccy) for q in quarantined]
        return replace(valuation, warnings=(*valuation.warnings, *warnings)), quarantined

    def _currency_days(
        self, mandate: Mandate, before: DayValuation | None, cash_rate: Mapping[str, Decimal]
    ) -> dict[str, Currency]:
        """The day of every currency the mandate, its benchmark or yesterday's book holds."""
        base = mandate.base_currency
        held = {*currencies_of(mandate), *(s.currency for s in mandate.benchmark_segments)}
        held |= {i.currency for i in self.book.instruments.values() if i.instrument_id in _held_ids(before)}
        if before is not None:
            held |= {c.currency for c in before.cash}
        fx_before = self.fx_before

        def rate_before(currency: str) -> Decimal:
            assert fx_before is not None
            try:
                return fx_before.rate(currency, base)
            except ValueError:  # no rate yet at the previous day end: no move measured today
                return Decimal(0)

        return currency_days(
            base,
            sorted(held),
            rate_before if fx_before is not None else None,
            lambda currency: self.book.fx.rate(currency, base),
            cash_rate,
        )

    def to_json(self) -> str:
        return json.dumps(
            {
                "book": self.book.to_json(),
                "total_returns": self.total_returns.to_json(),
                "fx_before": None
                if self.fx_before is None
                else {pair: str(rate) for pair, rate in self.fx_before.pairs.items()},
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
        fx_before = data.get("fx_before")
        self.fx_before = (
            None if fx_before is None else FxRates({pair: Decimal(r) for pair, r in fx_before.items()})
        )
        for mandate_id, (units, last_nav) in data["units"].items():
            if mandate_id in self.registers:
                self.registers[mandate_id] = UnitRegister(
                    Decimal(units), None if last_nav is None else Decimal(last_nav)
                )
        self.previous = dict(previous)
