"""Aged cash breaks to the ledger's suspense: posted once each, then recorded on the break."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Sequence
from typing import Any

from services.recon.domain.breaks import record_suspense, suspense_due
from services.recon.domain.config import ReconConfig
from services.recon.domain.followed import DayEnd, FollowedState
from services.recon.domain.records import Break
from services.recon.event_records import EventRecords, suspense_record
from services.recon.peers.ledger import LedgerPeer
from services.recon.store import ReconStore


async def post_due_suspense(
    state: FollowedState,
    day_end: DayEnd,
    *,
    store: ReconStore,
    ledger: LedgerPeer,
    records: EventRecords,
    config: ReconConfig,
    wait: bool = True,
) -> None:
    """Post every open cash break aged past the threshold to the ledger's suspense, once.

    PostJournal's idempotency key makes a repeat after a crash answer the journal already posted.
    wait: wait for the ledger to answer (at a day end, so each journal is posted at the day end that
    found it due, with that day as its effective date, as in a run where the ledger never went away).
    """
    for brk in await asyncio.to_thread(store.open_breaks):
        if not suspense_due(brk, config):
            continue
        journal_id = await ledger.post_suspense(
            brk,
            state.break_traceparents.get(brk.break_id, ""),
            config.suspense_cash_age_business_days,
            wait=wait,
        )
        if not journal_id:
            continue
        at = dt.datetime.now(dt.UTC)

        def change(
            stored: Break, journal_id: str = journal_id, at: dt.datetime = at
        ) -> tuple[Break, Sequence[Any]]:
            if stored.suspense_journal_id:
                return stored, ()  # recorded meanwhile
            posted, action = record_suspense(stored, journal_id, at=at, sim_time=day_end.sim_time)
            return posted, (action,)

        posted, _, _ = await asyncio.to_thread(store.apply_update, brk.break_id, change)
        await records.append([suspense_record(posted, day_end.sim_time)])
