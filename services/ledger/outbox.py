"""The ledger's transactional outbox: journals announced by store.post() reach the event log.

post(..., announce=kind) writes an outbox row in the journal's own transaction, so a crash after
the commit cannot lose the event-log record: the relay delivers whatever is undelivered, right
after each PostJournal and at startup. Appending is idempotent (the record's event id is derived
from the journal id), so a record delivered twice, by two relays or a crash before mark_delivered,
is stored once.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import threading

from opsuite.ledger.v1 import ledger_pb2
from services.common.eventlog import DuplicateEvent, EventLog, EventLogError, NewRecord
from services.common.outages import BackendUnavailable
from services.common.redelivery import Redelivery
from services.ledger import codec
from services.ledger.domain.records import Journal
from services.ledger.store import LedgerStore

log = logging.getLogger(__name__)

SOURCE = "ledger"
POSTED = "journal.posted"
REVERSED = "journal.reversed"
_BATCH = 100


def announcement(journal: Journal, kind: str) -> NewRecord:
    """The event-log record of a posted journal."""
    draft = journal.draft
    kind_name = ledger_pb2.JournalKind.Name(codec.kind_to_proto(draft.kind))
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

    async def _attempt(self) -> bool:
        try:
            await asyncio.to_thread(self.deliver)
        except BackendUnavailable as error:
            log.warning(
                "the event log is unreachable: its records follow when it answers",
                extra={"error": str(error)},
            )
            return False
        return True

    async def deliver_now(self) -> None:
        """Deliver what is undelivered; during an outage leave it to run() (the journals are committed,
        their records follow once the backend answers)."""
        if not await self._attempt():
            self.redelivery.ask()

    async def run(self, stopping: asyncio.Event) -> None:
        """Until stopping: whenever a delivery failed, retry it with backoff until it succeeds."""
        await self.redelivery.run(stopping)

    def deliver(self) -> int:
        """Append every undelivered item, one append per item; returns how many were delivered.

        An item already in the log (DuplicateEvent) counts as delivered. On any other error the
        items appended so far are marked and the error propagates: the failed item and those after
        it stay undelivered for the next call.
        """
        delivered = 0
        with self._lock:
            while items := self.store.undelivered(_BATCH):
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
