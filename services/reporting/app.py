"""Wiring: settings in, a servable reporting Service out.

On start reporting asks market for its mandates and instruments and follows the stream
(services/common/follower.py) from the stored cursor, valuing every mandate at each day end, once
dq has checked that day (dq_view.py; OPSUITE_REPORTING_USE_DQ=false values without it). It
reports SERVING once caught up with market's head. Reports ask the ledger for its equity at market
on demand (ledger_view.py); the channel is created in on_start, after telemetry has instrumented gRPC.
"""

from __future__ import annotations

import asyncio
import logging

import grpc.aio

from opsuite.dq.v1 import dq_pb2_grpc
from opsuite.ledger.v1 import ledger_pb2_grpc
from services.common.channels import open_channel
from services.common.eventlog import open_event_log
from services.common.follower import CHANNEL_OPTIONS, Follower, fetch_reference
from services.common.peer_wait import PeerWait
from services.common.serve import HealthControl, Service
from services.common.service_status import Progress
from services.common.stopping import Stopped
from services.reporting.comparer import NavComparer
from services.reporting.consumer import VALUED_KINDS, ReportingConsumer
from services.reporting.dq_view import WAIT_ALSO_ON, DqQuarantine
from services.reporting.ledger_view import LedgerView, no_ledger
from services.reporting.server import ReportingContext, ReportingServicer, register
from services.reporting.settings import ReportingSettings
from services.reporting.store import open_store

log = logging.getLogger(__name__)


class ReportingRuntime:
    """reporting's store, and the follower that values market's stream into it."""

    def __init__(self, settings: ReportingSettings) -> None:
        self.settings = settings
        self.store = open_store(settings.service_dir("reporting"))
        self.context = ReportingContext(mandates={}, instruments={}, ledger_view=no_ledger)
        self.event_log = open_event_log(settings.eventlog_url or None, settings.data_dir)
        self.follower: Follower | None = None
        self._channel: grpc.aio.Channel | None = None
        self._dq_channel: grpc.aio.Channel | None = None
        self._stopping = asyncio.Event()
        self._comparing: asyncio.Task[None] | None = None

    def progress(self) -> Progress:
        return self.follower.progress() if self.follower is not None else Progress()

    async def start(self, health: HealthControl) -> None:
        market_addr = self.settings.addr("market")
        reference = await fetch_reference(market_addr, security=self.settings)
        if self.settings.reporting_use_ledger:
            self._channel = open_channel(self.settings, self.settings.addr("ledger"), options=CHANNEL_OPTIONS)
            ledger = ledger_pb2_grpc.LedgerServiceStub(self._channel)
            self.context.ledger_view = LedgerView(ledger)
            comparer = NavComparer(self.store, ledger, self.event_log)
            mandate_ids = sorted(m.mandate_id for m in reference.mandates)
            self._comparing = asyncio.create_task(
                comparer.run(self._stopping, mandate_ids), name="reporting-compare"
            )
        self.context.instruments.update({i.instrument_id: i for i in reference.instruments})
        self.context.mandates.update({m.mandate_id: m for m in reference.mandates})
        quarantine: DqQuarantine | None = None
        follower = Follower(
            service="reporting",
            market_addr=market_addr,
            security=self.settings,
            make_consumer=lambda: ReportingConsumer(
                self.store, reference.mandates, reference.instruments, quarantine
            ),
            kinds=VALUED_KINDS,
            stop_quietly_on=(Stopped,),
        )
        if self.settings.reporting_use_dq:
            self._dq_channel = open_channel(self.settings, self.settings.addr("dq"), options=CHANNEL_OPTIONS)
            wait = PeerWait("dq", follower.stopping, health, also_wait_on=WAIT_ALSO_ON)
            quarantine = DqQuarantine(dq_pb2_grpc.DqServiceStub(self._dq_channel), wait)
        else:
            log.warning(
                "reporting runs without dq (OPSUITE_REPORTING_USE_DQ=false): every price as published"
            )
        self.follower = follower
        follower.start(health, reference.clock.head_seq)

    async def stop(self) -> None:
        self._stopping.set()
        if self._comparing is not None:
            await self._comparing
        if self.follower is not None:
            await self.follower.stop()
        for channel in (self._channel, self._dq_channel):
            if channel is not None:
                await channel.close()


def build_service(settings: ReportingSettings) -> Service:
    runtime = ReportingRuntime(settings)
    servicer = ReportingServicer(runtime.store, runtime.context)

    async def on_stop() -> None:
        runtime.store.close()
        runtime.event_log.close()

    async def on_draining() -> None:
        servicer.close()  # open WatchNav streams end now, saying where to resume
        await runtime.stop()

    return Service(
        name="reporting",
        register=lambda server: register(server, servicer),
        on_start=runtime.start,
        on_draining=on_draining,
        on_stop=on_stop,
        ready_on_start=False,
        progress=runtime.progress,
        # Until market's mandates are fetched reporting cannot tell a known mandate from an unknown one.
        unavailable=lambda: (
            "" if runtime.context.mandates else "reporting is fetching the mandates from market"
        ),
    )
