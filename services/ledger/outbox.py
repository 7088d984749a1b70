"""The ledger's transactional outbox: journals announced by store.post() reach the event log.

post(..., announce=kind) writes an outbox row in the journal's own transaction, so a crash after
the commit cannot lose the event-log record: the relay delivers whatever is undelivered, right
after each PostJournal, after each committed batch of market's stream and at startup. Appending is
idempotent (the record's event id is derived from the journal id, and a journal is posted once per
idempotency key, so once per source event), so a record delivered twice, by two relays or a crash
before mark_delivered, is stored once.

Two kinds of journal are announced: those posted through PostJournal and ReverseJournal
(journal.posted / journal.reversed, caused by what the caller named), and the journals booked from
market's stream that a chain follows (journal.booked, stream_kind): trades, settlements and cash
flows, each caused by the market event(s) it booked (stream_causes). The daily marks, FX
revaluations and accruals are not announced (docs/ledger-design.md, "Event-log records").
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import threading
from collections.abc import Mapping

from opsuite.ledger.v1 import ledger_pb2
from services.common.eventlog import DuplicateEvent, EventLog, EventLogError, NewRecord
from services.common.outages import BackendUnavailable
from services.common.redelivery import Redelivery
from services.ledger import codec
from services.ledger.domain import chart
from services.ledger.domain.records import Journal, JournalDraft, JournalKind, Posting
from services.ledger.store import LedgerStore

log = logging.getLogger(__name__)

SOURCE = "ledger"
POSTED = "journal.posted"
REVERSED = "journal.reversed"
BOOKED = "journal.booked"  # a journal booked from market's stream
# The stream journals a chain follows: what booked a trade, its settlement and a cash flow. Not the
# marks, FX revaluations and accruals: every position or mandate every day, caused by no trade.
ANNOUNCED_STREAM_KINDS = frozenset(
    {
        JournalKind.TRADE,
        JournalKind.SETTLEMENT,
        JournalKind.DIVIDEND,
        JournalKind.COUPON,
        JournalKind.FEE,
        JournalKind.SUBSCRIPTION,
        JournalKind.REDEMPTION,
    }
)
_BATCH = 100
# The leg a booked journal's summary names: the first on a cash or pending-settlement account (the
# money the journal moves), else its first leg.
_MONEY_ACCOUNTS = ("Assets:Cash:", "Assets:PendingSettlement:", "Liabilities:PendingSettlement:")


def stream_kind(draft: JournalDraft) -> str | None:
    """The outbox kind of a journal booked from market's stream: BOOKED for the kinds a chain
    follows, None (not announced) for the others."""
    return BOOKED if draft.kind in ANNOUNCED_STREAM_KINDS else None


def stream_causes(draft: JournalDraft) -> tuple[str, ...]:
    """The market events a stream journal booked: its source event; for a settlement also what the
    settlement settles (the settlement event's own causes: the custodian's booking and the fill, or
    the FX deal), so a chain reaching the fill reaches the journal of its settlement too."""
    if draft.kind is JournalKind.SETTLEMENT:
        return (draft.source_event_id, *(c for c in draft.caused_by if c != draft.source_event_id))
    return (draft.source_event_id,)


def _money_leg(postings: tuple[Posting, ...]) -> Posting:
    return next((p for p in postings if p.account.startswith(_MONEY_ACCOUNTS)), postings[0])


def announcement(journal: Journal, kind: str) -> NewRecord:
    """The event-log record of a posted journal."""
    draft = journal.draft
    kind_name = ledger_pb2.JournalKind.Name(codec.kind_to_proto(draft.kind))
    if kind == BOOKED:
        leg = _money_leg(draft.postings)
        side = "Dr" if leg.amount >= 0 else "Cr"
        return NewRecord(
            event_id=f"ldg-{journal.journal_id}",
            kind=kind,
            # A stream journal belongs to the moment of the event it booked, right after it.
            sim_time=draft.sim_time,
            trace_id=draft.trace_id,
            caused_by=stream_causes(draft),
            mandate_id=draft.mandate_id,
            summary=f"journal {journal.journal_id} ({kind_name}) booked {draft.source_event_id}: "
            f"{side} {leg.account} {chart.quantize_money(abs(leg.amount), leg.currency):,} {leg.currency};"
            f" {draft.memo}",
        )
    return NewRecord(
        event_id=f"ldg-{journal.journal_id}",
        kind=kind,
        # A manual journal belongs to its accounting day, after that day's events.
        sim_time=dt.datetime.combine(draft.effective_date, dt.time(23, 59, 59, 999999), tzinfo=dt.UTC),
        trace_id=draft.trace_id,
        caused_by=tuple(draft.caused_by),
        mandate_id=draft.mandate_id,
        summary=f"journal {journal.journal_id} ({kind_name}) posted by {draft.posted_by}: {draft.memo}",
    )


class OutboxRelay:
    """Delivers the store's undelivered outbox items to the event log, oldest first."""

    def __init__(
        self,
        store: LedgerStore,
        event_log: EventLog,
        *,
        retry_initial_s: float = 0.25,
        retry_max_s: float = 5.0,
    ) -> None:
        self.store = store
        self.event_log = event_log
        # One delivery at a time in this process keeps the log in posting order.
        self._lock = threading.Lock()
        self.redelivery = Redelivery(
            "the ledger's event-log records", self._attempt, initial_s=retry_initial_s, max_s=retry_max_s
        )

    async def _attempt(self, posted: Mapping[int, Journal] | None = None) -> bool:
        try:
            await asyncio.to_thread(self.deliver, posted)
        except BackendUnavailable as error:
            log.warning(
                "the event log is unreachable: its records follow when it answers",
                extra={"error": str(error)},
            )
            return False
        return True

    async def deliver_now(self, posted: Mapping[int, Journal] | None = None) -> None:
        """Deliver what is undelivered; during an outage leave it to run() (the journals are committed,
        their records follow once the backend answers). posted: as for deliver()."""
        if not await self._attempt(posted):
            self.redelivery.ask()

    async def run(self, stopping: asyncio.Event) -> None:
        """Until stopping: whenever a delivery failed, retry it with backoff until it succeeds."""
        await self.redelivery.run(stopping)

    def deliver(self, posted: Mapping[int, Journal] | None = None) -> int:
        """Append every undelivered item; returns how many were delivered. posted: journals just
        committed by the caller, by ledger_seq (store.post's results), announced as they are instead
        of being read back (the consumer hands its batch's).

        Each batch of items is first appended at once (one transaction of the log, a stream batch
        books hundreds); when the log refuses the batch (an item already in it, or one it will never
        take: nothing of the batch is written then), its items are appended one at a time. An item
        already in the log (DuplicateEvent) counts as delivered. On any other error the items
        appended so far are marked and the error propagates: the failed item and those after it
        stay undelivered for the next call.
        """
        delivered = 0
        with self._lock:
            while items := self.store.undelivered(_BATCH, posted):
                if len(items) > 1:
                    try:
                        self.event_log.append(SOURCE, [announcement(i.journal, i.kind) for i in items])
                    except (ValueError, EventLogError):
                        pass  # one at a time below says which
                    else:
                        self.store.mark_delivered([item.outbox_id for item in items])
                        delivered += len(items)
                        continue
                done: list[int] = []
                try:
                    for item in items:
                        try:
                            self.event_log.append(SOURCE, [announcement(item.journal, item.kind)])
                        except DuplicateEvent:
                            pass  # already there: delivered before
                        except (ValueError, EventLogError) as refused:
                            # The log will never take this record: keeping it first in the outbox
                            # would block every record after it. Said loudly, then passed over.
                            log.error(
                                "the event log refused a journal's record; it is left out of the log",
                                extra={"journal_id": item.journal.journal_id, "error": str(refused)},
                            )
                        done.append(item.outbox_id)
                finally:
                    if done:
                        self.store.mark_delivered(done)
                delivered += len(done)
        return delivered
