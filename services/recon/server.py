"""gRPC handlers of opsuite.recon.v1.ReconService: validate, translate, call the store and the domain.

The rules live elsewhere: the workflow (which status moves are allowed) in domain/breaks.py, aging
buckets in domain/aging.py, what a change of a break is and the gap-free change feed in store/.
This module maps requests, responses and errors. The day-end check that fills the store is not
here: it is handed in as `run_check` (RunCheck) and commits through the same store, whose commits
wake WatchBreaks streams (services/common/change_signal.py).
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence

import grpc

from opsuite.recon.v1 import recon_pb2, recon_pb2_grpc
from services.common.change_signal import SignalClosed
from services.common.convert import (
    date_from_proto,
    decimal_from_proto,
    money_from_proto,
    timestamp_from_request,
)
from services.common.eventlog import EventLog
from services.common.limits import MAX_NAME_CHARS, MAX_PAGE_BYTES, MAX_TEXT_CHARS, too_long
from services.common.paging import DEFAULT_PAGE, MAX_PAGE
from services.common.status import (
    FieldViolation,
    RequestError,
    echo,
    invalid_argument,
    rpc_errors,
    unknown_id,
)
from services.common.trace_chain import BadId, NothingFound, ScanTimedOut, nothing_found_line
from services.recon import codec
from services.recon.chain import chain_of, chain_request, chain_to_proto
from services.recon.domain.breaks import InvalidUpdate, TransitionRefused, looks_like_break_id, update
from services.recon.domain.check import Reference
from services.recon.domain.config import ReconConfig
from services.recon.domain.overview import overview
from services.recon.domain.raised import MAX_KEY_CHARS, RAISABLE_KINDS, RaisedItem
from services.recon.domain.records import Break, BreakAction, BreakKind, BreakStatus, CheckRun
from services.recon.store import (
    BreakChange,
    BreakFilter,
    ChangeKind,
    ChangeSignal,
    ChangesPruned,
    ReconStore,
    Retention,
    UnknownBreak,
)

WATCH_BATCH = 256  # change-feed rows read per round trip of a watch

# mandate_id or None for every mandate -> the runs the check recorded.
RunChecker = Callable[[str | None], Awaitable[Sequence[CheckRun]]]
# a finding another service raises -> (its break, whether it was opened now).
BreakRaiser = Callable[[RaisedItem], Awaitable[tuple[Break, bool]]]
MAX_CAUSED_BY = 32
# market's mandates and instruments, as recon read them at start-up; None until it has.
ReferenceLookup = Callable[[], Reference | None]
LineageLookup = Callable[[Break], Awaitable[codec.Lineage]]
# break id of a break just written off -> its write-off journal posted (when the ledger answers now).
WriteOff = Callable[[str], Awaitable[None]]


def _wall_clock() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _not_found(break_id: str, field: str = "break_id", retention: Retention | None = None) -> RequestError:
    """NOT_FOUND for a break id recon does not have. Once closed history was pruned, an id of the
    break form may be one recon had (ids are hashes: which it had, it cannot tell), so the answer
    says so, naming the horizon."""
    horizon = retention.horizon if retention is not None else None
    if horizon is None or not looks_like_break_id(break_id):
        return RequestError(
            grpc.StatusCode.NOT_FOUND,
            f"no break {break_id!r}; ListBreaks shows the breaks there are",
            violations=[FieldViolation(field, f"unknown break {break_id!r}")],
            reason="BREAK_NOT_FOUND",
            metadata={"break_id": break_id},
        )
    return RequestError(
        grpc.StatusCode.NOT_FOUND,
        f"no break {break_id!r}: it is unknown, or it was closed before {horizon.isoformat()} and pruned "
        "(recon keeps closed breaks for OPSUITE_RECON_KEEP_DAYS business days; open breaks are always "
        "kept); ListBreaks shows the breaks there are",
        violations=[
            FieldViolation(
                field, f"unknown break {break_id!r}, or closed before {horizon.isoformat()} and pruned"
            )
        ],
        reason="BREAK_NOT_FOUND",
        metadata={"break_id": break_id, "horizon": horizon.isoformat()},
    )


def _changes_pruned(error: ChangesPruned) -> RequestError:
    """A watch resuming from before the oldest change kept (as market answers a cursor older than its
    retention): the changes in between are gone, so the watcher starts again from the open breaks."""
    oldest = error.oldest_change_seq
    horizon = error.horizon.isoformat() if error.horizon is not None else "the horizon"
    return RequestError(
        grpc.StatusCode.OUT_OF_RANGE,
        f"after_change_seq {error.after_change_seq} is older than the oldest change kept, {oldest}: the "
        f"changes before it (closed history before {horizon}) were pruned; watch again with "
        "after_change_seq=0 (every open break as it is now, then every change) after dropping what you "
        "built from the old changes",
        violations=[FieldViolation("after_change_seq", f"at least {oldest - 1}, or 0")],
        reason="CURSOR_TOO_OLD",
        metadata={"oldest_change_seq": str(oldest), "horizon": horizon},
    )


def _reference_not_read() -> RequestError:
    return RequestError(
        grpc.StatusCode.UNAVAILABLE,
        "recon has not read market's mandates and instruments yet (it does at start-up), so it cannot "
        "tell a known id from an unknown one; retry once recon reports SERVING",
        reason="REFERENCE_NOT_READ",
    )


def _kinds(values: Sequence[int], field: str, violations: list[FieldViolation]) -> frozenset[BreakKind]:
    kinds: set[BreakKind] = set()
    for i, value in enumerate(values):
        try:
            kinds.add(codec.break_kind_from_proto(value, f"{field}[{i}]"))
        except RequestError as error:
            violations.extend(error.violations)
    return frozenset(kinds)


def _shutting_down(after_change_seq: int) -> RequestError:
    return RequestError(
        grpc.StatusCode.UNAVAILABLE,
        f"recon is shutting down; watch again with after_change_seq={after_change_seq} to miss nothing",
        reason="SHUTTING_DOWN",
        metadata={"after_change_seq": str(after_change_seq)},
    )


def check_refused_at_shutdown() -> RequestError:
    """RunCheck while recon shuts down (in flight at SIGTERM, or arriving while it drains)."""
    return RequestError(
        grpc.StatusCode.UNAVAILABLE,
        "recon is shutting down: the check did not run and nothing changed; retry RunCheck once recon "
        "serves again",
        reason="SHUTTING_DOWN",
    )


class ReconServicer(recon_pb2_grpc.ReconServiceServicer):
    """store: where breaks, runs and the change feed live. run_check: runs a check now (RunCheck),
    None when this process has no checker. lineage: a break's chain from the combined event log
    (GetBreak), None to answer with the break's own caused_by and trace id. sim_clock: the
    simulated time recorded on workflow actions (wall clock when not given). write_off: posts the
    write-off journal of a break just written off (None: this process posts nothing). reference:
    market's mandates and instruments, which unknown ids in a request are checked against
    (NOT_FOUND), UNAVAILABLE while it returns None (recon has not read them from market yet);
    None: ids are not checked (a process serving stored results without market). event_log: the
    combined event log GetChain reads (None: GetChain is FAILED_PRECONDITION)."""

    def __init__(
        self,
        store: ReconStore,
        *,
        run_check: RunChecker | None = None,
        lineage: LineageLookup | None = None,
        config: ReconConfig | None = None,
        sim_clock: Callable[[], dt.datetime] | None = None,
        write_off: WriteOff | None = None,
        reference: ReferenceLookup | None = None,
        raise_break: BreakRaiser | None = None,
        event_log: EventLog | None = None,
    ) -> None:
        self.store = store
        self._event_log = event_log
        self._raise_break = raise_break
        self._reference = reference
        self._write_off = write_off
        self.config = config or ReconConfig.default()
        self._run_check = run_check
        self._lineage = lineage
        self._sim_clock = sim_clock or _wall_clock
        self._signal: ChangeSignal | None = None
        self._closing = False

    def close(self) -> None:
        """Shutting down: open watches end now with UNAVAILABLE (saying where to resume), new ones
        are refused, so no stream holds the server for its grace period."""
        self._closing = True
        if self._signal is not None:
            self._signal.close()
            self._signal = None

    def _change_signal(self) -> ChangeSignal:
        # Created on the first watch, inside the server's event loop; head 0 is safe (see ChangeSignal).
        if self._signal is None:
            self._signal = ChangeSignal(self.store)
        return self._signal

    def _known(self) -> Reference | None:
        """market's reference, None when ids are not checked; UNAVAILABLE until recon has read it."""
        if self._reference is None:
            return None
        reference = self._reference()
        if reference is None:
            raise _reference_not_read()
        return reference

    def _check_mandate(self, mandate_id: str, field: str = "mandate_id") -> None:
        """NOT_FOUND for a mandate market does not have (nothing to check for an empty one)."""
        if not mandate_id:
            return
        reference = self._known()
        if reference is not None and mandate_id not in reference.base_currencies:
            raise unknown_id(
                field, "mandate", mandate_id, sorted(reference.base_currencies), "MarketService/ListMandates"
            )

    def _check_instrument(self, instrument_id: str, field: str = "instrument_id") -> None:
        if not instrument_id:
            return
        reference = self._known()
        if reference is not None and instrument_id not in reference.instruments:
            raise unknown_id(
                field,
                "instrument",
                instrument_id,
                sorted(reference.instruments),
                "MarketService/ListInstruments",
            )

    async def _missing(self, break_id: str, field: str = "break_id") -> RequestError:
        """NOT_FOUND for a break the store does not have, saying when it may have been pruned."""
        return _not_found(break_id, field, await asyncio.to_thread(self.store.retention))

    async def _detail(self, brk: Break, history: Sequence[BreakAction]) -> recon_pb2.BreakDetail:
        lineage = (
            await self._lineage(brk)
            if self._lineage is not None
            else codec.Lineage(caused_by=brk.caused_by, trace_id=brk.trace_id)
        )
        return codec.detail_to_proto(brk, history, lineage)

    # ------------------------------------------------------------ reads

    @rpc_errors
    async def GetReconciliation(
        self, request: recon_pb2.GetReconciliationRequest, context: grpc.aio.ServicerContext
    ) -> recon_pb2.Reconciliation:
        self._check_mandate(request.mandate_id)
        summary = await asyncio.to_thread(self.store.summary, request.mandate_id)
        standing = overview(summary.runs, summary.open_breaks, summary.timing_items, self.config.aging)
        if request.mandate_id and not standing.mandates:
            if self._reference is None:
                # Without market's mandates, recon cannot tell an unknown mandate from a new one.
                raise RequestError(
                    grpc.StatusCode.NOT_FOUND,
                    f"nothing reconciled for mandate {echo(request.mandate_id)}: no check has run for it",
                    violations=[
                        FieldViolation("mandate_id", "no check run, break or timing item for this mandate")
                    ],
                    reason="MANDATE_NOT_RECONCILED",
                )
            # A mandate that exists is never NOT_FOUND: it is not reconciled yet.
            raise RequestError(
                grpc.StatusCode.FAILED_PRECONDITION,
                f"mandate {echo(request.mandate_id)} is not reconciled yet: the first check runs at the "
                "first simulated day end; retry after it",
                reason="MANDATE_NOT_RECONCILED",
            )
        return codec.overview_to_proto(standing)

    def _filter(self, request: recon_pb2.ListBreaksRequest) -> tuple[BreakFilter, int]:
        """The store filter and page size of a ListBreaks request; every bad field reported at once."""
        violations: list[FieldViolation] = []
        kinds = _kinds(request.kinds, "kinds", violations)
        statuses: set[BreakStatus] = set()
        for i, value in enumerate(request.statuses):
            try:
                statuses.add(codec.status_from_proto(value, f"statuses[{i}]"))
            except RequestError as error:
                violations.extend(error.violations)
        low, high = request.min_age_business_days, request.max_age_business_days
        if low < 0:
            violations.append(FieldViolation("min_age_business_days", f"must be 0 or more, got {low}"))
        if high < 0:
            violations.append(FieldViolation("max_age_business_days", f"must be 0 or more, got {high}"))
        elif high and high < low:
            violations.append(
                FieldViolation("max_age_business_days", f"{high} is below min_age_business_days {low}")
            )
        minimum = None
        if request.HasField("min_base_amount"):
            try:
                minimum = decimal_from_proto(request.min_base_amount, "min_base_amount")
            except RequestError as error:
                violations.extend(error.violations)
            else:
                if minimum < 0:
                    violations.append(
                        FieldViolation("min_base_amount", "must be 0 or more (it bounds |amount|)")
                    )
        labels = [b.label for b in self.config.aging.buckets]
        if request.aging_bucket and request.aging_bucket not in labels:
            violations.append(
                FieldViolation("aging_bucket", f"{request.aging_bucket!r} is not one of {', '.join(labels)}")
            )
        if not 0 <= request.page_size <= MAX_PAGE:
            violations.append(
                FieldViolation("page_size", f"must be between 0 and {MAX_PAGE}, got {request.page_size}")
            )
        violations += too_long(
            [
                ("parent_break_id", request.parent_break_id, MAX_NAME_CHARS),
                ("mandate_id", request.mandate_id, MAX_NAME_CHARS),
                ("instrument_id", request.instrument_id, MAX_NAME_CHARS),
            ]
        )
        if violations:
            raise invalid_argument(violations)
        # The form is right: ids that do not exist are NOT_FOUND, not an empty page.
        self._check_mandate(request.mandate_id)
        self._check_instrument(request.instrument_id)
        flt = BreakFilter(
            mandate_id=request.mandate_id,
            kinds=kinds,
            statuses=frozenset(statuses),
            min_age=low,
            max_age=high or None,
            min_abs_base_amount=minimum,
            instrument_id=request.instrument_id,
            aging_bucket=request.aging_bucket,
            escalated_only=request.escalated_only,
            top_level_only=request.top_level_only,
            parent_break_id=request.parent_break_id,
        )
        return flt, request.page_size or DEFAULT_PAGE

    @rpc_errors
    async def ListBreaks(
        self, request: recon_pb2.ListBreaksRequest, context: grpc.aio.ServicerContext
    ) -> recon_pb2.ListBreaksResponse:
        flt, size = self._filter(request)
        parent = request.parent_break_id
        if parent and await asyncio.to_thread(self.store.get_break, parent) is None:
            raise await self._missing(parent, "parent_break_id")
        try:
            found = await asyncio.to_thread(self.store.breaks, flt, after=request.page_token, limit=size + 1)
        except UnknownBreak:
            # The token names the last break of the previous page; pruning may have taken it since.
            horizon = (await asyncio.to_thread(self.store.retention)).horizon
            pruned = (
                f", or names a break pruned since (closed before {horizon}): list again" if horizon else ""
            )
            raise invalid_argument(
                [FieldViolation("page_token", f"is not a token returned by a previous page{pruned}")]
            ) from None
        page = found[:size]
        reply = recon_pb2.ListBreaksResponse()
        used = 0
        for brk in page:
            message = codec.break_to_proto(brk)
            used += message.ByteSize()
            if reply.breaks and used > MAX_PAGE_BYTES:
                # Large enough already: the rest on the next page, so no reply nears the message limit.
                reply.next_page_token = reply.breaks[-1].break_id
                return reply
            reply.breaks.append(message)
        reply.next_page_token = page[-1].break_id if len(found) > size else ""
        return reply

    @rpc_errors
    async def GetBreak(
        self, request: recon_pb2.GetBreakRequest, context: grpc.aio.ServicerContext
    ) -> recon_pb2.BreakDetail:
        if not request.break_id:
            raise invalid_argument([FieldViolation("break_id", "name the break, for example BRK-...")])
        found = await asyncio.to_thread(self.store.break_detail, request.break_id)
        if found is None:
            raise await self._missing(request.break_id)
        return await self._detail(*found)

    @rpc_errors
    async def GetChain(
        self, request: recon_pb2.GetChainRequest, context: grpc.aio.ServicerContext
    ) -> recon_pb2.Chain:
        identifier, seeds = chain_request(request)
        if self._event_log is None:
            raise RequestError(
                grpc.StatusCode.FAILED_PRECONDITION,
                "this recon process has no combined event log, so it has no chains to give",
                reason="NO_EVENT_LOG",
            )
        try:
            chain = await asyncio.to_thread(
                chain_of, self.store, self._event_log, identifier, seeds, context.time_remaining()
            )
        except NothingFound as error:
            raise RequestError(
                grpc.StatusCode.NOT_FOUND,
                nothing_found_line(identifier, str(error)),
                violations=[FieldViolation("id", "nothing in the event log or recon's store has this id")],
                reason="NOTHING_FOUND",
                metadata={"id": identifier},
            ) from None
        except BadId as error:
            raise invalid_argument([FieldViolation("id", str(error))]) from None
        except ScanTimedOut as error:
            raise RequestError(
                grpc.StatusCode.DEADLINE_EXCEEDED,
                f"{error}; call again with a longer deadline",
                reason="SEARCH_TIMED_OUT",
            ) from None
        return chain_to_proto(chain)

    # ------------------------------------------------------------ workflow

    @rpc_errors
    async def UpdateBreak(
        self, request: recon_pb2.UpdateBreakRequest, context: grpc.aio.ServicerContext
    ) -> recon_pb2.BreakDetail:
        violations: list[FieldViolation] = []
        if not request.break_id:
            violations.append(FieldViolation("break_id", "name the break to update"))
        actor = request.actor.strip()
        if not actor:
            violations.append(FieldViolation("actor", "who acts is required: it is recorded on each action"))
        status = None
        if request.status != recon_pb2.BREAK_STATUS_UNSPECIFIED:
            try:
                status = codec.status_from_proto(request.status, "status")
            except RequestError as error:
                violations.extend(error.violations)
        assignee = request.assignee if request.HasField("assignee") else None
        comment = request.comment.strip()
        if assignee is None and not comment and request.status == recon_pb2.BREAK_STATUS_UNSPECIFIED:
            violations.extend(
                FieldViolation(field, "nothing to change: set assignee, comment or status")
                for field in ("assignee", "comment", "status")
            )
        violations += too_long(
            [
                ("break_id", request.break_id, MAX_NAME_CHARS),
                ("actor", request.actor, MAX_NAME_CHARS),
                ("assignee", request.assignee, MAX_NAME_CHARS),
                ("comment", request.comment, MAX_TEXT_CHARS),
            ]
        )
        if violations:
            raise invalid_argument(violations)
        at, sim_time = _wall_clock(), self._sim_clock()
        seen: list[Break] = []

        def change(brk: Break) -> tuple[Break, tuple[BreakAction, ...]]:
            seen.append(brk)
            return update(
                brk, actor=actor, at=at, sim_time=sim_time, assignee=assignee, comment=comment, status=status
            )

        try:
            await asyncio.to_thread(self.store.apply_update, request.break_id, change)
        except UnknownBreak:
            raise await self._missing(request.break_id) from None
        except TransitionRefused as error:
            brk = seen[-1]
            hint = (
                " A closed break stays closed: if its difference is still there, the next check opens a new"
                " break for it."
                if not brk.status.is_open
                else ""
            )
            raise RequestError(
                grpc.StatusCode.FAILED_PRECONDITION,
                f"{error}.{hint}",
                reason="TRANSITION_REFUSED",
                metadata={"break_id": brk.break_id, "status": brk.status.value},
            ) from None
        except InvalidUpdate as error:
            brk = seen[-1]
            same = []
            if assignee is not None and assignee == brk.assignee:
                same.append(
                    FieldViolation(
                        "assignee", f"already {'assigned to ' + assignee if assignee else 'unassigned'}"
                    )
                )
            if status is not None and status == brk.status:
                same.append(FieldViolation("status", f"already {status.value}"))
            raise invalid_argument(same or [FieldViolation("status", str(error))], str(error)) from None
        if status is BreakStatus.WRITTEN_OFF and self._write_off is not None:
            # Committed: the journal follows (now when the ledger answers, else at the next check).
            await self._write_off(request.break_id)
        found = await asyncio.to_thread(self.store.break_detail, request.break_id)
        assert found is not None  # just changed: its change is kept, so a prune cannot take it
        return await self._detail(*found)

    @rpc_errors
    async def WatchBreaks(
        self, request: recon_pb2.WatchBreaksRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[recon_pb2.BreakChange]:
        violations: list[FieldViolation] = []
        kinds = _kinds(request.kinds, "kinds", violations)
        violations += too_long([("mandate_id", request.mandate_id, MAX_NAME_CHARS)])
        if violations:
            raise invalid_argument(violations)
        # A watch on a mandate that does not exist would wait for ever, silently.
        self._check_mandate(request.mandate_id)
        mandate = request.mandate_id

        def wanted(brk: Break) -> bool:
            return (not mandate or brk.mandate_id == mandate) and (not kinds or brk.kind in kinds)

        if self._closing:
            raise _shutting_down(request.after_change_seq)
        signal = self._change_signal()
        after = request.after_change_seq
        if after == 0:
            head, current = await asyncio.to_thread(self.store.open_breaks_at_head, mandate)
            for brk in current:
                if wanted(brk):
                    yield codec.change_to_proto(BreakChange(head, ChangeKind.CURRENT, brk))
            after = head
        else:
            head = await asyncio.to_thread(self.store.head)
            if after > head:
                raise RequestError(
                    grpc.StatusCode.OUT_OF_RANGE,
                    f"after_change_seq {after} is beyond the latest change {head}; resume from {head} or 0",
                    violations=[FieldViolation("after_change_seq", f"at most {head}")],
                    reason="CURSOR_AHEAD",
                    metadata={"head": str(head)},
                )
        while True:
            try:
                # Refused, not skipped, when a prune took changes after `after` (at the start, or
                # while a slow watcher was behind): the watcher would silently miss them.
                changes = await asyncio.to_thread(self.store.change_feed, after, WATCH_BATCH)
            except ChangesPruned as error:
                raise _changes_pruned(error) from None
            for change in changes:
                after = change.change_seq
                if wanted(change.record):
                    yield codec.change_to_proto(change)
            if len(changes) < WATCH_BATCH:
                try:
                    await signal.wait_beyond(after)
                except SignalClosed:
                    raise _shutting_down(after) from None

    @rpc_errors
    async def RunCheck(
        self, request: recon_pb2.RunCheckRequest, context: grpc.aio.ServicerContext
    ) -> recon_pb2.RunCheckResponse:
        if request.comparison != recon_pb2.COMPARISON_UNSPECIFIED:
            codec.comparison_from_proto(request.comparison, "comparison")
        self._check_mandate(request.mandate_id)
        if self._run_check is None:
            raise RequestError(
                grpc.StatusCode.FAILED_PRECONDITION,
                "no checker configured: this recon process only serves stored results",
                reason="NO_CHECKER",
            )
        if self._closing:
            raise check_refused_at_shutdown()
        # A check compares every comparison of the mandate (they share one snapshot of the books).
        runs = await self._run_check(request.mandate_id or None)
        return recon_pb2.RunCheckResponse(runs=[codec.run_to_proto(r) for r in runs])

    @rpc_errors
    async def RaiseBreak(
        self, request: recon_pb2.RaiseBreakRequest, context: grpc.aio.ServicerContext
    ) -> recon_pb2.RaiseBreakResponse:
        item = self._raised_item(request)
        if self._raise_break is None:
            raise RequestError(
                grpc.StatusCode.FAILED_PRECONDITION,
                "no checker configured: this recon process only serves stored results",
                reason="NO_CHECKER",
            )
        if self._closing:
            raise RequestError(
                grpc.StatusCode.UNAVAILABLE,
                "recon is shutting down: no break was raised; raise it again once recon serves again",
                reason="SHUTTING_DOWN",
            )
        brk, created = await self._raise_break(item)
        return recon_pb2.RaiseBreakResponse(record=codec.break_to_proto(brk), created=created)

    def _raised_item(self, request: recon_pb2.RaiseBreakRequest) -> RaisedItem:
        """The request as a RaisedItem; INVALID_ARGUMENT naming every bad field, NOT_FOUND for an
        unknown mandate or instrument."""
        violations: list[FieldViolation] = []
        kind: BreakKind | None = None
        try:
            kind = codec.break_kind_from_proto(request.kind, "kind")
        except RequestError as error:
            violations.extend(error.violations)
        if kind is not None and kind not in RAISABLE_KINDS:
            violations.append(
                FieldViolation(
                    "kind",
                    f"{kind.value} is found by recon's own checks; another service raises only "
                    + ", ".join(sorted(k.value for k in RAISABLE_KINDS)),
                )
            )
        for name in ("source", "idempotency_key", "mandate_id", "description"):
            if not getattr(request, name).strip():
                violations.append(FieldViolation(name, f"{name} is required"))
        if not request.fill_id and not request.instrument_id:
            violations.append(
                FieldViolation("fill_id", "name the fill (or at least the instrument) it is about")
            )
        if len(request.caused_by) > MAX_CAUSED_BY:
            violations.append(FieldViolation("caused_by", f"at most {MAX_CAUSED_BY} event ids"))
        violations += too_long(
            [
                ("source", request.source, MAX_NAME_CHARS),
                ("idempotency_key", request.idempotency_key, MAX_KEY_CHARS),
                ("mandate_id", request.mandate_id, MAX_NAME_CHARS),
                ("fill_id", request.fill_id, MAX_NAME_CHARS),
                ("instrument_id", request.instrument_id, MAX_NAME_CHARS),
                ("description", request.description, MAX_TEXT_CHARS),
                *((f"caused_by[{i}]", e, MAX_NAME_CHARS) for i, e in enumerate(request.caused_by)),
            ]
        )
        figures: dict[str, object] = {}
        currency = ""
        quantities = (("book_quantity", request.book_quantity), ("other_quantity", request.other_quantity))
        for name, quantity in quantities:
            if quantity.value:
                try:
                    figures[name] = decimal_from_proto(quantity, name)
                except RequestError as error:
                    violations.extend(error.violations)
        for name, money in (("book_amount", request.book_amount), ("other_amount", request.other_amount)):
            if money.currency or money.amount.value:
                try:
                    figures[name], currency = money_from_proto(money, name)
                except RequestError as error:
                    violations.extend(error.violations)
        as_of = None
        if request.HasField("as_of_date"):
            try:
                as_of = date_from_proto(request.as_of_date, "as_of_date")
            except RequestError as error:
                violations.extend(error.violations)
        found_at = None
        if request.HasField("found_at"):
            try:
                found_at = timestamp_from_request(request.found_at, "found_at")
            except RequestError as error:
                violations.extend(error.violations)
        if violations:
            raise invalid_argument(violations)
        assert kind is not None
        self._check_mandate(request.mandate_id)
        self._check_instrument(request.instrument_id)
        return RaisedItem(
            kind=kind,
            source=request.source.strip(),
            key=request.idempotency_key.strip(),
            mandate_id=request.mandate_id,
            fill_id=request.fill_id,
            instrument_id=request.instrument_id,
            currency=currency,
            description=request.description.strip(),
            caused_by=tuple(request.caused_by),
            as_of_date=as_of,
            found_at=found_at,
            **figures,  # type: ignore[arg-type]
        )


def register(server: grpc.aio.Server, servicer: ReconServicer) -> list[str]:
    recon_pb2_grpc.add_ReconServiceServicer_to_server(servicer, server)
    return [recon_pb2.DESCRIPTOR.services_by_name["ReconService"].full_name]
