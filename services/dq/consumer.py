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
from services.common.market_events import DayEnd, Instrument, Mandate, MarketEvent
from services.common.market_events.decode import decode
from services.dq.announcements import announcements
from services.dq.checking import CHECKED_KINDS, StreamChecks
from services.dq.domain.config import CheckSet
from services.dq.domain.issues import IssueBook, IssueChange
from services.dq.domain.results import CheckResult
from services.dq.ledger_view import LedgerFeed
from services.dq.store import CheckCount, DayCommit, DqStore

__all__ = ["CHECKED_KINDS", "DqConsumer", "Recorded"]


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
        ledger: LedgerFeed | None = None,
    ) -> None:
        self.store = store
        self.checks = checks
        # The checks themselves, shared with the pure replay (services/scoring/dq_replay.py).
        self.checking = StreamChecks(checks, mandates, instruments)
        self.instruments = self.checking.instruments
        self.book = self.checking.book
        self.prices = self.checking.prices
        self.fx = self.checking.fx
        self.counts: dict[str, CheckCount] = {c.check_id: c for c in store.counts()}
        self._on_commit = on_commit
        self._acknowledgements_seen = -1
        self.ledger = ledger
        self._day_changes: list[IssueChange] = []
        self._traces: dict[str, str] = {}  # market event id -> its trace id, for today's events
        self.cursor, self.as_of_date, state = store.load()
        if state:
            self.checking.restore(json.loads(state))

    @property
    def issues(self) -> IssueBook:
        return self.checking.issues

    # ------------------------------------------------------------ the follower's side

    def load(self) -> int:
        return self.cursor

    def save(self, seq: int) -> None:
        """Nothing to commit between day ends: each day end commits itself."""

    async def apply(self, events: Sequence[market_pb2.MarketEvent]) -> None:
        # A person's acknowledgements (AcknowledgeIssue, stored at once) reach the issues before the
        # batch's checks, so an issue that resolves in this batch was already seen as acknowledged.
        self._take_acknowledgements()
        for message in events:
            event = decode(message)
            if message.envelope.traceparent:
                self._traces[event.event_id] = message.envelope.traceparent.split("-")[1]
            await self._check(event)

    # ------------------------------------------------------------ checking

    async def _check(self, event: MarketEvent) -> None:
        ledger = None
        if self.ledger is not None and isinstance(event.payload, DayEnd):
            # The ledger's holdings as of this day end, once it has booked it (it may be behind).
            mandates = sorted(self.checking.book.mandates)
            ledger = await self.ledger.holdings(mandates, event.payload.date, event.seq)
        checked = self.checking.apply(event, ledger)
        self._record(checked.results, event.sim_time)
        self._day_changes += checked.changes
        if checked.day_end is not None:
            self._commit(event, checked.day_end)

    def _record(self, results: Sequence[CheckResult], at: dt.datetime) -> None:
        for result in results:
            before = self.counts.get(result.check_id)
            checked, failed = (before.checked, before.failed) if before is not None else (0, 0)
            self.counts[result.check_id] = CheckCount(
                result.check_id, checked + 1, failed + (not result.success), at
            )

    def _take_acknowledgements(self) -> None:
        if self._acknowledgements_seen == self.store.acknowledgements:
            return  # nothing acknowledged since the last read (the first read happens once a consumer is built)
        self._acknowledgements_seen = self.store.acknowledgements
        for issue_id in sorted(self.store.acknowledged(), key=lambda i: int(i.removeprefix("dq-"))):
            issue = self.issues.get(issue_id)
            if issue is not None and not issue.acknowledged:
                self._day_changes.append(self.issues.acknowledge(issue_id))

    def _commit(self, event: MarketEvent, date: dt.date) -> None:
        self._take_acknowledgements()
        changes = self._day_changes
        quarantined = self.issues.quarantine()
        recorded = [Recorded(c, self._trace_of(c)) for c in changes]
        records = announcements((r.change, r.trace_id) for r in recorded)
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
                records=records,
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
        return self.checking.to_json()
