"""Wiring: settings in, a servable recon Service out.

On start recon asks market for its mandates and instruments, restores what it
remembers of the stream (the state committed with its cursor at the last day end),
finishes what that check left undone, and follows the stream from the cursor. Each
clock.day_end runs the check (checker.py). It reports SERVING once caught up with
market's head. Channels are created in on_start, after telemetry has instrumented
gRPC, so the ledger's server span of a suspense journal descends from recon's span.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import Sequence

import grpc
import grpc.aio

from opsuite.common.v1 import common_pb2
from opsuite.ledger.v1 import ledger_pb2_grpc
from opsuite.market.v1 import market_pb2, market_pb2_grpc
from services.common.eventlog import EventLog, LogRecord, open_event_log
from services.common.eventlog.records import trace_order
from services.common.serve import MAX_MESSAGE_BYTES, HealthControl, Service
from services.common.settings import Settings
from services.common.status import FieldViolation, RequestError
from services.common.stream_client import CursorTooOld, EventStreamClient
from services.recon.checker import KINDS, DayEndChecker, FollowedState, Reference, Stopped
from services.recon.codec import Lineage
from services.recon.domain.config import ReconConfig
from services.recon.domain.records import Break, CheckRun, InstrumentRef
from services.recon.server import ReconServicer, register
from services.recon.store import ReconStore, open_store

log = logging.getLogger(__name__)
RESTART_DELAY_S = 2.0
_CHANNEL_OPTIONS = [("grpc.max_receive_message_length", MAX_MESSAGE_BYTES)]


async def fetch_reference(market_addr: str) -> tuple[Reference, int]:
    """Mandates' base currencies, instruments' classes and currencies, and market's head seq,
    waiting for market to come up."""
    async with grpc.aio.insecure_channel(market_addr, options=_CHANNEL_OPTIONS) as channel:
        await channel.channel_ready()
        stub = market_pb2_grpc.MarketServiceStub(channel)
        base: dict[str, str] = {}
        token = ""
        while True:
            page = await stub.ListMandates(market_pb2.ListMandatesRequest(page_size=1000, page_token=token))
            base.update({m.mandate_id: m.base_currency for m in page.mandates})
            if not (token := page.next_page_token):
                break
        instruments: dict[str, InstrumentRef] = {}
        while True:
            page = await stub.ListInstruments(
                market_pb2.ListInstrumentsRequest(page_size=1000, page_token=token)
            )
            for i in page.instruments:
                asset_class = common_pb2.AssetClass.Name(i.asset_class).removeprefix("ASSET_CLASS_")
                instruments[i.instrument_id] = InstrumentRef(asset_class, i.currency)
            if not (token := page.next_page_token):
                break
        clock = await stub.GetClock(market_pb2.GetClockRequest())
    return Reference(base, instruments), clock.head_seq


class ReconConsumer:
    """The apply/save pair the stream client drives, and the CursorStore it reads.

    Effects are committed at day ends only (the check commits the cursor and the state in
    its transaction), so the stored cursor is the last day end: after a restart the events
    since then are applied again to the state as it was at that day end.
    """

    def __init__(self, store: ReconStore, checker: DayEndChecker) -> None:
        cursor, blob = store.load_cursor()
        self.cursor = cursor
        self.state = FollowedState.from_json(blob) if blob else FollowedState()
        # The state as of the last day end, for on-demand checks of that day end.
        self.at_day_end = FollowedState.from_json(blob) if blob else None
        self.checker = checker
        self.on_progress: _Progress | None = None

    def load(self) -> int:
        return self.cursor

    async def save(self, seq: int) -> None:
        if self.on_progress is not None:
            await self.on_progress(seq)

    async def apply(self, events: Sequence[market_pb2.MarketEvent]) -> None:
        for event in events:
            day_end = self.state.apply(event)
            if day_end is None:
                continue
            await self.checker.day_end(self.state, day_end)
            self.cursor = day_end.seq
            self.at_day_end = FollowedState.from_json(self.state.to_json())

    def sim_time(self) -> dt.datetime | None:
        day_end = self.state.last_day_end
        return day_end.sim_time if day_end is not None else None


class _Progress:
    """Calls health.set_serving() once the applied seq reaches market's head."""

    def __init__(self, health: HealthControl, runtime: ReconRuntime) -> None:
        self.health = health
        self.runtime = runtime
        self.ready = False

    async def __call__(self, seq: int) -> None:
        client = self.runtime.client
        if not self.ready and client is not None and seq >= client.head_seq:
            await self.serving(seq)

    async def serving(self, seq: int) -> None:
        self.ready = True
        log.info("caught up with market", extra={"seq": seq})
        await self.health.set_serving()


