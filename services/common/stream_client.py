"""Follow the market's event stream from a cursor: apply in order, persist, reconnect, trace, report lag.

Every downstream service (recon, reporting, dq, ledger) follows market the
same way, and the subtle parts live here once: never apply an event twice,
never skip one, resume after a restart of either side, and make each applied
batch a child span of the market span that produced its events.
"""

from __future__ import annotations

import asyncio
import inspect
import itertools
import logging
import re
import weakref
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any

import grpc
import grpc.aio
from google.rpc import error_details_pb2
from opentelemetry import metrics, trace
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_never, wait_exponential_jitter

from opsuite.market.v1 import market_pb2, market_pb2_grpc
from services.common.channels import Security, open_channel
from services.common.cursor import CursorStore
from services.common.serve import MAX_MESSAGE_BYTES
from services.common.status import status_from_error
from services.common.telemetry import context_from_traceparent, meter, tracer

_log = logging.getLogger(__name__)
_tracer = tracer(__name__)

ApplyFn = Callable[[Sequence[market_pb2.MarketEvent]], Awaitable[None] | None]

# Failures that mean "market is not there right now", as opposed to a refusal.
_RETRYABLE_CODES = frozenset(
    {
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.CANCELLED,  # the server cancelled our stream (it stopped after its grace period)
        grpc.StatusCode.DEADLINE_EXCEEDED,
        grpc.StatusCode.ABORTED,
        grpc.StatusCode.INTERNAL,  # e.g. RST_STREAM when the connection drops mid-message
        grpc.StatusCode.RESOURCE_EXHAUSTED,
    }
)
_OLDEST_SEQ_IN_MESSAGE = re.compile(r"oldest retained seq (\d+)")


class CursorTooOld(Exception):
    """The cursor points before the oldest event market still retains: resuming would skip events."""

    def __init__(self, oldest_seq: int, from_seq: int, message: str = "") -> None:
        super().__init__(message or f"from_seq {from_seq} is older than the oldest retained seq {oldest_seq}")
        self.oldest_seq = oldest_seq
        self.from_seq = from_seq


class ApplyFailed(Exception):
    """`apply` failed on a call of its own to a peer (a day-end check asking market or the ledger).

    Raised instead of the peer's gRPC error so that it is never mistaken for the stream's own
    failure: resubscribing would apply the batch's events again to a consumer that already holds
    some of them in memory. The follower rebuilds the consumer from its stored state instead."""


class _StreamEnded(Exception):
    """The server closed the stream with OK (for example while shutting down): subscribe again."""


def _is_retryable(error: BaseException) -> bool:
    # Only the stream's own failures: an error raised by `apply` (disk full, a bug)
    # must stop the client, not be retried forever by re-reading the same batch.
    if isinstance(error, grpc.aio.AioRpcError):
        return error.code() in _RETRYABLE_CODES
    return isinstance(error, _StreamEnded)


def _oldest_seq_of(error: grpc.aio.AioRpcError) -> int | None:
    status = status_from_error(error)
    if status is not None:
        for detail in status.details:
            if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
                info = error_details_pb2.ErrorInfo()
                detail.Unpack(info)
                if info.metadata.get("oldest_seq", "").isdigit():
                    return int(info.metadata["oldest_seq"])
    match = _OLDEST_SEQ_IN_MESSAGE.search(error.details() or "")
    return int(match.group(1)) if match else None


def _groups_by_traceparent(events: Iterable[market_pb2.MarketEvent]) -> list[list[market_pb2.MarketEvent]]:
    return [list(group) for _, group in itertools.groupby(events, key=lambda e: e.envelope.traceparent)]


# ------------------------------------------------------------------ lag gauge

# One observable gauge for the process, reporting every live client: creating
# an instrument per client would register duplicates with the SDK.
_live_clients: weakref.WeakSet[EventStreamClient] = weakref.WeakSet()
_gauge: list[Any] = []


def _observe_lag(_options: metrics.CallbackOptions) -> Iterable[metrics.Observation]:
    for client in list(_live_clients):
        yield metrics.Observation(client.lag, {"service": client.service})


def _ensure_gauge() -> None:
    if not _gauge:
        _gauge.append(
            meter(__name__).create_observable_gauge(
                "opsuite.stream.lag",
                callbacks=[_observe_lag],
                unit="{event}",
                description="Events market produced that this subscriber has not applied yet",
            )
        )


