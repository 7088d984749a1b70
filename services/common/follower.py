"""The runtime of a service that follows market's stream: reference data, the restart loop, readiness.

A follower (ledger, recon, and the services after them) supplies a factory of its consumer: the
apply/save pair and the cursor it resumes from. This module does the rest the same way for
every follower: fetch mandates and instruments (paged, waiting for market), build the consumer
and follow the stream from its cursor, restart from the stored cursor after a failure with
exponential backoff (a backend outage is one such failure: outages.py reports it, this retries),
report SERVING once caught up with market's head, report NOT_SERVING with the reason when market
no longer retains the cursor, acknowledge the committed seq to market about once a second (so
market's retention keeps every event this service has not applied, services/market/retention.py),
and expose its progress for GetStatus.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import inspect
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import grpc
import grpc.aio

from opsuite.market.v1 import market_pb2, market_pb2_grpc
from services.common.channels import Security, open_channel
from services.common.market_events import Instrument, Mandate
from services.common.market_events.decode import decode_instrument, decode_mandate
from services.common.outages import BackendUnavailable
from services.common.serve import MAX_MESSAGE_BYTES, HealthControl
from services.common.service_status import Progress
from services.common.stream_client import ApplyFailed, CursorTooOld, EventStreamClient

log = logging.getLogger(__name__)

CHANNEL_OPTIONS = [("grpc.max_receive_message_length", MAX_MESSAGE_BYTES)]
PAGE_SIZE = 1000
ACKNOWLEDGE_EVERY_S = 1.0


@dataclass(frozen=True)
class MarketReference:
    """What a follower needs from market before the stream: every mandate and instrument, and the clock."""

    mandates: tuple[Mandate, ...]
    instruments: tuple[Instrument, ...]
    clock: market_pb2.Clock


async def fetch_reference(
    market_addr: str, *, security: Security, retry_initial_s: float = 0.25, retry_max_s: float = 5.0
) -> MarketReference:
    """Every page of ListMandates and ListInstruments, and GetClock; waits for market to come up and,
    while it answers UNAVAILABLE (restoring its run after a restart), asks again with backoff."""
    delay = retry_initial_s
    while True:
        try:
            return await _fetch_reference(market_addr, security)
        except grpc.aio.AioRpcError as error:
            if error.code() != grpc.StatusCode.UNAVAILABLE:
                raise
            log.info(
                "market cannot answer yet; asking again",
                extra={"market": market_addr, "reason": error.details(), "retry_in_s": delay},
            )
        await asyncio.sleep(delay)
        delay = min(retry_max_s, delay * 2)


async def _fetch_reference(market_addr: str, security: Security) -> MarketReference:
    async with open_channel(security, market_addr, options=CHANNEL_OPTIONS) as channel:
        await channel.channel_ready()
        stub = market_pb2_grpc.MarketServiceStub(channel)
        mandates: list[market_pb2.Mandate] = []
        token = ""
        while True:
            mandate_page = await stub.ListMandates(
                market_pb2.ListMandatesRequest(page_size=PAGE_SIZE, page_token=token)
            )
            mandates.extend(mandate_page.mandates)
            if not (token := mandate_page.next_page_token):
                break
        instruments: list[market_pb2.Instrument] = []
        while True:
            instrument_page = await stub.ListInstruments(
                market_pb2.ListInstrumentsRequest(page_size=PAGE_SIZE, page_token=token)
            )
            instruments.extend(instrument_page.instruments)
            if not (token := instrument_page.next_page_token):
                break
        clock = await stub.GetClock(market_pb2.GetClockRequest())
    return MarketReference(
        tuple(decode_mandate(m) for m in mandates), tuple(decode_instrument(i) for i in instruments), clock
    )


class Consumer(Protocol):
    """What a follower gives the runtime: its cursor, and how it applies and commits events.

    A consumer that commits only at some events (recon, reporting and dq at day ends: save is a
    no-op between them) keeps `cursor`, the seq it last committed; the runtime acknowledges that to
    market, never a batch it has only applied in memory, so market's retention keeps every event a
    restart would read again.
    """

    def load(self) -> int:
        """The market seq it has committed up to (0: nothing yet)."""
        ...

    def save(self, seq: int) -> Awaitable[None] | None:
        """Commit everything applied up to seq (with the cursor, in one transaction where it can)."""
        ...

    def apply(self, events: Sequence[market_pb2.MarketEvent]) -> Awaitable[None] | None:
        """Apply consecutive events in seq order."""
        ...


async def _date_of_event(market_addr: str, seq: int, security: Security) -> dt.date | None:
    """The simulated date of market's event `seq`, for a follower that resumes from a stored cursor
    (GetStatus shows it before the next event arrives, and a finished run sends none); None when
    market cannot say now, and the next event applied sets it instead."""
    try:
        async with open_channel(security, market_addr, options=CHANNEL_OPTIONS) as channel:
            call = market_pb2_grpc.MarketServiceStub(channel).StreamEvents(
                market_pb2.StreamEventsRequest(from_seq=seq), timeout=10
            )
            async for batch in call:
                if batch.events:
                    call.cancel()
                    first: market_pb2.MarketEvent = batch.events[0]
                    if first.envelope.seq != seq:
                        return None
                    when: dt.datetime = first.envelope.sim_time.ToDatetime(tzinfo=dt.UTC)
                    return when.date()
    except grpc.aio.AioRpcError:
        return None
    return None


async def followers_date(market_addr: str, security: Security) -> dt.date | None:
    """The simulated date every follower market declares (OPSUITE_MARKET_FOLLOWERS) has reached:
    the date of the next event the slowest of them will apply, or market's date when all are at its
    head. A service that deletes history its peers read from (the ledger closing a period that recon
    still checks) holds it to this date, as market's retention holds events for them.

    None: market declares no followers (nothing to hold for). dt.date.min: hold everything for now
    (a follower has not acknowledged yet, or market cannot say)."""
    try:
        async with open_channel(security, market_addr, options=CHANNEL_OPTIONS) as channel:
            clock = await market_pb2_grpc.MarketServiceStub(channel).GetClock(
                market_pb2.GetClockRequest(), timeout=10
            )
    except grpc.aio.AioRpcError:
        return dt.date.min
    if not clock.followers:
        return None
    slowest = min(f.applied_seq for f in clock.followers)
    if slowest == 0:
        return dt.date.min
    if slowest >= clock.head_seq:
        return dt.date(clock.sim_date.year, clock.sim_date.month, clock.sim_date.day)
    # The event after the slowest follower's position is one market still keeps for it.
    return await _date_of_event(market_addr, slowest + 1, security) or dt.date.min


class _Tracked:
    """The consumer as the stream client sees it: notes the date applied and the seq committed."""

    def __init__(self, consumer: Consumer, follower: Follower) -> None:
        self.consumer = consumer
        self.follower = follower

    def load(self) -> int:
        return self.consumer.load()

    async def save(self, seq: int) -> None:
        saved = self.consumer.save(seq)
        if inspect.isawaitable(saved):
            await saved
        durable = getattr(self.consumer, "cursor", seq)
        await self.follower._committed(seq, durable if isinstance(durable, int) else seq)

    async def apply(self, events: Sequence[market_pb2.MarketEvent]) -> None:
        applied = self.consumer.apply(events)
        if inspect.isawaitable(applied):
            await applied
        if events:
            self.follower.simulated_date = events[-1].envelope.sim_time.ToDatetime(tzinfo=dt.UTC).date()


class Follower:
    """Follows market's stream with a consumer built by `make_consumer`, restarting it after failures.

    `before_follow(consumer)` runs after each (re)build, before the stream (recon finishes a
    day-end check a crash interrupted). A `Stopped` raised by the consumer ends following quietly.
    """

    def __init__(
        self,
        *,
        service: str,
        market_addr: str,
        security: Security,
        make_consumer: Callable[[], Consumer],
        kinds: Sequence[str] = (),
        before_follow: Callable[[Consumer], Awaitable[None]] | None = None,
        stop_quietly_on: tuple[type[BaseException], ...] = (),
        restart_initial_s: float = 0.5,
        restart_max_s: float = 30.0,
    ) -> None:
        self.service = service
        self.market_addr = market_addr
        self.security = security
        self._make_consumer = make_consumer
        self._kinds = tuple(kinds)
        self._before_follow = before_follow
        self._stop_quietly_on = stop_quietly_on
        self._restart_initial_s = restart_initial_s
        self._restart_max_s = restart_max_s
        self.consumer: Consumer | None = None
        self.client: EventStreamClient | None = None
        self.simulated_date: dt.date | None = None
        self.restarts = 0
        self.committed_seq = 0
        self.durable_seq = 0  # what a restart resumes after: acknowledged to market
        self._committed_changed = asyncio.Condition()
        self._health: HealthControl | None = None
        self._ready = False
        self._head_at_start = 0
        self._task: asyncio.Task[None] | None = None
        self._acknowledging: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()

    # -------------------------------------------------------------- lifecycle

    def start(self, health: HealthControl, head_at_start: int) -> None:
        """Follow in the background; SERVING once the committed seq reaches head_at_start or the live head."""
        self._health = health
        self._head_at_start = head_at_start
        self._task = asyncio.create_task(self._run(), name=f"{self.service}-follow")
        self._acknowledging = asyncio.create_task(self._acknowledge(), name=f"{self.service}-acknowledge")

    async def stop(self) -> None:
        self._stopping.set()
        if self.client is not None:
            await self.client.stop()
        if self._task is not None:
            await self._task
        if self._acknowledging is not None:
            await self._acknowledging

    @property
    def stopping(self) -> asyncio.Event:
        return self._stopping

    def progress(self) -> Progress:
        client = self.client
        if client is None:
            return Progress(simulated_date=self.simulated_date)
        return Progress(client.applied_seq, client.head_seq, self.simulated_date)

    # -------------------------------------------------------------- internals

    async def _acknowledge(self) -> None:
        """Tell market, about once a second, the seq committed durably so far. Failures wait for the next
        round (market restarting is no reason to stop following); a market that does not declare
        this service a follower is told once in the log, then left alone."""
        acknowledged = 0
        async with open_channel(self.security, self.market_addr, options=CHANNEL_OPTIONS) as channel:
            stub = market_pb2_grpc.MarketServiceStub(channel)
            while not self._stopping.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), timeout=ACKNOWLEDGE_EVERY_S)
                seq = self.durable_seq
                if seq == acknowledged:
                    continue
                request = market_pb2.AcknowledgeEventsRequest(follower=self.service, applied_seq=seq)
                try:
                    await stub.AcknowledgeEvents(request, timeout=10)
                    acknowledged = seq
                except grpc.aio.AioRpcError as error:
                    if error.code() == grpc.StatusCode.FAILED_PRECONDITION:
                        log.info(
                            "market does not hold its events for this service (not a declared follower)",
                            extra={"service": self.service, "error": error.details()},
                        )
                        return
                    log.debug("acknowledging to market failed; retried", extra={"error": error.details()})

    async def wait_for_committed(self, seq: int, timeout: float) -> int:
        """Return once events up to `seq` are committed, or after `timeout` seconds; the committed seq."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(max(0.0, timeout)), self._committed_changed:
                await self._committed_changed.wait_for(lambda: self.committed_seq >= seq)
        return self.committed_seq

    async def _committed(self, seq: int, durable: int) -> None:
        self.durable_seq = max(self.durable_seq, durable)
        async with self._committed_changed:
            self.committed_seq = max(self.committed_seq, seq)
            self._committed_changed.notify_all()
        # Called before the client moves its own cursor: compare the committed seq with the head.
        if not self._ready and self.client is not None and seq >= self.client.head_seq:
            await self._serving(seq)

    async def _serving(self, seq: int) -> None:
        self._ready = True
        log.info("caught up with market", extra={"service": self.service, "seq": seq})
        assert self._health is not None
        await self._health.set_serving()

    async def _run(self) -> None:
        assert self._health is not None
        failures = 0
        while not self._stopping.is_set():
            applied_before = self.client.applied_seq if self.client is not None else -1
            try:
                # Inside the error handling: building a consumer reads the stored cursor and state,
                # which fails while the database is down, and must be retried like any failure.
                consumer = await asyncio.to_thread(self._make_consumer)
                self.consumer = consumer
                self.committed_seq = max(self.committed_seq, consumer.load())
                self.durable_seq = max(self.durable_seq, consumer.load())
                tracked = _Tracked(consumer, self)
                self.client = EventStreamClient(
                    self.market_addr,
                    tracked,
                    tracked.apply,
                    service=self.service,
                    security=self.security,
                    kinds=self._kinds,
                )
                if self.simulated_date is None and consumer.load() > 0:
                    self.simulated_date = await _date_of_event(
                        self.market_addr, consumer.load(), self.security
                    )
                if not self._ready and consumer.load() >= self._head_at_start:
                    await self._serving(consumer.load())
                elif not self._ready:
                    # No seq of its own progress: the reason is set once, and GetStatus's applied_seq
                    # says how far the catch-up has come (a seq here stayed at its first value).
                    await self._health.set_not_serving(
                        f"catching up with market: serving once applied_seq reaches seq "
                        f"{self._head_at_start:,}, market's head when it started"
                    )
                if self._before_follow is not None:
                    await self._before_follow(consumer)
                await self.client.run()
            except self._stop_quietly_on:
                return
            except CursorTooOld as error:
                log.error(
                    "the cursor is older than market's retention: events are lost to this service",
                    extra={
                        "service": self.service,
                        "oldest_seq": error.oldest_seq,
                        "from_seq": error.from_seq,
                    },
                )
                self._ready = False
                await self._health.set_not_serving(
                    f"market no longer retains the events after seq {error.from_seq - 1} "
                    f"(its oldest is {error.oldest_seq}); rebuild this service's data from a fresh run"
                )
                return
            except Exception as error:
                if self._stopping.is_set():
                    return
                progressed = self.client is not None and self.client.applied_seq > applied_before
                failures = 1 if progressed else failures + 1
                self.restarts += 1
                delay = min(self._restart_max_s, self._restart_initial_s * 2 ** (failures - 1))
                context = {"service": self.service, "retry_in_s": delay, "failures": failures}
                if isinstance(error, BackendUnavailable):
                    # Expected and already reported (NOT_SERVING with the reason): no traceback.
                    log.warning(
                        "a backend is unreachable; restarting from the stored cursor",
                        extra={**context, "error": str(error)},
                    )
                elif isinstance(error, ApplyFailed):
                    # A peer restarting mid-check: expected, and the rebuilt consumer redoes the work.
                    log.warning(
                        "a peer failed while applying events; restarting from the stored cursor",
                        extra={**context, "error": str(error)},
                    )
                else:
                    log.exception("the consumer failed; restarting it from the stored cursor", extra=context)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), timeout=delay)
