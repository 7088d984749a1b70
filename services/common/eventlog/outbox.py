"""A service's records on their way to the combined event log: kept in the service's own store with
the commit that made them (an outbox), delivered after it and at start-up, so a crash between the
two loses nothing; and retried while the event log cannot take them (services/common/redelivery.py),
so records owed at a run's last commit arrive too. Event ids are the records' own, so a record
delivered twice is stored once. dq and documents use it."""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import threading
from typing import Protocol

from services.common.eventlog.base import EventLog
from services.common.eventlog.records import DuplicateEvent, EventLogError, NewRecord
from services.common.outages import BackendUnavailable

log = logging.getLogger(__name__)

_BATCH = 200


def record_to_json(record: NewRecord) -> dict[str, object]:
    return {
        "event_id": record.event_id,
        "kind": record.kind,
        "sim_time": record.sim_time.isoformat(),
        "trace_id": record.trace_id,
        "caused_by": list(record.caused_by),
        "mandate_id": record.mandate_id,
        "summary": record.summary,
    }


def record_from_json(data: dict[str, object]) -> NewRecord:
    caused_by = data["caused_by"]
    assert isinstance(caused_by, list)
    return NewRecord(
        event_id=str(data["event_id"]),
        kind=str(data["kind"]),
        sim_time=dt.datetime.fromisoformat(str(data["sim_time"])),
        trace_id=str(data["trace_id"]),
        caused_by=tuple(str(c) for c in caused_by),
        mandate_id=str(data.get("mandate_id", "")),
        summary=str(data["summary"]),
    )


class OutboxStore(Protocol):
    """The part of a service's store the relay uses."""

    def undelivered(self, limit: int) -> list[tuple[int, NewRecord]]: ...

    def mark_delivered(self, outbox_ids: list[int]) -> None: ...


class Relay:
    """Delivers the store's undelivered records to the event log as `source`, oldest first."""

    def __init__(self, store: OutboxStore, event_log: EventLog, source: str) -> None:
        self.store = store
        self.event_log = event_log
        self.source = source
        # One delivery at a time (after a commit, and a retry) keeps the records in commit order.
        self._lock = threading.Lock()

    def deliver_or_defer(self) -> bool:
        """Deliver what is owed; False, with a warning, when the event log cannot take it now (it
        stays in the outbox for a retry)."""
        try:
            self.deliver()
        except (EventLogError, BackendUnavailable) as error:
            log.warning(
                "the event log is unreachable: %s's records follow later",
                self.source,
                extra={"error": str(error)},
            )
            return False
        return True

    def deliver(self) -> int:
        with self._lock:
            return self._deliver()

    def _deliver(self) -> int:
        delivered = 0
        while True:
            pending = self.store.undelivered(_BATCH)
            if not pending:
                return delivered
            for _, record in pending:
                with contextlib.suppress(DuplicateEvent):  # delivered before a crash: once is enough
                    self.event_log.append(self.source, [record])
            self.store.mark_delivered([outbox_id for outbox_id, _ in pending])
            delivered += len(pending)
