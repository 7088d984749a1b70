"""Wiring: settings in, a servable recon Service out.

On start recon asks market for its mandates and instruments, restores what it
remembers of the stream (the state committed with its cursor at the last day end),
finishes what that check left undone, and follows the stream from the cursor. Each
clock.day_end runs the check (checker.py). It reports SERVING once caught up with
market's head, and NOT_SERVING with the reason while a check waits for the ledger
(peers/ledger.py; a ledger that starts after recon is simply waited for). Channels are
created in on_start, after telemetry has instrumented gRPC, so the ledger's server span
of a suspense journal descends from recon's span.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Sequence

import grpc
import grpc.aio

from opsuite.ledger.v1 import ledger_pb2_grpc
from opsuite.market.v1 import market_pb2_grpc
from services.common.channels import open_channel
from services.common.eventlog import EventLog, LogRecord, open_event_log
from services.common.eventlog.records import trace_order
from services.common.follower import CHANNEL_OPTIONS, Consumer, Follower, MarketReference, fetch_reference
from services.common.serve import HealthControl, Service
from services.common.service_status import Progress
from services.common.status import FieldViolation, RequestError
from services.common.stopping import Stopped
from services.recon.checker import KINDS, DayEndChecker
from services.recon.codec import Lineage
from services.recon.consumer import ReconConsumer
from services.recon.domain.check import Reference
from services.recon.domain.config import ReconConfig
from services.recon.domain.raised import RaisedItem
from services.recon.domain.records import Break, CheckRun, InstrumentRef
from services.recon.event_records import EventRecords
from services.recon.peers.ledger import LedgerPeer, LedgerUnavailable, reconnection
from services.recon.peers.market import MarketPeer
from services.recon.server import ReconServicer, check_refused_at_shutdown, register
from services.recon.settings import ReconSettings
from services.recon.store import open_store

log = logging.getLogger(__name__)

# A peer back after an outage is found within a few seconds (gRPC's default reconnect backoff grows
# to two minutes, and a channel in backoff fails every call without trying).
PEER_CHANNEL_OPTIONS = [
    *CHANNEL_OPTIONS,
    ("grpc.initial_reconnect_backoff_ms", 500),
    ("grpc.max_reconnect_backoff_ms", 5_000),
]


def reference_of(market: MarketReference) -> Reference:
    """Mandates' base currencies, and instruments' classes and currencies."""
    instruments = {i.instrument_id: InstrumentRef(str(i.asset_class), i.currency) for i in market.instruments}
    return Reference({m.mandate_id: m.base_currency for m in market.mandates}, instruments)


class ReconRuntime:
    """The checker, and the follower that feeds it market's stream."""

    def __init__(self, settings: ReconSettings) -> None:
        self.settings = settings
        self.market_addr = settings.addr("market")
        # None: recon is configured without a ledger (book vs custodian only).
        self.ledger_addr = settings.addr("ledger") if settings.recon_use_ledger else None
        self.store = open_store(settings.service_dir("recon"))
        self.event_log: EventLog = open_event_log(settings.eventlog_url or None, settings.data_dir)
        self.config = (
            ReconConfig.from_toml(settings.recon_config.read_text(encoding="utf-8"))
            if settings.recon_config
            else ReconConfig.default()
        )
        self.checker: DayEndChecker | None = None
        self.follower: Follower | None = None
        self._channels: list[grpc.aio.Channel] = []

    @property
    def consumer(self) -> ReconConsumer | None:
        consumer = self.follower.consumer if self.follower is not None else None
        return consumer if isinstance(consumer, ReconConsumer) else None

    def reference(self) -> Reference | None:
        """market's mandates and instruments once recon has read them (its RPCs check ids against them)."""
        return self.checker.reference if self.checker is not None else None

    def progress(self) -> Progress:
        return self.follower.progress() if self.follower is not None else Progress()

    async def start(self, health: HealthControl) -> None:
        market_reference = await fetch_reference(self.market_addr, security=self.settings)
        market = open_channel(self.settings, self.market_addr, options=PEER_CHANNEL_OPTIONS)
        self._channels = [market]

        async def recover(consumer: Consumer) -> None:
            assert isinstance(consumer, ReconConsumer)
            await checker.recover(consumer.state)

        follower = Follower(
            service="recon",
            market_addr=self.market_addr,
            security=self.settings,
            make_consumer=lambda: ReconConsumer(self.store, checker),
            kinds=KINDS,
            before_follow=recover,
            stop_quietly_on=(Stopped,),
        )
        ledger_peer = None
        if self.ledger_addr is not None:
            ledger = open_channel(self.settings, self.ledger_addr, options=PEER_CHANNEL_OPTIONS)
            self._channels.append(ledger)
            ledger_peer = LedgerPeer(
                ledger_pb2_grpc.LedgerServiceStub(ledger),
                follower.stopping,
                health=health,
                reconnected=reconnection(ledger),
            )
        else:
            log.warning(
                "recon runs without a ledger (OPSUITE_RECON_USE_LEDGER=false): book vs custodian only"
            )
        checker = DayEndChecker(
            self.store,
            EventRecords(self.event_log),
            MarketPeer(market_pb2_grpc.MarketServiceStub(market), follower.stopping),
            ledger_peer,
            reference_of(market_reference),
            self.config,
            keep_days=self.settings.recon_keep_days,
        )
        self.checker, self.follower = checker, follower
        follower.start(health, market_reference.clock.head_seq)

    async def run_check(self, mandate_id: str | None) -> Sequence[CheckRun]:
        """RunCheck: check the latest day end again now (for one mandate, or all).

        UNAVAILABLE, with nothing checked or changed, while recon shuts down or the ledger cannot answer.
        """
        consumer, checker = self.consumer, self.checker
        if self.follower is not None and self.follower.stopping.is_set():
            raise check_refused_at_shutdown()
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
        try:
            return await checker.on_demand(state, state.last_day_end, mandates)
        except Stopped:
            raise check_refused_at_shutdown() from None
        except LedgerUnavailable as error:
            if self.follower is not None and self.follower.stopping.is_set():
                raise check_refused_at_shutdown() from None
            raise RequestError(
                grpc.StatusCode.UNAVAILABLE,
                "recon cannot compare with the ledger now, so nothing was checked or changed; retry once "
                f"the ledger answers. {error.reason}",
                reason="LEDGER_UNAVAILABLE",
                metadata={"ledger_code": error.code} if error.code else None,
            ) from None

    async def raise_break(self, item: RaisedItem) -> tuple[Break, bool]:
        """RaiseBreak: a break another service found, as of the latest day end checked."""
        consumer, checker = self.consumer, self.checker
        if self.follower is not None and self.follower.stopping.is_set():
            raise RequestError(
                grpc.StatusCode.UNAVAILABLE,
                "recon is shutting down: no break was raised; raise it again once recon serves again",
                reason="SHUTTING_DOWN",
            )
        state = consumer.at_day_end if consumer is not None else None
        if checker is None or consumer is None or state is None or state.last_day_end is None:
            raise RequestError(
                grpc.StatusCode.UNAVAILABLE,
                "recon has not checked a simulated day end yet, so it cannot date a break; raise it again "
                "after the first day end",
                reason="NO_DAY_END",
            )
        state.break_traceparents = consumer.state.break_traceparents
        try:
            return await checker.raise_break(state, item)
        except Stopped:
            raise RequestError(
                grpc.StatusCode.UNAVAILABLE,
                "recon is shutting down: no break was raised",
                reason="SHUTTING_DOWN",
            ) from None
        except LedgerUnavailable as error:
            raise RequestError(
                grpc.StatusCode.UNAVAILABLE,
                "recon's day-end check is waiting for the ledger, so no break was raised now; raise it again "
                f"shortly. {error.reason}",
                reason="LEDGER_UNAVAILABLE",
            ) from None

    async def write_off(self, break_id: str) -> None:
        """UpdateBreak wrote a break off: post its write-off journal now if the ledger answers."""
        consumer, checker = self.consumer, self.checker
        if checker is None:
            return
        state = consumer.state if consumer is not None else None
        await checker.write_off(state, break_id, self.sim_time())

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
        if self.follower is not None:
            await self.follower.stop()

    async def close(self) -> None:
        for channel in self._channels:
            await channel.close()
        self.store.close()
        self.event_log.close()


def build_service(settings: ReconSettings) -> Service:
    runtime = ReconRuntime(settings)
    servicer = ReconServicer(
        runtime.store,
        reference=runtime.reference,
        run_check=runtime.run_check,
        lineage=runtime.lineage,
        config=runtime.config,
        sim_clock=runtime.sim_time,
        write_off=runtime.write_off,
        raise_break=runtime.raise_break,
        event_log=runtime.event_log,
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
        progress=runtime.progress,
    )
