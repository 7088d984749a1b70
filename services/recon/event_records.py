"""recon's records in the combined event log: appended after each check, idempotently.

A check's records are kept in the followed state (its outbox, committed with the check) until
appended, so a crash between the commit and the append repeats the append after a restart;
DuplicateEvent means a record is already there.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import logging
from collections.abc import Sequence

from services.common.eventlog import DuplicateEvent, EventLog, NewRecord
from services.recon.domain.log_entries import LogEntry
from services.recon.domain.records import ActionKind, Break
from services.recon.peers import SOURCE
from services.recon.store import ReconStore

log = logging.getLogger(__name__)


def suspense_record(brk: Break, sim_time: dt.datetime) -> NewRecord:
    """The record of a break posted to the ledger's suspense."""
    return NewRecord(
        event_id=f"rec-{brk.break_id}-suspense_posted",
        kind="break.suspense_posted",
        sim_time=sim_time,
        trace_id=brk.trace_id,
        caused_by=brk.caused_by,
        mandate_id=brk.mandate_id,
        summary=f"break {brk.break_id} posted to suspense: journal {brk.suspense_journal_id}",
    )


class EventRecords:
    """Appends recon's records; event_log None: there is no log, nothing is written."""

    def __init__(self, event_log: EventLog | None) -> None:
        self.event_log = event_log

    async def append(self, entries: Sequence[LogEntry | NewRecord]) -> None:
        """Append to the combined event log; records already there (a retry) are skipped."""
        if self.event_log is None or not entries:
            return
        event_log = self.event_log
        records = [
            NewRecord(**dataclasses.asdict(entry)) if isinstance(entry, LogEntry) else entry
            for entry in entries
        ]

        def write() -> None:
            try:
                event_log.append(SOURCE, list(records))
                return
            except DuplicateEvent:
                pass  # some were appended before a crash: one at a time, skipping those
            for record in records:
                try:
                    event_log.append(SOURCE, [record])
                except DuplicateEvent:
                    continue

        try:
            await asyncio.to_thread(write)
        except Exception:
            # The check itself is committed; the records stay in the state's outbox for a restart.
            log.exception("could not append recon's records to the event log")

    async def ensure_suspense_records(self, store: ReconStore) -> None:
        """The record of every suspense posting (a crash may have come between posting and record)."""
        breaks = await asyncio.to_thread(store.open_breaks)
        records = []
        for brk in breaks:
            if not brk.suspense_journal_id:
                continue
            actions = await asyncio.to_thread(store.actions, brk.break_id)
            posted = [a for a in actions if a.kind is ActionKind.POSTED_TO_SUSPENSE]
            sim_time = posted[-1].sim_time if posted else brk.updated_at
            records.append(suspense_record(brk, sim_time))
        await self.append(records)
