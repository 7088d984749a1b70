"""dq's issue records reach the combined event log through an outbox: written with the day end that
made them, delivered after it, so a crash in between loses nothing and a second delivery adds nothing."""

from __future__ import annotations

import pathlib

from services.common.eventlog import open_event_log
from services.common.eventlog.outbox import Relay
from services.dq.announcements import SOURCE
from services.dq.store import IssueFilter, open_store
from tests.dq.service.conftest import FILLED_DAYS, fill


def test_every_issue_raised_and_resolved_is_delivered_once_even_after_a_crash_before_delivery(
    tmp_path: pathlib.Path,
) -> None:
    store = open_store(tmp_path / "dq")
    # The consumer commits its day ends with no relay: as if dq died after each commit.
    fill(store, FILLED_DAYS)
    issues = store.issues(IssueFilter(), 0, 1000)
    expected = {f"{i.issue_id}-raised" for i in issues} | {
        f"{i.issue_id}-resolved" for i in issues if i.status.value == "RESOLVED"
    }
    pending = store.undelivered(1000)
    assert {record.event_id for _, record in pending} == expected
    event_log = open_event_log(None, tmp_path / "log")
    relay = Relay(store, event_log, SOURCE)
    assert relay.deliver() == len(expected)  # what the restarted dq does first
    assert relay.deliver() == 0 and not store.undelivered(10)
    logged = event_log.read(SOURCE, 1, 1000)
    assert sorted(r.event_id for r in logged) == sorted(expected)
    raised = next(r for r in logged if r.event_id == f"{issues[-1].issue_id}-raised")
    # Caused by what raised it (the issue's first evidence; later updates move the issue's own).
    assert raised.kind == "dq.issue.raised" and raised.caused_by == issues[-1].evidence[0].caused_by
    # The same events make the same records (their ids follow the issues'): a replay's second
    # delivery is a duplicate the event log refuses.
    again = open_store(tmp_path / "dq-again")
    fill(again, FILLED_DAYS)
    assert [r.event_id for _, r in again.undelivered(1000)] == [r.event_id for _, r in pending]
    event_log.close()
    store.close()
    again.close()