# ------------------------------------------------------------------ client


class EventStreamClient:
    """Subscribes to MarketService.StreamEvents and applies every event exactly once, in seq order.

    `apply` receives consecutive events that share one traceparent; it may be a
    plain function or a coroutine function. The cursor is saved after each
    batch is applied, so `apply` must be idempotent for the events of the last
    batch before a crash (the ledger is idempotent by source event id).
    """

    def __init__(
        self,
        target: str,
        cursor: CursorStore,
        apply: ApplyFn,
        *,
        service: str,
        security: Security,
        kinds: Sequence[str] = (),
        mandate_ids: Sequence[str] = (),
        max_batch_size: int = 512,
        backoff_initial_s: float = 0.2,
        backoff_max_s: float = 5.0,
    ) -> None:
        self.target = target
        self.service = service
        self._security = security
        self._cursor = cursor
        self._apply = apply
        self._filter = market_pb2.EventFilter(kinds=list(kinds), mandate_ids=list(mandate_ids))
        self._max_batch_size = max_batch_size
        self._backoff_initial_s = backoff_initial_s
        self._backoff_max_s = backoff_max_s
        self.applied_seq = cursor.load()
        self.head_seq = self.applied_seq
        self.connected = False
        self.reconnects = 0
        self._subscriptions = 0
        self._call: Any = None
        self._stop_requested = asyncio.Event()
        self._progress = asyncio.Condition()
        self._running = False
        self._finished = asyncio.Event()
        self._error: BaseException | None = None
        _live_clients.add(self)
        _ensure_gauge()

    @property
    def lag(self) -> int:
        return max(0, self.head_seq - self.applied_seq)

    # -------------------------------------------------------------- lifecycle

    async def run(self) -> None:
        """Follow the stream until stop(); raises CursorTooOld, or what `apply` raised."""
        if self._running:
            raise RuntimeError("EventStreamClient.run() is already running")
        self._running = True
        self._finished.clear()
        self._error = None
        channel = open_channel(self._security, self.target, options=self._channel_options())
        stub = market_pb2_grpc.MarketServiceStub(channel)
        try:
            while not self._stop_requested.is_set():
                # A fresh retry budget after every subscription that made progress, so a
                # stream that worked for hours reconnects quickly when it breaks.
                async for attempt in self._retrying():
                    with attempt:
                        await self._follow(stub)
        except BaseException as error:
            self._error = error
            raise
        finally:
            self.connected = False
            self._running = False
            await channel.close()
            self._finished.set()
            async with self._progress:
                self._progress.notify_all()

    async def stop(self) -> None:
        """Cancel the stream and return once run() has ended. The batch being applied completes."""
        self._stop_requested.set()
        if self._call is not None:
            self._call.cancel()
        if self._running:
            await self._finished.wait()

    async def wait_for_seq(self, seq: int, timeout: float) -> None:
        """Return once every event up to `seq` is applied; TimeoutError after `timeout` seconds."""

        def reached() -> bool:
            return self.applied_seq >= seq or self._finished.is_set()

        async with asyncio.timeout(timeout), self._progress:
            await self._progress.wait_for(reached)
        if self.applied_seq < seq:
            raise RuntimeError(
                f"the stream client stopped at seq {self.applied_seq} before reaching {seq}"
            ) from self._error

    # -------------------------------------------------------------- internals

    def _channel_options(self) -> list[tuple[str, Any]]:
        return [
            ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
            # The channel's own reconnect backoff decides when a call can succeed again:
            # keep it within ours, or it would wait up to its default two minutes.
            ("grpc.initial_reconnect_backoff_ms", max(1, int(self._backoff_initial_s * 1000))),
            ("grpc.min_reconnect_backoff_ms", max(1, int(self._backoff_initial_s * 1000))),
            ("grpc.max_reconnect_backoff_ms", max(1, int(self._backoff_max_s * 1000))),
            # Notice a market that vanished without closing the connection.
            ("grpc.keepalive_time_ms", 30_000),
            ("grpc.keepalive_timeout_ms", 10_000),
            ("grpc.keepalive_permit_without_calls", 1),
            ("grpc.http2.max_pings_without_data", 0),
        ]

    def _retrying(self) -> AsyncRetrying:
        return AsyncRetrying(
            retry=retry_if_exception(_is_retryable),
            wait=wait_exponential_jitter(
                multiplier=self._backoff_initial_s, max=self._backoff_max_s, jitter=self._backoff_initial_s
            ),
            stop=stop_never,
            sleep=self._sleep_unless_stopped,
            before_sleep=self._log_retry,
            reraise=True,
        )

    async def _sleep_unless_stopped(self, seconds: float) -> None:
        try:
            async with asyncio.timeout(seconds):
                await self._stop_requested.wait()
        except TimeoutError:
            pass

    def _log_retry(self, state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome is not None else None
        code = error.code().name if isinstance(error, grpc.aio.AioRpcError) else type(error).__name__
        delay = state.next_action.sleep if state.next_action is not None else 0.0
        _log.warning(
            "market stream unavailable, reconnecting",
            extra={
                "target": self.target,
                "code": code,
                "retry_in_s": round(delay, 3),
                "attempt": state.attempt_number,
            },
        )

    async def _follow(self, stub: market_pb2_grpc.MarketServiceStub) -> None:
        """One subscription. Returns when stopped, or after progress was made and the stream broke."""
        if self._stop_requested.is_set():
            return
        if self._subscriptions:
            self.reconnects += 1
        self._subscriptions += 1
        from_seq = self.applied_seq + 1
        request = market_pb2.StreamEventsRequest(
            from_seq=from_seq, filter=self._filter, max_batch_size=self._max_batch_size
        )
        call = stub.StreamEvents(request)
        self._call = call
        start_seq = self.applied_seq
        try:
            async for batch in call:
                if not self.connected:
                    self.connected = True
                    _log.info("following market", extra={"target": self.target, "from_seq": from_seq})
                await self._apply_batch(batch)
            if not self._stop_requested.is_set():
                raise _StreamEnded("market closed the event stream")
        except asyncio.CancelledError:
            # A local call.cancel() from stop() surfaces as CancelledError; a cancellation
            # of our own task must still propagate.
            task = asyncio.current_task()
            if self._stop_requested.is_set() and (task is None or task.cancelling() == 0):
                return
            raise
        except grpc.aio.AioRpcError as error:
            if self._stop_requested.is_set() and error.code() == grpc.StatusCode.CANCELLED:
                return
            if error.code() == grpc.StatusCode.OUT_OF_RANGE:
                oldest = _oldest_seq_of(error)
                if oldest is not None:
                    raise CursorTooOld(oldest, from_seq, error.details() or "") from error
            if _is_retryable(error) and self.applied_seq > start_seq:
                _log.warning(
                    "market stream broke, resubscribing",
                    extra={"target": self.target, "code": error.code().name, "applied_seq": self.applied_seq},
                )
                return
            raise
        except _StreamEnded:
            if self.applied_seq > start_seq:
                return
            raise
        finally:
            self._call = None
            self.connected = False

    async def _apply_batch(self, batch: market_pb2.EventBatch) -> None:
        # Never re-apply: a server that resent an event at or below the cursor is ignored for it.
        events = [event for event in batch.events if event.envelope.seq > self.applied_seq]
        # Known before applying, so the lag gauge shows a subscriber that is busy catching up.
        self.head_seq = max(self.head_seq, batch.head_seq)
        for group in _groups_by_traceparent(events):
            first, last = group[0].envelope, group[-1].envelope
            with _tracer.start_as_current_span(
                f"apply {first.kind}",
                context=context_from_traceparent(first.traceparent),
                kind=trace.SpanKind.CONSUMER,
                attributes={
                    "opsuite.service": self.service,
                    "opsuite.events.count": len(group),
                    "opsuite.seq.first": first.seq,
                    "opsuite.seq.last": last.seq,
                },
            ):
                try:
                    result = self._apply(group)
                    if inspect.isawaitable(result):
                        await result
                except grpc.aio.AioRpcError as error:
                    raise ApplyFailed(
                        f"applying seq {first.seq}..{last.seq} failed on a call to a peer: "
                        f"{error.code().name}: {error.details()}"
                    ) from error
        # last_seq covers events the server's filter dropped, so the cursor moves past them too.
        new_seq = max(batch.last_seq, events[-1].envelope.seq if events else 0)
        self.head_seq = max(self.head_seq, new_seq)
        if new_seq > self.applied_seq:
            # A transactional store (the ledger) commits the batch's effects with the cursor here.
            saved = self._cursor.save(new_seq)
            if inspect.isawaitable(saved):
                await saved
            self.applied_seq = new_seq
            async with self._progress:
                self._progress.notify_all()
