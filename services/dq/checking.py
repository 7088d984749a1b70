"""dq's checks of market's stream, one event at a time, with no storage: what the service's consumer
runs (services/dq/consumer.py) and what a replay of a simulation through dq runs
(services/scoring/dq_replay.py), so both raise the same issues from the same events.

Prices and rates are checked as they arrive (PriceChecks, FxChecks); each mandate's book follows the
events that move it (ReportingBook), and at each day end the held instruments' prices, the
holdings' weights and the instruments' identifiers are checked. Every result goes through the
IssueBook in the order it came. Committing (a day end's changes, the cursor, the counters) and
acknowledgements are the consumer's.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from services.common.market_events import (
    Book,
    CustodianStatement,
    FxQuote,
    Instrument,
    Mandate,
    MarketEvent,
    PriceQuote,
    RegimeState,
)
from services.common.nav.book import DayEndBook, ReportingBook
from services.dq.domain.config import CheckSet
from services.dq.domain.fx import FxChecks
from services.dq.domain.holdings import check_weights
from services.dq.domain.issues import IssueBook, IssueChange
from services.dq.domain.prices import PriceChecks
from services.dq.domain.reference import check_identifiers
from services.dq.domain.results import CheckResult, Family

# What dq reads: prices and rates, the regime (the curve, the day's volatility), and what moves the
# desk's book (to value each mandate's holdings at the day end). Market streams the kinds that
# start with one of these.
CHECKED_KINDS = (
    "market.regime",
    "fee.accrued",
    "price.",
    "fx.rate",
    "trade.fill",
    "trade.fx",
    "corporate_action.announced",
    "cashflow.",
    "custodian.statement",
    "clock.day_end",
)


def is_checked(kind: str) -> bool:
    """Whether dq subscribes to events of this kind (market's filter: the kind starts with one)."""
    return kind.startswith(CHECKED_KINDS)


@dataclass(frozen=True, slots=True)
class Checked:
    """What one event did: its check results in order, the issue changes they made, and the
    business date it closed (a clock.day_end; None otherwise)."""

    results: list[CheckResult]
    changes: list[IssueChange]
    day_end: dt.date | None


class StreamChecks:
    """The checks' state (prices, rates, the mandates' books) and the issues, fed one event at a time."""

    def __init__(
        self, checks: CheckSet, mandates: Iterable[Mandate], instruments: Iterable[Instrument]
    ) -> None:
        self.checks = checks
        self.instruments = {i.instrument_id: i for i in instruments}
        self.book = ReportingBook(mandates, self.instruments.values())
        self.prices = PriceChecks(checks, self.instruments.values())
        self.fx = FxChecks(checks)
        self.issues = IssueBook()

    def apply(self, event: MarketEvent) -> Checked:
        """Checks one event and applies its results to the issues at the event's simulated time."""
        payload = event.payload
        results: list[CheckResult] = []
        if isinstance(payload, RegimeState):
            self.prices.regime(event.event_id, payload)
        elif isinstance(payload, PriceQuote):
            if payload.vendor == "primary":
                results = self.prices.primary(event.event_id, payload)
            else:
                results = self.prices.vendor(event.event_id, payload)
        elif isinstance(payload, FxQuote):
            results = self.fx.rate(event.event_id, payload)
        elif isinstance(payload, CustodianStatement):
            pass  # statements feed the holdings comparisons (not yet checked: see docs/data-quality.md)
        ends = self.book.apply(event)
        if ends:
            results += self._day_end(event, ends)
        changes = [change for result in results for change in self.issues.apply(result, event.sim_time)]
        return Checked(results, changes, ends[0].date if ends else None)

    def _day_end(self, event: MarketEvent, ends: Sequence[DayEndBook]) -> list[CheckResult]:
        date = ends[0].date
        held = {iid for end in ends for iid, quantity in end.positions.items() if quantity}
        results = self.prices.day_end(date, held)
        for end in ends:
            check = self.checks.select(Family.HOLDINGS, "weights", {"mandate_id": end.mandate.mandate_id})
            if check is None:
                continue
            book = Book(end.mandate.mandate_id, end.positions, end.cash)
            prices = {iid: quote.price for iid, quote in end.quotes.items() if quote.price_date == date}
            results.append(
                check_weights(
                    check, book, end.mandate.base_currency, self.instruments, prices, end.fx.pairs, date,
                    (event.event_id,),
                )
            )  # fmt: skip
        for instrument in self.instruments.values():
            results += check_identifiers(
                self.checks,
                instrument.instrument_id,
                instrument.isin,
                instrument.cusip,
                instrument.sector,
                instrument.currency,
                date,
                {"asset_class": instrument.asset_class.value, "market": instrument.market},
            )
        return results

    # ------------------------------------------------------------ state

    def to_json(self) -> dict[str, object]:
        return {
            "book": self.book.to_json(),
            "prices": self.prices.to_json(),
            "fx": self.fx.to_json(),
            "issues": self.issues.to_json(),
        }

    def restore(self, data: Mapping[str, Any]) -> None:
        book, prices, fx, issues = data["book"], data["prices"], data["fx"], data["issues"]
        assert isinstance(book, str) and isinstance(prices, dict) and isinstance(fx, dict)
        assert isinstance(issues, dict)
        self.book.restore(book)
        self.prices.restore(prices)
        self.fx.restore(fx)
        self.issues = IssueBook.restore(issues)
