"""dq's checks of market's stream, one event at a time, with no storage: what the service's consumer
runs (services/dq/consumer.py) and what a replay of a simulation through dq runs
(services/scoring/dq_replay.py), so both raise the same issues from the same events.

Prices and rates are checked as they arrive (PriceChecks, FxChecks); each mandate's book follows the
events that move it (ReportingBook), the custodian's trade-date positions follow its bookings and
statements (domain/custodian_feed.py), and at each day end the held instruments' prices, the
holdings' weights, the holdings feeds against each other (book, custodian and, where the caller
gives it, the ledger, with the ledger's market values) and the instruments' identifiers are checked. Every result goes through the
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
    CustodianCorrection,
    CustodianStatement,
    CustodianTrade,
    FxQuote,
    Instrument,
    Mandate,
    MarketEvent,
    PriceQuote,
    RegimeState,
    SettlementStatus,
)
from services.common.nav.book import DayEndBook, ReportingBook
from services.dq.domain.config import CheckSet
from services.dq.domain.custodian_feed import CustodianFeed
from services.dq.domain.fx import FxChecks
from services.dq.domain.holdings import FeedHoldings, check_market_values, check_weights, compare_feeds
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
    "custodian.trade",
    "custodian.settlement",
    "custodian.correction",
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
        self.custodian = CustodianFeed()
        self.statements: dict[str, CustodianStatement] = {}  # today's, by mandate
        self.issues = IssueBook()

    def apply(self, event: MarketEvent, ledger: Mapping[str, FeedHoldings] | None = None) -> Checked:
        """Checks one event and applies its results to the issues at the event's simulated time.
        ledger: at a day end, each mandate's holdings in the ledger as of it (None: no ledger)."""
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
        elif isinstance(payload, CustodianTrade):
            self.custodian.booked(payload)
        elif isinstance(payload, SettlementStatus):
            self.custodian.settlement(payload)
        elif isinstance(payload, CustodianCorrection):
            self.custodian.corrected(payload)
        elif isinstance(payload, CustodianStatement):
            self.statements[payload.book.mandate_id] = payload
        ends = self.book.apply(event)
        if ends:
            results += self._day_end(event, ends, ledger)
            self.statements = {}
        changes = [change for result in results for change in self.issues.apply(result, event.sim_time)]
        return Checked(results, changes, ends[0].date if ends else None)

    def _day_end(
        self, event: MarketEvent, ends: Sequence[DayEndBook], ledger: Mapping[str, FeedHoldings] | None
    ) -> list[CheckResult]:
        date = ends[0].date
        held = {iid for end in ends for iid, quantity in end.positions.items() if quantity}
        results = self.prices.day_end(date, held)
        for end in ends:
            results += self._holdings(event, end, ledger.get(end.mandate.mandate_id) if ledger else None)
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

    def _holdings(
        self, event: MarketEvent, end: DayEndBook, ledger: FeedHoldings | None
    ) -> list[CheckResult]:
        mandate_id, date = end.mandate.mandate_id, end.date
        prices = {iid: quote.price for iid, quote in end.quotes.items() if quote.price_date == date}
        results = []
        check = self.checks.select(Family.HOLDINGS, "weights", {"mandate_id": mandate_id})
        if check is not None:
            book = Book(mandate_id, end.positions, end.cash)
            results.append(
                check_weights(
                    check, book, end.mandate.base_currency, self.instruments, prices, end.fx.pairs, date,
                    (event.event_id,),
                )
            )  # fmt: skip
        statement = self.statements.get(mandate_id)
        book_positions = {iid: quantity for iid, quantity in end.positions.items() if quantity}
        results += compare_feeds(
            self.checks,
            mandate_id,
            book_positions,
            self.custodian.positions(statement) if statement is not None else None,
            dict(ledger.positions) if ledger is not None else None,
            date,
            (event.event_id,),
        )
        check = self.checks.select(Family.HOLDINGS, "market_value", {"mandate_id": mandate_id})
        if check is not None and ledger is not None:
            results.append(
                check_market_values(
                    check, mandate_id, ledger.market_values, self.instruments, prices, date, (event.event_id,)
                )
            )
        return results

    # ------------------------------------------------------------ state

    def to_json(self) -> dict[str, object]:
        return {
            "book": self.book.to_json(),
            "prices": self.prices.to_json(),
            "fx": self.fx.to_json(),
            "custodian": self.custodian.to_json(),
            "issues": self.issues.to_json(),
        }

    def restore(self, data: Mapping[str, Any]) -> None:
        book, prices, fx, issues = data["book"], data["prices"], data["fx"], data["issues"]
        assert isinstance(book, str) and isinstance(prices, dict) and isinstance(fx, dict)
        assert isinstance(issues, dict)
        self.book.restore(book)
        self.prices.restore(prices)
        self.fx.restore(fx)
        self.custodian.restore(data.get("custodian", {}))
        self.issues = IssueBook.restore(issues)