class ReconRuntime:
    """The checker, the consumer and its stream client, and the restart loop around them."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.market_addr = settings.addr("market")
        self.ledger_addr = settings.addr("ledger")
        self.store = open_store(settings.service_dir("recon"))
        self.event_log: EventLog = open_event_log(settings.eventlog_url or None, settings.data_dir)
        self.config = (
            ReconConfig.from_toml(settings.recon_config.read_text(encoding="utf-8"))
            if settings.recon_config
            else ReconConfig.default()
        )
        self.checker: DayEndChecker | None = None
        self.consumer: ReconConsumer | None = None
        self.client: EventStreamClient | None = None
        self._channels: list[grpc.aio.Channel] = []
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()

    async def start(self, health: HealthControl) -> None:
        reference, head = await fetch_reference(self.market_addr)
        market = grpc.aio.insecure_channel(self.market_addr, options=_CHANNEL_OPTIONS)
        ledger = grpc.aio.insecure_channel(self.ledger_addr, options=_CHANNEL_OPTIONS)
        self._channels = [market, ledger]
        self.checker = DayEndChecker(
            self.store,
            self.event_log,
            market_pb2_grpc.MarketServiceStub(market),
            ledger_pb2_grpc.LedgerServiceStub(ledger),
            reference,
            self.config,
            stopping=self._stopping,
        )
        self._task = asyncio.create_task(self._follow(_Progress(health, self), head), name="recon-follow")

    async def _follow(self, progress: _Progress, head_at_start: int) -> None:
        assert self.checker is not None
        while not self._stopping.is_set():
            consumer = ReconConsumer(self.store, self.checker)
            consumer.on_progress = progress
            self.consumer = consumer
            self.client = EventStreamClient(
                self.market_addr, consumer, consumer.apply, service="recon", kinds=KINDS
            )
            if not progress.ready and consumer.load() >= head_at_start:
                await progress.serving(consumer.load())
            try:
                await self.checker.recover(consumer.state)
                await self.client.run()
            except Stopped:
                return
            except CursorTooOld as error:
                log.error(
                    "recon's cursor is older than market's retention: events are lost to it",
                    extra={"oldest_seq": error.oldest_seq},
                )
                await progress.health.set_not_serving()
                return
            except Exception:
                if self._stopping.is_set():
                    return
                log.exception("recon's checker failed; restarting it from the stored cursor")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), timeout=RESTART_DELAY_S)

    async def run_check(self, mandate_id: str | None) -> Sequence[CheckRun]:
        """RunCheck: check the latest day end again now (for one mandate, or all)."""
        consumer, checker = self.consumer, self.checker
        state = consumer.at_day_end if consumer is not None else None
        if checker is None or consumer is None or state is None or state.last_day_end is None:
            raise RequestError(
                grpc.StatusCode.FAILED_PRECONDITION,
                "no simulated day has ended yet: there is nothing to check; retry after the first day end",
                reason="NO_DAY_END",
            )
        if mandate_id and mandate_id not in checker.reference.base_currencies:
            raise RequestError(
                grpc.StatusCode.NOT_FOUND,
                f"unknown mandate {mandate_id!r}; see MarketService/ListMandates",
                violations=[FieldViolation("mandate_id", "unknown mandate")],
                reason="MANDATE_NOT_FOUND",
            )
        # Breaks opened now get their span's traceparent remembered with the live state.
        state.break_traceparents = consumer.state.break_traceparents
        mandates = frozenset({mandate_id}) if mandate_id else None
        return await checker.on_demand(state, state.last_day_end, mandates)

    def sim_time(self) -> dt.datetime:
        consumer = self.consumer
        return (consumer.sim_time() if consumer is not None else None) or dt.datetime.now(dt.UTC)

    async def lineage(self, brk: Break) -> Lineage:
        """A break's chain in the combined event log: its causes, its trace, and what it caused."""
        event_log = self.event_log

        def read() -> tuple[LogRecord, ...]:
            found: dict[str, LogRecord] = {}
            for event_id in brk.caused_by:
                record = event_log.get(event_id)
                if record is not None:
                    found[record.event_id] = record
            if brk.trace_id:
                for record in event_log.by_trace(brk.trace_id):
                    found.setdefault(record.event_id, record)
            for record in event_log.effects_of(brk.break_id):
                found.setdefault(record.event_id, record)
            return tuple(sorted(found.values(), key=trace_order))

        try:
            records = await asyncio.to_thread(read)
        except Exception:
            log.exception(
                "could not read a break's lineage from the event log", extra={"break_id": brk.break_id}
            )
            records = ()
        return Lineage(caused_by=brk.caused_by, trace_id=brk.trace_id, records=records)

    async def stop(self) -> None:
        self._stopping.set()
        if self.client is not None:
            await self.client.stop()
        if self._task is not None:
            await self._task

    async def close(self) -> None:
        for channel in self._channels:
            await channel.close()
        self.store.close()
        self.event_log.close()


def build_service(settings: Settings) -> Service:
    runtime = ReconRuntime(settings)
    servicer = ReconServicer(
        runtime.store,
        run_check=runtime.run_check,
        lineage=runtime.lineage,
        config=runtime.config,
        sim_clock=runtime.sim_time,
    )

    async def on_draining() -> None:
        servicer.close()
        await runtime.stop()

    return Service(
        name="recon",
        register=lambda server: register(server, servicer),
        on_start=runtime.start,
        on_draining=on_draining,
        on_stop=runtime.close,
        ready_on_start=False,
    )
