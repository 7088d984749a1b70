"""recon's day-end check, the I/O around the pure parts.

The pure parts live in the domain: what recon remembers from market's stream between day
ends (domain/followed.py, a JSON blob committed with the cursor, so a restart resumes
exactly where it stopped), the check itself over the three books (domain/check.py) and the
event-log entries of breaks (domain/log_entries.py); peers.py turns protobuf into them.

- DayEndChecker: the I/O around it. At each clock.day_end (date D, seq S): market's books
  at S (GetSnapshot, kept by market before it publishes the day), the ledger's balances as
  of D once it has booked S (GetBalances with min_market_seq: one call that the ledger answers
  when it is there; without a ledger within a deadline only book vs custodian runs),
  compute, domain.breaks.advance over the stored breaks, then ONE store transaction with
  the runs, breaks, actions, timing items, cursor S and the state. Then what follows from
  it, each idempotent so a crash at any point repeats it safely: the combined event log
  records (kept in the state as an outbox until appended; DuplicateEvent means already
  there), and suspense journals for aged cash breaks (PostJournal's idempotency key).

Tracing: the check runs inside the stream client's span of the clock.day_end event group.
Each break opened gets a "recon.break" span whose parent is the span of the first market
event in its caused_by (the fill: its own trace), and the break records that trace id; the
suspense journal is posted inside a "recon.suspense" span, the child of the break's span.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import logging
import time
from collections.abc import Sequence
from typing import Any

import grpc
import grpc.aio
from opentelemetry import trace

from opsuite.ledger.v1 import ledger_pb2, ledger_pb2_grpc
from opsuite.market.v1 import market_pb2, market_pb2_grpc
from services.common import telemetry
from services.common.convert import date_to_proto
from services.common.eventlog import DuplicateEvent, EventLog, NewRecord
from services.common.status import details_of, status_from_error
from services.recon import peers
from services.recon.domain.breaks import (
    Advanced,
    advance,
    record_suspense,
    suspense_due,
)
from services.recon.domain.check import Reference, compute
from services.recon.domain.config import ReconConfig
from services.recon.domain.followed import DayEnd, FollowedState
from services.recon.domain.log_entries import LogEntry, log_records
from services.recon.domain.records import (
    ActionKind,
    Break,
    CheckRun,
    Comparison,
    RunContext,
)
from services.recon.domain.runs import check_runs
from services.recon.store import ReconStore, StaleRead

log = logging.getLogger(__name__)

# What recon follows: fills and the custodian's view of them, cash flows on both sides, day ends.
KINDS = (
    "trade.fill",
    "custodian.trade",
    "custodian.settlement",
    "cashflow.",
    "custodian.cashflow",
    "clock.day_end",
)
SUSPENSE = "Assets:Suspense:"
BVC = Comparison.BOOK_VS_CUSTODIAN
BVL = Comparison.BOOK_VS_LEDGER
RPC_TIMEOUT_S = 10.0
STALE_READ_RETRIES = 20
_tracer = telemetry.tracer("opsuite.recon")


class Stopped(Exception):
    """The service is shutting down in the middle of a check: nothing of it was committed."""


# ------------------------------------------------------------------ the pure check


# ------------------------------------------------------------------ the I/O around the check


def _wall_clock() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class DayEndChecker:
    """Runs checks (one at a time) and what follows them: event-log records and suspense journals.

    ledger None: there is no ledger to ask; only book vs custodian runs.
    """

    def __init__(
        self,
        store: ReconStore,
        event_log: EventLog | None,
        market: market_pb2_grpc.MarketServiceStub,
        ledger: ledger_pb2_grpc.LedgerServiceStub | None,
        reference: Reference,
        config: ReconConfig,
        *,
        stopping: asyncio.Event | None = None,
        ledger_wait_s: float = 30.0,
    ) -> None:
        self.store = store
        self.event_log = event_log
        self.market = market
        self.ledger = ledger
        self.reference = reference
        self.config = config
        self.stopping = stopping or asyncio.Event()
        self.ledger_wait_s = ledger_wait_s
        self.lock = asyncio.Lock()
        self._ledger = ""  # how the ledger last behaved: "answers", "unreachable" or "stuck"
        self.checks_run = 0

    # -------------------------------------------------------------- entry points

    async def day_end(self, state: FollowedState, day_end: DayEnd) -> tuple[CheckRun, ...]:
        """The check of one day end, committed with cursor = its seq and the state."""
        async with self.lock:
            return await self._check(state, day_end, trigger="day_end", mandates=None, commit_state=True)

    async def on_demand(
        self, state: FollowedState, day_end: DayEnd, mandates: frozenset[str] | None
    ) -> tuple[CheckRun, ...]:
        """A check of the latest day end now (the cursor and state stay as they are)."""
        async with self.lock:
            return await self._check(
                state, day_end, trigger="on_demand", mandates=mandates, commit_state=False
            )

    async def recover(self, state: FollowedState) -> None:
        """After a restart: finish what the last committed check left undone (both idempotent)."""
        async with self.lock:
            await self.append(state.outbox)
            if state.last_day_end is not None:
                await self._ensure_suspense_records()
                await self.post_due_suspense(state, state.last_day_end)

    # -------------------------------------------------------------- the check

    async def _check(
        self,
        state: FollowedState,
        day_end: DayEnd,
        *,
        trigger: str,
        mandates: frozenset[str] | None,
        commit_state: bool,
    ) -> tuple[CheckRun, ...]:
        started = _wall_clock()
        snapshot = await self._snapshot(day_end.seq)
        if snapshot is None:
            if commit_state:
                state.outbox = []
                await asyncio.to_thread(
                    self.store.commit_check, [], [], [], cursor=day_end.seq, state=state.to_json()
                )
            return ()
        wanted = frozenset(b.mandate_id for b in snapshot.internal_books)
        if mandates is not None:
            wanted &= mandates
        ledger = await self._ledger_balances(day_end, sorted(wanted))
        books = peers.books_from(snapshot, ledger, self.reference)
        computed = compute(
            state, books, today=day_end.date, config=self.config, reference=self.reference, mandates=wanted
        )
        current = trace.get_current_span().get_span_context()
        suffix = "" if trigger == "day_end" else f"-{trigger}-{started.strftime('%Y%m%dT%H%M%S%f')}"
        run = RunContext(
            run_id=f"RUN-{day_end.date.isoformat()}-{day_end.seq}{suffix}",
            as_of_date=day_end.date,
            sim_time=day_end.sim_time,
            at=started,
            covered=computed.covered,
            trace_id=trace.format_trace_id(current.trace_id) if current.is_valid else "",
            as_of_seq=day_end.seq,
            trigger=trigger,
        )
        if commit_state:
            state.prune(set(computed.keep_fills), day_end.date)
        for attempt in range(STALE_READ_RETRIES):
            head = await asyncio.to_thread(self.store.head)
            latest = await asyncio.to_thread(self.store.latest_by_key)
            resolved_by = {
                key: self._resolving_event(state, brk, day_end)
                for key, brk in latest.items()
                if brk.status.is_open
            }
            advanced = advance(
                latest.values(),
                computed.differences,
                run=run,
                today=day_end.date,
                calendar=state.calendar(),
                config=self.config,
                resolved_by=resolved_by,
            )
            advanced = self._trace_opened(advanced, state)
            runs = check_runs(run, computed.counts, advanced, _wall_clock())
            records = log_records(advanced, day_end.date, day_end.sim_time)
            changed = [b for b in advanced.breaks if latest.get(b.item_key) != b]
            for brk in advanced.resolved:
                state.break_traceparents.pop(brk.break_id, None)
            blob = None
            if commit_state:
                state.outbox = records
                blob = state.to_json()
            try:
                await asyncio.to_thread(
                    self.store.commit_check,
                    runs,
                    changed,
                    advanced.actions,
                    cursor=day_end.seq if commit_state else None,
                    state=blob,
                    timing_items=computed.timing_items,
                    expected_head=head,
                )
            except StaleRead:
                # A person updated a break meanwhile: re-read the breaks and apply the check again.
                log.info("breaks changed during the check; applying it again", extra={"attempt": attempt + 1})
                continue
            break
        else:
            raise RuntimeError(f"the check of {day_end.date} kept colliding with break updates")
        self.checks_run += 1
        log.info(
            "checked a day end",
            extra={
                "date": day_end.date.isoformat(),
                "seq": day_end.seq,
                "trigger": trigger,
                "ledger": ledger is not None,
                "opened": len(advanced.opened),
                "resolved": len(advanced.resolved),
                "differences": len(computed.differences),
            },
        )
        await self.append(records)
        await self.post_due_suspense(state, day_end)
        return runs

    @staticmethod
    def _resolving_event(state: FollowedState, brk: Break, day_end: DayEnd) -> str:
        """The latest custodian event of the break's fill when recon knows it, else the day end."""
        for booking in sorted(state.bookings.values(), key=lambda b: b.custodian_ref, reverse=True):
            if brk.fill_id and booking.fill_id == brk.fill_id:
                return (booking.status_event_ids or [booking.event_id])[-1]
        return day_end.event_id

    def _trace_opened(self, advanced: Advanced, state: FollowedState) -> Advanced:
        """Give each break opened a recon.break span, parented on its first market cause's span."""
        if not advanced.opened:
            return advanced
        check_span = trace.get_current_span().get_span_context()
        retraced: dict[str, Break] = {}
        for brk in advanced.opened:
            traceparent = state.break_traceparents.get(brk.break_id)
            if traceparent is None:  # not already done by an attempt that met a StaleRead
                parent = next((state.traceparents[e] for e in brk.caused_by if e in state.traceparents), "")
                span = _tracer.start_span(
                    "recon.break",
                    context=telemetry.context_from_traceparent(parent) if parent else None,
                    links=[trace.Link(check_span)] if check_span.is_valid else None,
                    attributes={
                        "break.id": brk.break_id,
                        "break.kind": brk.kind.value,
                        "mandate.id": brk.mandate_id,
                        "break.caused_by": list(brk.caused_by),
                    },
                )
                with trace.use_span(span, end_on_exit=True):
                    traceparent = telemetry.current_traceparent()
                state.break_traceparents[brk.break_id] = traceparent
            trace_id = telemetry.trace_id_of(traceparent)
            retraced[brk.break_id] = dataclasses.replace(brk, trace_id=trace_id or brk.trace_id)

        def swap(breaks: tuple[Break, ...]) -> tuple[Break, ...]:
            return tuple(retraced.get(b.break_id, b) for b in breaks)

        return Advanced(
            breaks=swap(advanced.breaks),
            actions=advanced.actions,
            opened=swap(advanced.opened),
            resolved=advanced.resolved,
            changed=swap(advanced.changed),
        )

    # -------------------------------------------------------------- market and ledger

    async def _pause(self, seconds: float) -> None:
        """Sleep, unless the service stops first: then Stopped (nothing of the check is committed)."""
        try:
            async with asyncio.timeout(seconds):
                await self.stopping.wait()
        except TimeoutError:
            return
        raise Stopped

    async def _snapshot(self, seq: int) -> market_pb2.Snapshot | None:
        """market's books at day end `seq`; None when market no longer keeps that day end.

        market keeps a day's books before it publishes the day's events, so one call answers.
        """
        if self.stopping.is_set():
            raise Stopped
        try:
            snapshot: market_pb2.Snapshot = await self.market.GetSnapshot(
                market_pb2.GetSnapshotRequest(as_of_seq=seq), timeout=RPC_TIMEOUT_S
            )
        except grpc.aio.AioRpcError as error:
            if error.code() == grpc.StatusCode.OUT_OF_RANGE:
                log.warning(
                    "market no longer keeps this day end's books: its check is skipped",
                    extra={"seq": seq, "error": error.details()},
                )
                return None
            raise
        if snapshot.as_of_seq != seq:
            raise RuntimeError(f"market answered the books at seq {snapshot.as_of_seq} for day end seq {seq}")
        return snapshot

    async def _ledger_booked(self, day_end: DayEnd, mandate_id: str) -> ledger_pb2.GetBalancesResponse | None:
        """The mandate's balances once the ledger has booked market seq `day_end.seq`; None if it cannot.

        One GetBalances with min_market_seq: the ledger answers as soon as it has booked the day
        end. A ledger that answers but is behind is asked again as long as it makes progress
        (each call waits at most ledger_wait_s). An unreachable one is not waited for: that check
        runs book vs custodian only (`opsuite up` starts recon before the ledger, and a recon with
        no ledger must still catch up); the next day end asks again.
        """
        assert self.ledger is not None
        seq = day_end.seq
        request = ledger_pb2.GetBalancesRequest(
            mandate_id=mandate_id, as_of=date_to_proto(day_end.date), min_market_seq=seq
        )
        last_seen = -1
        started = time.monotonic()
        while True:
            if self.stopping.is_set():
                raise Stopped
            try:
                reply: ledger_pb2.GetBalancesResponse = await self.ledger.GetBalances(
                    request, timeout=self.ledger_wait_s
                )
            except grpc.aio.AioRpcError as error:
                reason = f"the ledger answered {error.code().name}: {error.details()}"
                if (
                    error.code() == grpc.StatusCode.NOT_FOUND
                    and time.monotonic() - started < self.ledger_wait_s
                ):
                    # A ledger still fetching the mandates from market: it knows them in a moment.
                    await self._pause(0.5)
                    continue
                self._ledger_state(
                    "unreachable"
                    if error.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.UNIMPLEMENTED)
                    else "stuck",
                    seq,
                    reason,
                )
                return None
            if reply.market_seq >= seq:
                self._ledger_state("answers", seq, "")
                return reply
            if reply.market_seq <= last_seen:
                self._ledger_state("stuck", seq, f"the ledger is at market seq {reply.market_seq}")
                return None
            last_seen = reply.market_seq

    def _ledger_state(self, state: str, seq: int, reason: str) -> None:
        """Log when the ledger's availability changes (not at every day end)."""
        if state == self._ledger:
            return
        self._ledger = state
        if state == "answers":
            log.info("the ledger has the day end: book vs ledger runs", extra={"seq": seq})
        else:
            log.warning(
                "the ledger cannot be compared: book vs custodian only until it can",
                extra={"seq": seq, "ledger": state, "reason": reason},
            )

    async def _ledger_balances(
        self, day_end: DayEnd, mandates: Sequence[str]
    ) -> dict[str, Sequence[ledger_pb2.AccountBalance]] | None:
        if self.ledger is None or not mandates:
            return None
        first = await self._ledger_booked(day_end, mandates[0])
        if first is None:
            return None
        balances: dict[str, Sequence[ledger_pb2.AccountBalance]] = {mandates[0]: list(first.balances)}
        try:
            for mandate in mandates[1:]:
                reply = await self.ledger.GetBalances(
                    ledger_pb2.GetBalancesRequest(mandate_id=mandate, as_of=date_to_proto(day_end.date)),
                    timeout=RPC_TIMEOUT_S,
                )
                balances[mandate] = list(reply.balances)
        except grpc.aio.AioRpcError as error:
            log.warning(
                "could not read the ledger's balances: book vs custodian only",
                extra={"code": error.code().name, "error": error.details()},
            )
            return None
        return balances

    # -------------------------------------------------------------- what follows a check

    async def append(self, entries: Sequence[LogEntry | NewRecord]) -> None:
        """Append to the combined event log; records already there (a retry) are skipped."""
        if self.event_log is None or not entries:
            return
        log_ = self.event_log
        records = [
            NewRecord(**dataclasses.asdict(entry)) if isinstance(entry, LogEntry) else entry
            for entry in entries
        ]

        def write() -> None:
            try:
                log_.append(peers.SOURCE, list(records))
                return
            except DuplicateEvent:
                pass  # some were appended before a crash: one at a time, skipping those
            for record in records:
                try:
                    log_.append(peers.SOURCE, [record])
                except DuplicateEvent:
                    continue

        try:
            await asyncio.to_thread(write)
        except Exception:
            # The check itself is committed; the records stay in the state's outbox for a restart.
            log.exception("could not append recon's records to the event log")

    async def post_due_suspense(self, state: FollowedState, day_end: DayEnd) -> None:
        """Post every open cash break aged past the threshold to the ledger's suspense, once."""
        if self.ledger is None:
            return
        breaks = await asyncio.to_thread(self.store.open_breaks)
        for brk in breaks:
            if not suspense_due(brk, self.config):
                continue
            journal_id = await self._post_suspense(brk, state.break_traceparents.get(brk.break_id, ""))
            if not journal_id:
                continue
            at = _wall_clock()

            def change(
                stored: Break, journal_id: str = journal_id, at: dt.datetime = at
            ) -> tuple[Break, Sequence[Any]]:
                if stored.suspense_journal_id:
                    return stored, ()  # recorded meanwhile
                posted, action = record_suspense(stored, journal_id, at=at, sim_time=day_end.sim_time)
                return posted, (action,)

            posted, _, _ = await asyncio.to_thread(self.store.apply_update, brk.break_id, change)
            await self.append([self._suspense_record(posted, day_end.sim_time)])

    async def _post_suspense(self, brk: Break, break_traceparent: str) -> str:
        """PostJournal inside a span that is the child of the break's; the journal id, "" on failure."""
        threshold = self.config.suspense_cash_age_business_days
        request = peers.suspense_request(brk, threshold)
        if request is None:
            log.warning("an aged cash break has no postable amount", extra={"break_id": brk.break_id})
            return ""
        parent = telemetry.context_from_traceparent(break_traceparent) if break_traceparent else None
        with _tracer.start_as_current_span(
            "recon.suspense",
            context=parent,
            attributes={"break.id": brk.break_id, "journal.key": request.idempotency_key},
        ):
            try:
                reply = await self.ledger.PostJournal(request, timeout=RPC_TIMEOUT_S)  # type: ignore[union-attr]
            except grpc.aio.AioRpcError as error:
                if error.code() == grpc.StatusCode.ALREADY_EXISTS:
                    # Posted before with the figures of an earlier day: that journal is the break's.
                    status = status_from_error(error)
                    info = details_of(status)[1] if status is not None else None
                    journal_id = info.metadata.get("journal_id", "") if info is not None else ""
                    if journal_id:
                        return journal_id
                log.warning(
                    "could not post an aged cash break to suspense; retried at the next check",
                    extra={"break_id": brk.break_id, "code": error.code().name, "error": error.details()},
                )
                return ""
        log.info(
            "posted an aged cash break to suspense",
            extra={
                "break_id": brk.break_id,
                "journal_id": reply.journal.journal_id,
                "replayed": reply.replayed,
            },
        )
        return str(reply.journal.journal_id)

    @staticmethod
    def _suspense_record(brk: Break, sim_time: dt.datetime) -> NewRecord:
        return NewRecord(
            event_id=f"rec-{brk.break_id}-suspense_posted",
            kind="break.suspense_posted",
            sim_time=sim_time,
            trace_id=brk.trace_id,
            caused_by=brk.caused_by,
            mandate_id=brk.mandate_id,
            summary=f"break {brk.break_id} posted to suspense: journal {brk.suspense_journal_id}",
        )

    async def _ensure_suspense_records(self) -> None:
        """The event-log record of every suspense posting (a crash may have come between the two)."""
        breaks = await asyncio.to_thread(self.store.open_breaks)
        records = []
        for brk in breaks:
            if not brk.suspense_journal_id:
                continue
            actions = await asyncio.to_thread(self.store.actions, brk.break_id)
            posted = [a for a in actions if a.kind is ActionKind.POSTED_TO_SUSPENSE]
            sim_time = posted[-1].sim_time if posted else brk.updated_at
            records.append(self._suspense_record(brk, sim_time))
        await self.append(records)
