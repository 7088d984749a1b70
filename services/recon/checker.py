"""recon's day-end check: the orchestration of its parts.

At each clock.day_end (date D, seq S): market's books at S (peers/market.py), the ledger's
balances as of D once it has booked S (peers/ledger.py: the check waits for the ledger as long as
it takes; only a recon configured without a ledger runs book vs custodian alone), the pure check
over the three books (domain/check.py), the stored breaks advanced by it (domain/breaks.py), then
ONE store transaction with the runs, breaks, actions, timing items, cursor S and the followed state
(persistence.py). Then what follows from it, each idempotent so a crash at any point repeats it
safely: the combined event log's records (event_records.py), the journals the breaks owe the
ledger (suspense.py: suspense that follows its break, write-offs; also waiting for the ledger), and
now and then (domain/retention.py) one more transaction pruning the closed history before the
retention horizon.

An on-demand check (RunCheck) never waits for the ledger: while a day-end check waits for it, or
when it cannot answer now, LedgerUnavailable, and nothing is checked or changed.

Tracing: the check runs inside the stream client's span of the clock.day_end event group; each
break opened gets its own span (break_spans.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import logging
from collections.abc import AsyncIterator, Mapping

from opentelemetry import trace

from services.common.stopping import Stopped
from services.recon.break_spans import trace_opened
from services.recon.domain.breaks import Advanced, advance
from services.recon.domain.check import Reference, compute
from services.recon.domain.config import ReconConfig
from services.recon.domain.followed import DayEnd, FollowedState
from services.recon.domain.log_entries import log_records
from services.recon.domain.raised import (
    NO_COVERAGE,
    RaisedItem,
    carried_through,
    checked_since,
    closing,
    existing,
    raised_difference,
    withdraw,
)
from services.recon.domain.records import Break, CheckRun, RunContext
from services.recon.domain.retention import Followed, horizon_of, keeps, prune_due
from services.recon.domain.runs import check_runs
from services.recon.event_records import EventRecords
from services.recon.peers.ledger import LedgerPeer
from services.recon.peers.market import MarketPeer
from services.recon.peers.wire import books_from
from services.recon.persistence import CheckOutcome, commit_check, skip_day_end
from services.recon.store import ReconStore, ReconStoreError
from services.recon.suspense import SuspensePoster

log = logging.getLogger(__name__)

# What recon follows: fills and FX deals and the custodian's view of them (its bookings, settlements
# and corrections), cash flows on both sides (the monthly cashflow.fee among them), day ends, and
# broker confirmations (only a corrected one matters: it closes a break raised on the one it
# replaces). Not the daily fee.accrued: it moves no cash and no holding, so nothing recon compares
# sees it.
KINDS = (
    "trade.fill",
    "trade.confirmation",
    "trade.fx",
    "custodian.trade",
    "custodian.settlement",
    "custodian.fx_settlement",
    "custodian.correction",
    "cashflow.",
    "custodian.cashflow",
    "clock.day_end",
)


def _check_run_id(day: dt.date, seq: int) -> str:
    """The id of the check of the day end at `seq` (an on-demand check of it adds a suffix)."""
    return f"RUN-{day.isoformat()}-{seq}"


def _wall_clock() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class DayEndChecker:
    """Runs checks (one at a time) and what follows them: event-log records, suspense journals and,
    now and then, pruning.

    ledger None: recon is configured without a ledger; only book vs custodian runs. keep_days: the
    business days of closed history kept (OPSUITE_RECON_KEEP_DAYS); 0 keeps everything.
    """

    def __init__(
        self,
        store: ReconStore,
        records: EventRecords,
        market: MarketPeer,
        ledger: LedgerPeer | None,
        reference: Reference,
        config: ReconConfig,
        keep_days: int = 0,
    ) -> None:
        self.store = store
        self.records = records
        self.market = market
        self.ledger = ledger
        self.reference = reference
        self.config = config
        self.keep_days = keep_days
        self.lock = asyncio.Lock()
        self.checks_run = 0
        self.suspense = None if ledger is None else SuspensePoster(store, ledger, records, config)

    async def day_end(self, state: FollowedState, day_end: DayEnd) -> tuple[CheckRun, ...]:
        """The check of one day end, committed with cursor = its seq and the state."""
        async with self.lock:
            return await self._check(state, day_end, trigger="day_end", mandates=None)

    async def on_demand(
        self, state: FollowedState, day_end: DayEnd, mandates: frozenset[str] | None
    ) -> tuple[CheckRun, ...]:
        """A check of the latest day end now (the cursor and state stay as they are).

        LedgerUnavailable, with nothing checked, while the ledger is waited for or cannot answer.
        """
        log.info(
            "checking the latest day end on demand",
            extra={"seq": day_end.seq, "mandates": sorted(mandates) if mandates is not None else "all"},
        )
        async with self._turn_unless_waiting():
            return await self._check(state, day_end, trigger="on_demand", mandates=mandates)

    async def raise_break(self, state: FollowedState, item: RaisedItem) -> tuple[Break, bool]:
        """A break another service found, opened as of the latest day end checked (or the item's
        date), committed with its event-log records; (the break, True) when opened now, (the break
        it raised before, False) when the same item was raised already (nothing changes then).

        LedgerUnavailable, with nothing changed, while a day-end check holds the checker waiting
        for the ledger (the raiser retries).
        """
        day_end = state.last_day_end
        assert day_end is not None, "the caller refuses a raise before the first day end"
        today = item.as_of_date or day_end.date
        current = trace.get_current_span().get_span_context()
        run = RunContext(
            run_id=f"RAISED-{item.source}-{item.key[:16]}",
            as_of_date=today,
            sim_time=item.found_at or day_end.sim_time,
            at=_wall_clock(),
            covered=NO_COVERAGE,  # covers nothing: raising never resolves another break
            trace_id=trace.format_trace_id(current.trace_id) if current.is_valid else "",
            as_of_seq=day_end.seq,
            trigger="raised",
        )
        # Raised as of a day already checked: carried through the checks it missed, each as that
        # check, under its run id (by day, for a state kept before day-end seqs were).
        missed = checked_since(item.as_of_date, state.dates) if item.as_of_date is not None else []
        carrying = [
            dataclasses.replace(
                run,
                run_id=(
                    _check_run_id(day, state.day_end_seqs[day])
                    if day in state.day_end_seqs
                    else f"{run.run_id}@{day.isoformat()}"
                ),
                as_of_date=day,
                sim_time=dt.datetime.combine(day, day_end.sim_time.timetz()),
                trigger="day_end",
            )
            for day in missed
        ]
        before: list[Break] = []

        def decide(latest: Mapping[str, Break]) -> CheckOutcome:
            before.clear()  # decided again after a StaleRead: only the last decision counts
            found = existing(latest, item)
            if found is not None:
                before.append(found)
                return CheckOutcome(Advanced((), (), (), (), ()), (), (), (), ())
            calendar = state.calendar()
            opening = advance(
                latest.values(),
                [raised_difference(item)],
                run=run,
                today=today,
                calendar=calendar,
                config=self.config,
            )
            opening = trace_opened(opening, state)
            steps = [
                (opening, run),
                # Fewer steps than checks when the document was withdrawn on the way (resolved).
                *zip(
                    carried_through(opening, carrying, calendar, self.config, state.replaced_confirmations),
                    carrying,
                    strict=False,
                ),
            ]
            final = steps[-1][0]
            return CheckOutcome(
                advanced=opening._replace(
                    breaks=final.breaks, actions=tuple(a for step, _ in steps for a in step.actions)
                ),
                runs=(),
                changed=tuple(b for b in final.breaks if latest.get(b.item_key) != b),
                timing_items=(),
                records=[r for step, by in steps for r in log_records(step, by.as_of_date, by.sim_time)],
            )

        async with self._turn_unless_waiting():
            outcome = await commit_check(
                self.store,
                decide,
                keys=[raised_difference(item).item_key],
                state=state,
                cursor=None,
                keep_timing_items=True,
            )
            if before:
                return before[-1], False
            await self.records.append(outcome.records)
        (opened,) = outcome.advanced.opened
        # As the checks it missed left it (the break as opened when it missed none).
        return next(b for b in outcome.advanced.breaks if b.break_id == opened.break_id), True

    @contextlib.asynccontextmanager
    async def _turn_unless_waiting(self) -> AsyncIterator[None]:
        """The checker's lock, unless a check holding it waits for the ledger: LedgerUnavailable then
        (an on-demand check must not wait behind it, for as long as the ledger is away)."""
        ledger = self.ledger
        if ledger is None:
            async with self.lock:
                yield
            return
        if ledger.waiting.is_set():
            raise ledger.unavailable()
        acquired = asyncio.ensure_future(self.lock.acquire())
        waiting = asyncio.ensure_future(ledger.waiting.wait())
        try:
            await asyncio.wait((acquired, waiting), return_when=asyncio.FIRST_COMPLETED)
        except BaseException:
            if acquired.done() and not acquired.cancelled():
                self.lock.release()
            acquired.cancel()
            raise
        finally:
            waiting.cancel()
        if not acquired.done():
            acquired.cancel()
            await asyncio.wait((acquired,))
            if acquired.cancelled():
                raise ledger.unavailable()
        try:
            yield
        finally:
            self.lock.release()

    async def recover(self, state: FollowedState) -> None:
        """After a restart: finish what the last committed check left undone (both idempotent)."""
        async with self.lock:
            await self.records.append(state.outbox)
            if state.last_day_end is not None:
                await self.records.ensure_suspense_records(self.store)
                await self._post_due_suspense(state, state.last_day_end)

    async def _check(
        self, state: FollowedState, day_end: DayEnd, *, trigger: str, mandates: frozenset[str] | None
    ) -> tuple[CheckRun, ...]:
        at_day_end = trigger == "day_end"
        started = _wall_clock()
        snapshot = await self.market.snapshot(day_end.seq)
        if snapshot is None:
            if at_day_end:
                await skip_day_end(self.store, state, day_end.seq)
            return ()
        wanted = frozenset(b.mandate_id for b in snapshot.internal_books)
        if mandates is not None:
            wanted &= mandates
        if self.ledger is None:
            ledger = None
        elif at_day_end:
            ledger = await self.ledger.balances(day_end, sorted(wanted))
        else:
            ledger = await self.ledger.balances_now(day_end, sorted(wanted))
        books = books_from(snapshot, ledger, self.reference)
        computed = compute(
            state, books, today=day_end.date, config=self.config, reference=self.reference, mandates=wanted
        )
        current = trace.get_current_span().get_span_context()
        suffix = "" if at_day_end else f"-{trigger}-{started.strftime('%Y%m%dT%H%M%S%f')}"
        run = RunContext(
            run_id=f"{_check_run_id(day_end.date, day_end.seq)}{suffix}",
            as_of_date=day_end.date,
            sim_time=day_end.sim_time,
            at=started,
            covered=computed.covered,
            trace_id=trace.format_trace_id(current.trace_id) if current.is_valid else "",
            as_of_seq=day_end.seq,
            trigger=trigger,
        )
        resolving = state.before_prune()
        if at_day_end:
            state.prune(set(computed.keep_fills), day_end.date)

        def decide(latest: Mapping[str, Break]) -> CheckOutcome:
            resolved_by = {
                key: resolving.resolving_event_of(brk, day_end.event_id)
                for key, brk in latest.items()
                if brk.status.is_open
            }
            # Raised breaks (a confirmation's, from documents) are carried while open, so they age,
            # and resolved once the broker replaced the confirmation they name.
            raised, withdrawn_by = closing(
                latest.values(), state.replaced_confirmations, day_end.date, wanted
            )
            advanced = advance(
                latest.values(),
                (*computed.differences, *raised),
                run=run,
                today=day_end.date,
                calendar=state.calendar(),
                config=self.config,
                resolved_by=resolved_by,
            )
            advanced = withdraw(advanced, withdrawn_by, run)
            advanced = trace_opened(advanced, state)
            for brk in advanced.resolved:
                if not brk.held_in_suspense:  # else its reversal's span is still to come
                    state.break_traceparents.pop(brk.break_id, None)
            return CheckOutcome(
                advanced=advanced,
                runs=tuple(check_runs(run, computed.counts, advanced, _wall_clock())),
                changed=tuple(b for b in advanced.breaks if latest.get(b.item_key) != b),
                timing_items=tuple(computed.timing_items),
                records=log_records(advanced, day_end.date, day_end.sim_time),
            )

        outcome = await commit_check(
            self.store,
            decide,
            keys=[difference.item_key for difference in computed.differences],
            state=state,
            cursor=day_end.seq if at_day_end else None,
        )
        self.checks_run += 1
        log.info(
            "checked a day end",
            extra={
                "date": day_end.date.isoformat(),
                "seq": day_end.seq,
                "trigger": trigger,
                "ledger": ledger is not None,
                "opened": len(outcome.advanced.opened),
                "resolved": len(outcome.advanced.resolved),
                "differences": len(computed.differences),
            },
        )
        await self.records.append(outcome.records)
        if at_day_end:
            await self._post_due_suspense(state, day_end)
            # After the journals due: a break that owed one has it now (and is kept while it owes).
            await self._prune(state)
        else:
            # Committed: the answer is the runs. A posting cut short by shutdown is finished at restart.
            with contextlib.suppress(Stopped):
                await self._post_due_suspense(state, day_end, wait=False)
        return outcome.runs

    async def _prune(self, state: FollowedState) -> None:
        """Prune the closed history before the horizon when a step is due (one store transaction).

        A crash before it loses nothing: the next day end finds the step still due."""
        horizon = horizon_of(state.dates, self.keep_days)
        if horizon is None:
            return
        retention = await asyncio.to_thread(self.store.retention)
        if not prune_due(state.dates, retention.horizon, horizon):
            return
        followed = Followed.of(state)

        def keep(brk: Break, latest: bool) -> bool:
            if keeps(brk, latest=latest, followed=followed):
                return True
            # A journal still owed (a reversal, a write-off) needs the break; the poster retries it.
            return self.suspense is not None and self.suspense.due(brk, brk.last_seen_date) is not None

        try:
            pruned = await asyncio.to_thread(self.store.prune, horizon, keep)
        except ReconStoreError:
            # Nothing was deleted (one transaction); checking goes on, and the next day end retries.
            log.exception("could not prune closed history", extra={"horizon": horizon.isoformat()})
            return
        log.info(
            "pruned closed history before the retention horizon",
            extra={
                "horizon": horizon.isoformat(),
                "keep_days": self.keep_days,
                "breaks": pruned.breaks,
                "actions": pruned.actions,
                "check_runs": pruned.check_runs,
                "changes": pruned.changes,
                "oldest_change_seq": pruned.retention.oldest_change_seq,
            },
        )

    async def _post_due_suspense(self, state: FollowedState, day_end: DayEnd, *, wait: bool = True) -> None:
        if self.suspense is not None:
            await self.suspense.post_due(state, day_end.date, day_end.sim_time, wait=wait)

    async def write_off(self, state: FollowedState | None, break_id: str, sim_time: dt.datetime) -> None:
        """After UpdateBreak wrote a break off: its write-off journal, if the ledger answers now."""
        if self.suspense is not None:
            with contextlib.suppress(Stopped):
                await self.suspense.write_off(state, break_id, sim_time)
