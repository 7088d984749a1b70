"""Follows market's stream for dq: every price and rate checked as it arrives, holdings and reference
data at each day end, the results turned into issues, all committed at the day end.

Effects are committed at day ends only (the day's issue changes, the values rejected that day,
the checks' counters, the cursor and the in-memory state in one transaction, services/dq/store.py),
so the stored cursor is the last day end: after a restart the events since then are checked again
from the state as it was then, and give the same issues and change numbers.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from opsuite.market.v1 import market_pb2
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
from services.common.market_events.decode import decode
from services.common.nav.book import DayEndBook, ReportingBook
from services.dq.domain.config import CheckSet
from services.dq.domain.fx import FxChecks
from services.dq.domain.holdings import check_weights
from services.dq.domain.issues import IssueBook, IssueChange
from services.dq.domain.prices import PriceChecks
from services.dq.domain.reference import check_identifiers
from services.dq.domain.results import CheckResult, Family
from services.dq.store import CheckCount, DayCommit, DqStore

# What dq reads: prices and rates, the regime (the curve, the day's volatility), and what moves the
# desk's book (to value each mandate's holdings at the day end).
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


@dataclass(frozen=True, slots=True)
class Recorded:
    """An issue change to write to the combined event log after its day end is committed."""

    change: IssueChange
    trace_id: str


class DqConsumer:
    """The apply/save pair the follower drives, and the cursor it resumes from."""

    def __init__(
        self,
        store: DqStore,
        checks: CheckSet,
        mandates: Iterable[Mandate],
        instruments: Iterable[Instrument],
        on_commit: Callable[[Sequence[Recorded]], None] | None = None,
    ) -> None:
        self.store = store
        self.checks = checks
        self.instruments = {i.instrument_id: i for i in instruments}
        self.book = ReportingBook(mandates, self.instruments.values())
        self.prices = PriceChecks(checks, self.instruments.values())
        self.fx = FxChecks(checks)
        self.issues = IssueBook()
        self.counts: dict[str, CheckCount] = {c.check_id: c for c in store.counts()}
        self._on_commit = on_commit
        self._day_changes: list[IssueChange] = []
        self._traces: dict[str, str] = {}  # market event id -> its trace id, for today's events
        self.cursor, self.as_of_date, state = store.load()
        if state:
            self._restore(json.loads(state))

    # ------------------------------------------------------------ the follower's side

    def load(self) -> int:
        return self.cursor

    def save(self, seq: int) -> None:
        """Nothing to commit between day ends: each day end commits itself."""

    def apply(self, events: Sequence[market_pb2.MarketEvent]) -> None:
        for message in events:
            event = decode(message)
            if message.envelope.traceparent:
                self._traces[event.event_id] = message.envelope.traceparent.split("-")[1]
            self._check(event)

    # ------------------------------------------------------------ checking

    def _check(self, event: MarketEvent) -> None:
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
        self._record(results, event.sim_time)
        if ends:
            self._commit(event, ends[0].date)

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

    def _record(self, results: Sequence[CheckResult], at: dt.datetime) -> None:
        for result in results:
            before = self.counts.get(result.check_id)
            checked, failed = (before.checked, before.failed) if before is not None else (0, 0)
            self.counts[result.check_id] = CheckCount(
                result.check_id, checked + 1, failed + (not result.success), at
            )
            self._day_changes += self.issues.apply(result, at)

    def _commit(self, event: MarketEvent, date: dt.date) -> None:
        for issue_id in sorted(self.store.acknowledged(), key=lambda i: int(i.removeprefix("dq-"))):
            issue = self.issues.get(issue_id)
            if issue is not None and not issue.acknowledged:
                self._day_changes.append(self.issues.acknowledge(issue_id))
        changes = self._day_changes
        quarantined = self.issues.quarantine()
        recorded = [Recorded(c, self._trace_of(c)) for c in changes]
        self.store.commit_day(
            DayCommit(
                cursor=event.seq,
                as_of_date=date,
                state=json.dumps(self._state(), separators=(",", ":")),
                changes=changes,
                rejected=[entry for entry in quarantined if entry.rejected_date == date],
                quarantined=quarantined,
                counts=sorted(self.counts.values(), key=lambda c: c.check_id),
                trace_ids={r.change.issue.issue_id: r.trace_id for r in recorded if r.trace_id},
            )
        )
        self.cursor, self.as_of_date = event.seq, date
        if self._on_commit is not None:
            self._on_commit(recorded)
        self._day_changes = []
        self._traces = {}

    def _trace_of(self, change: IssueChange) -> str:
        for event_id in change.issue.caused_by:
            if event_id in self._traces:
                return self._traces[event_id]
        return ""

    # ------------------------------------------------------------ state

    def _state(self) -> dict[str, object]:
        return {
            "book": self.book.to_json(),
            "prices": self.prices.to_json(),
            "fx": self.fx.to_json(),
            "issues": self.issues.to_json(),
        }

    def _restore(self, data: dict[str, object]) -> None:
        book, prices, fx, issues = data["book"], data["prices"], data["fx"], data["issues"]
        assert isinstance(book, str) and isinstance(prices, dict) and isinstance(fx, dict)
        assert isinstance(issues, dict)
        self.book.restore(book)
        self.prices.restore(prices)
        self.fx.restore(fx)
        self.issues = IssueBook.restore(issues)
