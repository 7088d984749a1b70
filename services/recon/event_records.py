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
from services.recon.domain.suspense import LedgerJournal
from services.recon.peers import SOURCE
from services.recon.store import ReconStore

log = logging.getLogger(__name__)

# The combined event log's kind of each journal recon posts for a break.
JOURNAL_KINDS = {
    ActionKind.POSTED_TO_SUSPENSE: "break.suspense_posted",
    ActionKind.SUSPENSE_ADJUSTED: "break.suspense_adjusted",
    ActionKind.SUSPENSE_REVERSED: "break.suspense_reversed",
    ActionKind.WRITE_OFF_POSTED: "break.written_off",
}


def _journal_entry(
    brk: Break, kind: ActionKind, version: int, journal_id: str, amount: object, sim_time: dt.datetime
) -> NewRecord:
    suffix = "written_off" if kind is ActionKind.WRITE_OFF_POSTED else f"suspense-v{version}"
    verb = JOURNAL_KINDS[kind].removeprefix("break.").replace("_", " ")
    return NewRecord(
        event_id=f"rec-{brk.break_id}-{suffix}",
        kind=JOURNAL_KINDS[kind],
        sim_time=sim_time,
        trace_id=brk.trace_id,
        caused_by=(brk.break_id,),
        mandate_id=brk.mandate_id,
        summary=f"break {brk.break_id} {verb}: journal {journal_id}, {amount} {brk.currency} of cash",
    )


def journal_record(brk: Break, journal: LedgerJournal, journal_id: str, sim_time: dt.datetime) -> NewRecord:
    """The record of one suspense or write-off journal recon posted for a break."""
    return _journal_entry(brk, journal.action, journal.version, journal_id, journal.cash, sim_time)


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
        """The record of every journal posted for a break (a crash may have come between recording it
        on the break and appending its record)."""
        records = []
        for brk in await asyncio.to_thread(store.suspense_candidates):
            if not (brk.suspense_version or brk.write_off_journal_id):
                continue
            version = 0
            for action in await asyncio.to_thread(store.actions, brk.break_id):
                if action.kind not in JOURNAL_KINDS:
                    continue
                if action.kind is not ActionKind.WRITE_OFF_POSTED:
                    version += 1
                records.append(
                    _journal_entry(
                        brk, action.kind, version, action.journal_id, action.amount, action.sim_time
                    )
                )
        await self.append(records)
