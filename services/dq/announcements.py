"""dq's records in the combined event log: each issue raised and each issue resolved, with the trace
of the market event that caused it, so `opsuite trace` walks from a tick to the issue it raised.

They are written to dq's store with the day end that made them (an outbox, store.py) and delivered
to the event log after the commit and at start-up by the platform's relay
(services/common/eventlog/outbox.py). Event ids are the issue's ("dq-12-raised"), so a record
delivered twice is stored once.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from services.common.eventlog import NewRecord
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
