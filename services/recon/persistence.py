"""What recon keeps between restarts, and how a check is committed.

The store holds the breaks, runs and timing items, and beside them market's cursor and the
followed state (domain/followed.py) as a JSON blob. A day-end check commits all of it in ONE
transaction, with the check's event-log records in the state's outbox, so a restart resumes
exactly after the last day end checked and repeats only what follows a check (idempotent).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from services.recon.domain.breaks import Advanced
from services.recon.domain.followed import FollowedState
from services.recon.domain.log_entries import LogEntry
from services.recon.domain.records import Break, CheckRun, TimingItem
from services.recon.store import ReconStore, StaleRead

log = logging.getLogger(__name__)
STALE_READ_RETRIES = 20


@dataclass(frozen=True)
class CheckOutcome:
    """What one check writes: its runs, the breaks it changed with their actions, its timing items,
    and the event-log records that follow it."""

    advanced: Advanced
    runs: tuple[CheckRun, ...]
    changed: tuple[Break, ...]
    timing_items: tuple[TimingItem, ...]
    records: Sequence[LogEntry]


def restore(store: ReconStore) -> tuple[int, FollowedState | None]:
    """(the last day end's seq, the followed state as of it); (0, None) for a new store."""
    cursor, blob = store.load_cursor()
    return cursor, FollowedState.from_json(blob) if blob else None


async def commit_check(
    store: ReconStore,
    decide: Callable[[Mapping[str, Break]], CheckOutcome],
    *,
    keys: Iterable[str],
    state: FollowedState,
    cursor: int | None,
    keep_timing_items: bool = False,
) -> CheckOutcome:
    """Decide the check from the stored breaks and commit it in one transaction.

    decide gets the latest generation of every open break and of each of keys (the item keys the
    check has differences for): closed breaks of other keys cannot change, and reading all of
    them would make every day end slower as the years of kept history grow.

    cursor given (a day-end check): the cursor and the state, with the outcome's records as its
    outbox, are committed too; None (an on-demand check): both stay as they are. keep_timing_items:
    the stored timing items stay (a raised break is no check of them). When a person
    updated a break between the read and the commit, the breaks are read and decided again.
    """
    wanted = list(keys)
    for attempt in range(STALE_READ_RETRIES):
        head = await asyncio.to_thread(store.head)
        latest = await asyncio.to_thread(store.latest_for, wanted)
        outcome = decide(latest)
        blob = None
        if cursor is not None:
            state.outbox = list(outcome.records)
            blob = state.to_json()
        try:
            await asyncio.to_thread(
                store.commit_check,
                outcome.runs,
                outcome.changed,
                outcome.advanced.actions,
                cursor=cursor,
                state=blob,
                timing_items=None if keep_timing_items else outcome.timing_items,
                expected_head=head,
            )
        except StaleRead:
            log.info("breaks changed during the check; applying it again", extra={"attempt": attempt + 1})
            continue
        return outcome
    raise RuntimeError(f"a check kept colliding with break updates ({STALE_READ_RETRIES} attempts)")


async def skip_day_end(store: ReconStore, state: FollowedState, seq: int) -> None:
    """Move the cursor past a day end that cannot be checked (market no longer keeps its books)."""
    state.outbox = []
    await asyncio.to_thread(store.commit_check, [], [], [], cursor=seq, state=state.to_json())
