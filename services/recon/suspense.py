"""Suspense follows its break: the journals due after a check (or a write-off) posted to the ledger.

Which journal a break needs is domain/suspense.py's rule (services/recon/README.md, "Suspense");
this posts them, one break at a time under one lock, each read afresh from the store just before
it is posted and recorded on the break just after (apply_update), so a write-off arriving meanwhile
is never posted over. PostJournal's idempotency key (break and version) makes a repeat after a crash
answer the journal already posted.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Sequence
from typing import Any

from services.recon.domain.config import ReconConfig
from services.recon.domain.followed import FollowedState
from services.recon.domain.records import Break
from services.recon.domain.suspense import LedgerJournal, due_journal, record_journal
from services.recon.event_records import EventRecords, journal_record
from services.recon.peers.ledger import LedgerPeer
from services.recon.peers.wire import minor_places
from services.recon.store import ReconStore, UnknownBreak


class SuspensePoster:
    """Posts what breaks owe the ledger; one pass at a time (`lock`)."""

    def __init__(
        self, store: ReconStore, ledger: LedgerPeer, records: EventRecords, config: ReconConfig
    ) -> None:
        self.store = store
        self.ledger = ledger
        self.records = records
        self.config = config
        self.lock = asyncio.Lock()

    def due(self, brk: Break, today: dt.date) -> LedgerJournal | None:
        return due_journal(brk, self.config, today, minor_places(brk.currency))

    async def post_due(
        self, state: FollowedState, today: dt.date, sim_time: dt.datetime, *, wait: bool = True
    ) -> None:
        """Every journal due as of the day end `today`, its effective date (suspense) that day.

        wait: wait for the ledger to answer (a day end: the journal is posted at the day end that made
        it due, as in a run where the ledger never went away); otherwise one try each.
        """
        async with self.lock:
            for candidate in await asyncio.to_thread(self.store.suspense_candidates):
                # Most candidates owe nothing today (breaks that held suspense, written off ones kept
                # until the horizon): only one that does is read again, fresh, before its posting.
                if self.due(candidate, today) is not None:
                    await self._post_one(state, candidate.break_id, today, sim_time, wait=wait)

    async def write_off(self, state: FollowedState | None, break_id: str, sim_time: dt.datetime) -> None:
        """The write-off journal of a break just written off, now if the ledger answers at once; left to
        the next check when a pass is running or the ledger cannot answer."""
        if self.lock.locked():
            return
        async with self.lock:
            await self._post_one(state, break_id, None, sim_time, wait=False)

    async def _post_one(
        self,
        state: FollowedState | None,
        break_id: str,
        today: dt.date | None,
        sim_time: dt.datetime,
        *,
        wait: bool,
    ) -> None:
        brk = await asyncio.to_thread(self.store.get_break, break_id)
        if brk is None:
            return
        journal = self.due(brk, today if today is not None else brk.last_seen_date)
        if journal is None or (today is None and not journal.is_write_off):
            return
        traceparent = state.break_traceparents.get(brk.break_id, "") if state is not None else ""
        journal_id = await self.ledger.post_journal(brk, journal, traceparent, wait=wait)
        if not journal_id:
            return
        at = dt.datetime.now(dt.UTC)

        def change(stored: Break) -> tuple[Break, Sequence[Any]]:
            if stored != brk:
                # Changed meanwhile (only this poster records journals, under its lock, so a person
                # did): record the journal only if the stored break still owes exactly this one.
                again = self.due(stored, journal.effective_date)
                if again is None or again.idempotency_key != journal.idempotency_key:
                    return stored, ()
            posted, action = record_journal(stored, journal, journal_id, at=at, sim_time=sim_time)
            return posted, (action,)

        try:
            posted, actions, _ = await asyncio.to_thread(self.store.apply_update, brk.break_id, change)
        except UnknownBreak:
            return
        if actions:
            await self.records.append([journal_record(posted, journal, journal_id, sim_time)])
