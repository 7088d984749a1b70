"""dq's records in the combined event log: each issue raised and each issue resolved, with the trace
of the market event that caused it, so `opsuite trace` walks from a tick to the issue it raised.

They are written to dq's store with the day end that made them (an outbox, store.py) and delivered
to the event log after the commit and at start-up: a crash between the two loses nothing. Event ids
are the issue's ("dq-12-raised"), so a record delivered twice is stored once.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
from collections.abc import Iterable
from typing import Protocol

from services.common.eventlog import DuplicateEvent, EventLog, NewRecord
from services.dq.domain.issues import ChangeKind, IssueChange

log = logging.getLogger(__name__)
SOURCE = "dq"
_BATCH = 200


def announcements(changes: Iterable[tuple[IssueChange, str]]) -> list[NewRecord]:
    """The records of (change, trace id) pairs: one per issue raised or resolved."""
    records = []
    for change, trace_id in changes:
        issue = change.issue
        if change.kind is ChangeKind.UPDATED:
            continue
        raised = change.kind is ChangeKind.RAISED
        happened = "raised" if raised else "resolved"
        at = issue.first_seen if raised else issue.resolved_at
        assert at is not None
        caused_by = issue.caused_by if raised else ((issue.resolved_by,) if issue.resolved_by else ())
        records.append(
            NewRecord(
                event_id=f"{issue.issue_id}-{happened}",
                kind=f"dq.issue.{happened}",
                sim_time=at,
                trace_id=trace_id,
                caused_by=tuple(caused_by),
                summary=f"{issue.issue_id} {happened}: {issue.message}",
            )
        )
    return records


def record_to_json(record: NewRecord) -> dict[str, object]:
    return {
        "event_id": record.event_id,
        "kind": record.kind,
        "sim_time": record.sim_time.isoformat(),
        "trace_id": record.trace_id,
        "caused_by": list(record.caused_by),
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
        summary=str(data["summary"]),
    )


class OutboxStore(Protocol):
    """The part of dq's store the relay uses."""

    def undelivered(self, limit: int) -> list[tuple[int, NewRecord]]: ...

    def mark_delivered(self, outbox_ids: list[int]) -> None: ...


class Relay:
    """Delivers the store's undelivered records to the event log, oldest first."""

    def __init__(self, store: OutboxStore, event_log: EventLog) -> None:
        self.store = store
        self.event_log = event_log

    def deliver(self) -> int:
        delivered = 0
        while True:
            pending = self.store.undelivered(_BATCH)
            if not pending:
                return delivered
            for _, record in pending:
                with contextlib.suppress(DuplicateEvent):  # delivered before a crash: once is enough
                    self.event_log.append(SOURCE, [record])
            self.store.mark_delivered([outbox_id for outbox_id, _ in pending])
            delivered += len(pending)
