"""What recon writes to the combined event log about its breaks, as plain records.

The checker appends them (services/recon/checker.py); they are kept in the followed state as
an outbox until appended, so a crash between the check's commit and the append loses nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from services.recon.domain.breaks import Advanced
from services.recon.domain.records import ActionKind


@dataclass(frozen=True, slots=True)
class LogEntry:
    """One record for the combined event log (services.common.eventlog.NewRecord, with no payload)."""

    event_id: str
    kind: str
    sim_time: dt.datetime
    trace_id: str = ""
    caused_by: tuple[str, ...] = ()
    mandate_id: str = ""
    summary: str = ""


_LOG_KINDS = {
    ActionKind.OPENED: "break.opened",
    ActionKind.REOPENED: "break.opened",
    ActionKind.AGED: "break.aged",
    ActionKind.ESCALATED: "break.escalated",
    ActionKind.AUTO_RESOLVED: "break.resolved",
}


def log_records(advanced: Advanced, date: dt.date, sim_time: dt.datetime) -> list[LogEntry]:
    """The combined event log's record of each opening, aging, escalation and resolution of a break."""
    by_id = {b.break_id: b for b in advanced.changed}
    records: list[LogEntry] = []
    for action in advanced.actions:
        kind = _LOG_KINDS.get(action.kind)
        brk = by_id.get(action.break_id)
        if kind is None or brk is None:
            continue
        verb = kind.removeprefix("break.")
        if action.kind is ActionKind.AGED:
            what = f"aged into bucket {brk.aging_bucket} ({brk.age_business_days} business days)"
        elif action.kind is ActionKind.ESCALATED:
            what = f"escalated: {brk.escalation_reason}"
        elif action.kind is ActionKind.AUTO_RESOLVED:
            what = "resolved: the difference went away"
        else:
            what = f"opened: {brk.kind.value.lower()}, {brk.description}"
        records.append(
            LogEntry(
                event_id=f"rec-{brk.break_id}-{verb}-{date.isoformat()}",
                kind=kind,
                sim_time=sim_time,
                trace_id=brk.trace_id,
                caused_by=brk.caused_by,
                mandate_id=brk.mandate_id,
                summary=f"break {brk.break_id} {what}",
            )
        )
    return records
