"""gRPC handlers of opsuite.market.v1.MarketService: validate, translate, delegate.

Each handler checks its request, calls the runtime or the simulation, and
translates records to protobuf with services/market/codec.py.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator, Sequence

import grpc
from google.protobuf import descriptor as pb_descriptor
from google.protobuf import message_factory

from opsuite.common.v1 import common_pb2
from opsuite.market.v1 import market_pb2, market_pb2_grpc
from services.common.convert import date_to_proto, timestamp_to_proto
from services.common.enums import enum_from_proto
from services.common.eventlog import FramedRun, RetentionExceeded
from services.common.paging import page_size, position
from services.common.status import (
    FieldViolation,
    RequestError,
    echo,
    invalid_argument,
    rpc_errors,
    unknown_id,
)
from services.market import codec
from services.market.hub import EventFilter, encode_batch, kept_frames
from services.market.log_pages import PAGE, LogPages
from services.market.pdf import render_confirmation_pdf
from services.market.retention import UnknownFollower
from services.market.runtime import SOURCE, ClockState, MarketRuntime
from services.market.sim.engine import CONFIRMATIONS_KEPT, KIND_RANK
from services.market.sim.records import AssetClass, FaultKind

SERVICE_NAME = market_pb2.DESCRIPTOR.services_by_name["MarketService"].full_name
DEFAULT_BATCH = 256
MAX_BATCH = 10_000
CATCH_UP_PAGE = PAGE


def out_of_range(from_seq: int, oldest: int) -> RequestError:
    return RequestError(
        grpc.StatusCode.OUT_OF_RANGE,
        f"from_seq {from_seq} is older than the oldest retained seq {oldest}; "
        f"resubscribe from {oldest} (or 0) after rebuilding state from GetSnapshot",
        reason="CURSOR_TOO_OLD",
        metadata={"oldest_seq": str(oldest)},
    )


# Every kind of event the market produces: a StreamEvents kind filter must keep at least one.
EVENT_KINDS = tuple(sorted(KIND_RANK))


def page_bounds(size: int, token: str, total: int) -> tuple[int, int]:
    """Start and end of the requested page; the token is the offset of its first item."""
    size = page_size(size)
    start = position(token, at_most=total)
    return start, min(total, start + size)


def next_token(end: int, total: int) -> str:
    return str(end) if end < total else ""


def clock_to_proto(state: ClockState) -> market_pb2.Clock:
    clock = market_pb2.Clock(
        mode=market_pb2.CLOCK_MODE_LIVE if state.live else market_pb2.CLOCK_MODE_MAX,
        business_days_per_second=state.days_per_second,
        seed=state.seed,
        start_date=date_to_proto(state.start_date),
        end_date=date_to_proto(state.end_date) if state.end_date else None,  # unset: no end
        business_days_elapsed=state.days_elapsed,
        head_seq=state.head_seq,
        oldest_seq=state.oldest_seq,
        regime=state.regime,
        data_source=state.data_source,
        running=state.running,
        synthetic=codec.synthetic_origin_to_proto(state.synthetic),
    )
    if state.real_data_end is not None:
        clock.real_data_end.CopyFrom(date_to_proto(state.real_data_end))
    clock.followers.extend(
        market_pb2.FollowerPosition(follower=name, applied_seq=seq) for name, seq in state.followers
    )
    if state.sim_date is not None:
        clock.sim_date.CopyFrom(date_to_proto(state.sim_date))
        clock.sim_time.CopyFrom(
            timestamp_to_proto(dt.datetime.combine(state.sim_date, dt.time(23, 59, 59), tzinfo=dt.UTC))
        )
    return clock


FAULT_INJECTION_VARIABLE = "OPSUITE_ALLOW_FAULT_INJECTION"


def fault_injection_refused() -> RequestError:
    # FAILED_PRECONDITION, not PERMISSION_DENIED: the status code docs give PERMISSION_DENIED for a
    # caller who lacks permission, and tie it to the caller's identity (UNAUTHENTICATED when there is
    # none). Here every caller is refused alike, because of how this market is configured, and none
    # should retry until an operator changes that: the docs' case (c) of FAILED_PRECONDITION.
    return RequestError(
        grpc.StatusCode.FAILED_PRECONDITION,
        f"fault injection is disabled on this market: start it with {FAULT_INJECTION_VARIABLE}=true "
        "to let InjectFault schedule faults (`opsuite up` does, for the local demo); nothing was injected",
        reason="FAULT_INJECTION_DISABLED",
        metadata={"setting": FAULT_INJECTION_VARIABLE},
    )


class MarketServicer(market_pb2_grpc.MarketServiceServicer):
    def __init__(self, runtime: MarketRuntime, *, allow_fault_injection: bool = False) -> None:
        self.runtime = runtime
        self.allow_fault_injection = allow_fault_injection
        # In the order ListMandates and ListInstruments give them.
        self.mandate_ids = tuple(m.mandate_id for m in runtime.sim.mandates)
        self.instrument_ids = tuple(i.instrument_id for i in runtime.sim.instruments)
        self.currencies = tuple(sorted({i.currency for i in runtime.sim.instruments}))
        self.log_pages = LogPages(lambda first, limit: runtime.event_log.read_framed(SOURCE, first, limit))

    def _mandate(self, mandate_id: str, field: str = "mandate_id") -> None:
        if mandate_id and mandate_id not in self.mandate_ids:
            raise unknown_id(field, "mandate", mandate_id, self.mandate_ids, "ListMandates")

    def _instrument(self, instrument_id: str, field: str = "instrument_id") -> None:
        if instrument_id and instrument_id not in self.instrument_ids:
            raise unknown_id(field, "instrument", instrument_id, self.instrument_ids, "ListInstruments")

    # ------------------------------------------------------------ streaming

    def _stream_filter(self, request: market_pb2.StreamEventsRequest) -> EventFilter:
        violations = []
        for i, kind in enumerate(request.filter.kinds):
            if not kind:
                violations.append(FieldViolation(f"filter.kinds[{i}]", "must not be empty"))
            elif not any(known.startswith(kind) for known in EVENT_KINDS):
                # A filter that keeps no kind would stream heartbeats only, hiding the typo.
                violations.append(
                    FieldViolation(f"filter.kinds[{i}]", f"{echo(kind)} is not the start of any event kind")
                )
        violations += [
            FieldViolation(f"filter.mandate_ids[{i}]", "must not be empty")
            for i, mandate_id in enumerate(request.filter.mandate_ids)
            if not mandate_id
        ]
        if request.max_batch_size > MAX_BATCH:
            violations.append(FieldViolation("max_batch_size", f"must be at most {MAX_BATCH}"))
        if violations:
            kinds = (
                f"; the kinds are {', '.join(EVENT_KINDS)}"
                if any(v.field.startswith("filter.kinds") for v in violations)
                else ""
            )
            raise invalid_argument(
                violations, "; ".join(f"{v.field}: {v.description}" for v in violations) + kinds
            )
        # The form is right: an id this run does not have is NOT_FOUND, as everywhere.
        for i, mandate_id in enumerate(request.filter.mandate_ids):
            self._mandate(mandate_id, f"filter.mandate_ids[{i}]")
        return EventFilter(tuple(request.filter.kinds), frozenset(request.filter.mandate_ids))

    @rpc_errors
    async def StreamEvents(  # type: ignore[override]  # pre-framed EventBatch bytes, see register()
        self, request: market_pb2.StreamEventsRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[bytes]:
        """Yields serialized EventBatch bytes (see register(): this method's serializer passes bytes through)."""
        event_filter = self._stream_filter(request)
        limit = request.max_batch_size or DEFAULT_BATCH
        runtime, hub = self.runtime, self.runtime.hub
        cursor = request.from_seq or runtime.oldest_seq
        if cursor < runtime.oldest_seq:
            raise out_of_range(cursor, runtime.oldest_seq)
        if cursor > hub.head_seq + 1:
            raise RequestError(
                grpc.StatusCode.OUT_OF_RANGE,
                f"from_seq {cursor} is beyond the head {hub.head_seq} + 1: this market has not produced it; "
                "was the cursor saved against another run?",
                reason="CURSOR_AHEAD",
                metadata={"head_seq": str(hub.head_seq)},
            )
        # The page this subscriber sends from: events of the in-memory tail, or of the event log's
        # blocks when it catches up from older events; several batches per page (per thread hop
        # for the log), and bounded, so a subscriber holds at most a page.
        page: FramedRun | None = None
        while True:
            if hub.closed:
                # Shutting down: end now, clean and retryable, saying where to resume, rather than
                # hold the server for its grace period or end as if the stream were complete.
                raise RequestError(
                    grpc.StatusCode.UNAVAILABLE,
                    f"market is shutting down; subscribe again with from_seq={cursor} to miss nothing",
                    reason="SHUTTING_DOWN",
                    metadata={"from_seq": str(cursor)},
                )
            if cursor > hub.head_seq:
                await hub.wait_beyond(cursor - 1)
                continue
            if (
                page is None
                or not page.first_seq <= cursor <= page.last_seq
                # Less than a batch left while the tail holds more: a full batch from the tail.
                or (
                    page.last_seq - cursor < limit - 1
                    and page.last_seq < hub.head_seq
                    and cursor >= hub.first_seq
                )
            ):
                size = max(limit, CATCH_UP_PAGE)
                page = hub.read(cursor, size)
                if page is None:
                    page = await self._read_log(cursor, size)
                if not len(page):
                    raise RuntimeError(f"seq {cursor} is neither in memory nor in the event log")
            begin = cursor - page.first_seq
            # A page read from the log may hold a live day's close before it goes out (runtime.py).
            end = min(begin + limit, len(page), hub.head_seq - page.first_seq + 1)
            last_seq = page.first_seq + end - 1
            cursor = last_seq + 1
            frames = kept_frames(page, begin, end, event_filter)
            if not frames and cursor <= hub.head_seq:
                continue  # keep reading: send an empty batch only to report progress at the head
            yield encode_batch(frames, hub.head_seq, last_seq)

    async def _read_log(self, cursor: int, limit: int) -> FramedRun:
        """The log's events from cursor on: the shared page that holds cursor (log_pages.py), or,
        for a batch larger than a page, a read of this subscriber's own."""
        try:
            if limit <= CATCH_UP_PAGE:
                return await self.log_pages.page_at(cursor)
        except RetentionExceeded as error:
            if cursor < error.oldest_seq:
                raise out_of_range(cursor, error.oldest_seq) from error
            # The page starts below the oldest retained seq, the cursor does not: read from the cursor.
        try:
            return await asyncio.to_thread(self.runtime.event_log.read_framed, SOURCE, cursor, limit)
        except RetentionExceeded as error:
            raise out_of_range(cursor, error.oldest_seq) from error

    # ------------------------------------------------------------ queries

    @rpc_errors
    async def GetSnapshot(
        self, request: market_pb2.GetSnapshotRequest, context: grpc.aio.ServicerContext
    ) -> market_pb2.Snapshot:
        self._mandate(request.mandate_id)
        if request.as_of_seq > self.runtime.hub.head_seq:
            raise RequestError(
                grpc.StatusCode.OUT_OF_RANGE,
                f"as_of_seq {request.as_of_seq} is beyond the head {self.runtime.hub.head_seq}",
                violations=[FieldViolation("as_of_seq", "beyond the head of the stream")],
            )
        snapshot = self.runtime.snapshot_at(request.as_of_seq, request.mandate_id)
        if snapshot is None:
            if request.as_of_seq and self.runtime.oldest_checkpoint_seq:
                raise RequestError(
                    grpc.StatusCode.OUT_OF_RANGE,
                    f"as_of_seq {request.as_of_seq} is before the oldest kept day end "
                    f"(seq {self.runtime.oldest_checkpoint_seq})",
                    violations=[FieldViolation("as_of_seq", "older than the kept snapshots")],
                )
            raise RequestError(
                grpc.StatusCode.FAILED_PRECONDITION, "no business day has ended yet; retry shortly"
            )
        return snapshot

    @rpc_errors
    async def ListInstruments(
        self, request: market_pb2.ListInstrumentsRequest, context: grpc.aio.ServicerContext
    ) -> market_pb2.ListInstrumentsResponse:
        violations = []
        if request.currency and request.currency not in self.currencies:
            violations.append(
                FieldViolation(
                    "currency", f"{echo(request.currency)} is not one of {', '.join(self.currencies)}"
                )
            )
        wanted_class = None
        if request.asset_class:
            try:
                wanted_class = enum_from_proto(
                    common_pb2.AssetClass, "ASSET_CLASS_", AssetClass, request.asset_class, "asset_class"
                )
            except RequestError as error:
                violations.extend(error.violations)
        if violations:
            raise invalid_argument(violations)
        instruments = [
            i
            for i in self.runtime.sim.instruments
            if (not request.currency or i.currency == request.currency)
            and (wanted_class is None or i.asset_class == wanted_class)
        ]
        start, end = page_bounds(request.page_size, request.page_token, len(instruments))
        return market_pb2.ListInstrumentsResponse(
            instruments=[codec.instrument_to_proto(i) for i in instruments[start:end]],
            next_page_token=next_token(end, len(instruments)),
        )

    @rpc_errors
    async def ListMandates(
        self, request: market_pb2.ListMandatesRequest, context: grpc.aio.ServicerContext
    ) -> market_pb2.ListMandatesResponse:
        mandates = self.runtime.sim.mandates
        start, end = page_bounds(request.page_size, request.page_token, len(mandates))
        return market_pb2.ListMandatesResponse(
            mandates=[codec.mandate_to_proto(m) for m in mandates[start:end]],
            next_page_token=next_token(end, len(mandates)),
        )

    @rpc_errors
    async def GetClock(
        self, request: market_pb2.GetClockRequest, context: grpc.aio.ServicerContext
    ) -> market_pb2.Clock:
        return clock_to_proto(self.runtime.clock_state())

    @rpc_errors
    async def InjectFault(
        self, request: market_pb2.InjectFaultRequest, context: grpc.aio.ServicerContext
    ) -> market_pb2.InjectedFault:
        # Before the request is read: a market that refuses faults says so whatever was asked.
        if not self.allow_fault_injection:
            raise fault_injection_refused()
        fault_request = codec.fault_request_from_proto(request)
        # Ids this run does not have are NOT_FOUND; a target that exists but does not fit the kind
        # (the simulation's rules, below) is INVALID_ARGUMENT.
        self._mandate(fault_request.mandate_id)
        self._instrument(fault_request.instrument_id)
        try:
            fault = await asyncio.to_thread(self.runtime.inject, fault_request)
        except ValueError as error:
            # The domain names the field first: "mandate_id: unknown mandate 'X'".
            field, _, why = str(error).partition(": ")
            raise RequestError(
                grpc.StatusCode.INVALID_ARGUMENT,
                f"cannot inject a {market_pb2.FaultKind.Name(request.kind)} fault: {error}",
                violations=[FieldViolation(field if why else "kind", why or str(error))],
            ) from error
        return codec.fault_to_proto(fault)

    @rpc_errors
    async def ListInjectedFaults(
        self, request: market_pb2.ListInjectedFaultsRequest, context: grpc.aio.ServicerContext
    ) -> market_pb2.ListInjectedFaultsResponse:
        self._mandate(request.mandate_id)
        if request.kind:
            enum_from_proto(market_pb2.FaultKind, "FAULT_KIND_", FaultKind, request.kind, "kind")
        faults = [
            codec.fault_to_proto(f)
            for f in self.runtime.faults()
            if (not request.mandate_id or f.mandate_id == request.mandate_id)
        ]
        if request.kind:
            faults = [f for f in faults if f.kind == request.kind]
        start, end = page_bounds(request.page_size, request.page_token, len(faults))
        return market_pb2.ListInjectedFaultsResponse(
            faults=faults[start:end], next_page_token=next_token(end, len(faults))
        )

    @rpc_errors
    async def AcknowledgeEvents(
        self, request: market_pb2.AcknowledgeEventsRequest, context: grpc.aio.ServicerContext
    ) -> market_pb2.AcknowledgeEventsResponse:
        if not request.follower:
            raise invalid_argument(
                [FieldViolation("follower", "give the follower's name, one of OPSUITE_MARKET_FOLLOWERS")]
            )
        try:
            await asyncio.to_thread(self.runtime.acknowledge, request.follower, request.applied_seq)
        except UnknownFollower as error:
            raise RequestError(
                grpc.StatusCode.FAILED_PRECONDITION,
                str(error),
                violations=[FieldViolation("follower", "not a declared follower")],
                reason="FOLLOWER_NOT_DECLARED",
            ) from None
        except ValueError as error:
            raise invalid_argument([FieldViolation("applied_seq", str(error))], str(error)) from None
        state = self.runtime.clock_state()
        return market_pb2.AcknowledgeEventsResponse(oldest_seq=state.oldest_seq, head_seq=state.head_seq)

    @rpc_errors
    async def GetConfirmation(
        self, request: market_pb2.GetConfirmationRequest, context: grpc.aio.ServicerContext
    ) -> market_pb2.ConfirmationDocument:
        if not request.confirmation_id:
            raise RequestError(
                grpc.StatusCode.INVALID_ARGUMENT,
                "confirmation_id is required",
                violations=[FieldViolation("confirmation_id", "give a confirmation id or a fill id")],
            )
        found = self.runtime.sim.confirmation(request.confirmation_id)
        if found is None and self.runtime.sim.confirmation_forgotten(request.confirmation_id):
            raise RequestError(
                grpc.StatusCode.NOT_FOUND,
                f"{echo(request.confirmation_id)} is older than the {CONFIRMATIONS_KEPT:,} most recent "
                "confirmations market keeps for GetConfirmation; its text is on its trade.confirmation "
                "event (`opsuite trace` with its fill id finds it while the event log retains it)",
                violations=[FieldViolation("confirmation_id", "past what market keeps")],
                reason="CONFIRMATION_PAST_RETENTION",
            )
        if found is None:
            raise RequestError(
                grpc.StatusCode.NOT_FOUND,
                f"no confirmation or fill {echo(request.confirmation_id)} in this run; their ids (CNF-..., "
                "FIL-...) are on the trade.confirmation and trade.fill events of StreamEvents",
                violations=[FieldViolation("confirmation_id", "unknown id")],
                reason="CONFIRMATION_NOT_FOUND",
            )
        confirmation, _fill, _instrument = found
        pdf = await asyncio.to_thread(
            render_confirmation_pdf,
            confirmation.text,
            title=f"Trade confirmation {confirmation.confirmation_id}",
        )
        return market_pb2.ConfirmationDocument(
            confirmation=codec.confirmation_to_proto(confirmation), pdf=pdf
        )


def _passthrough(payload: bytes) -> bytes:
    return payload


def register(server: grpc.aio.Server, servicer: MarketServicer) -> Sequence[str]:
    """Add the servicer to the server; StreamEvents sends pre-serialized batches as they are."""
    service: pb_descriptor.ServiceDescriptor = market_pb2.DESCRIPTOR.services_by_name["MarketService"]
    handlers = {}
    for method in service.methods:
        request_class = message_factory.GetMessageClass(method.input_type)
        response_class = message_factory.GetMessageClass(method.output_type)
        behaviour = getattr(servicer, method.name)
        if method.server_streaming:
            handlers[method.name] = grpc.unary_stream_rpc_method_handler(
                behaviour,
                request_deserializer=request_class.FromString,
                response_serializer=_passthrough
                if method.name == "StreamEvents"
                else response_class.SerializeToString,
            )
        else:
            handlers[method.name] = grpc.unary_unary_rpc_method_handler(
                behaviour,
                request_deserializer=request_class.FromString,
                response_serializer=response_class.SerializeToString,
            )
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(service.full_name, handlers),))
    return [service.full_name]
