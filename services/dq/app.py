"""Wiring: settings in, a servable dq Service out.

With the ledger (OPSUITE_DQ_USE_LEDGER, the default) each day end also waits for the ledger's
holdings as of it, so the three feeds are compared on every day end whatever the timing.

On start dq reads its checks (OPSUITE_DQ_CHECKS, or the shipped defaults; a bad file stops the
start with the file's own error), asks market for its mandates and instruments, and follows the
stream (services/common/follower.py) from the stored cursor, checking every price and rate as it
arrives. It reports SERVING once caught up with market's head. Each issue raised or resolved goes
to the combined event log with the trace of the event that caused it, so `opsuite trace` reaches it.
"""

from __future__ import annotations

import asyncio
import logging

import grpc.aio

from opsuite.ledger.v1 import ledger_pb2_grpc
from services.common.channels import open_channel
from services.common.eventlog import open_event_log
from services.common.eventlog.outbox import Relay
from services.common.follower import CHANNEL_OPTIONS, Follower, fetch_reference
from services.common.peer_wait import PeerWait
from services.common.redelivery import Redelivery
from services.common.serve import HealthControl, Service
from services.common.service_status import Progress
from services.common.stopping import Stopped
from services.dq.consumer import CHECKED_KINDS, DqConsumer
from services.dq.domain.config import load_checks
from services.dq.ledger_view import LedgerFeed
from services.dq.server import DqContext, DqServicer, register
from services.dq.settings import DqSettings
from services.dq.store import open_store

log = logging.getLogger(__name__)
SOURCE = "dq"


class DqRuntime:
    """dq's checks, its store, and the follower that checks market's stream into it."""

    def __init__(self, settings: DqSettings) -> None:
        self.settings = settings
        path = settings.dq_checks
        self.checks = load_checks(path)
        self.store = open_store(settings.service_dir("dq"))
        self.context = DqContext(
            checks=self.checks,
            checks_source=str(path) if path is not None else "defaults",
            progress=self.progress,
        )
        self.event_log = open_event_log(settings.eventlog_url or None, settings.data_dir)
        self.relay = Relay(self.store, self.event_log, SOURCE)
        self.redelivery = Redelivery(
            "dq's event-log records", lambda: asyncio.to_thread(self.relay.deliver_or_defer)
        )
        self.follower: Follower | None = None
        self._channel: grpc.aio.Channel | None = None
        self._stopping = asyncio.Event()
        self._redelivery_task: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def progress(self) -> Progress:
        return self.follower.progress() if self.follower is not None else Progress()

    async def start(self, health: HealthControl) -> None:
        # What a crash left undelivered after its day end was committed.
        self._loop = asyncio.get_running_loop()
        self._redelivery_task = asyncio.create_task(self.redelivery.run(self._stopping), name="dq-redelivery")
        self.redelivery.ask()
        market_addr = self.settings.addr("market")
        reference = await fetch_reference(market_addr, security=self.settings)
        self.context.instruments.update({i.instrument_id: i for i in reference.instruments})
        self.context.mandates.update({m.mandate_id: m for m in reference.mandates})
        ledger: LedgerFeed | None = None
        follower = Follower(
            service="dq",
            market_addr=market_addr,
            security=self.settings,
            make_consumer=lambda: DqConsumer(
                self.store,
                self.checks,
                reference.mandates,
                reference.instruments,
                on_commit=self.deliver,
                ledger=ledger,
            ),
            kinds=CHECKED_KINDS,
            stop_quietly_on=(Stopped,),
        )
        if self.settings.dq_use_ledger:
            self._channel = open_channel(self.settings, self.settings.addr("ledger"), options=CHANNEL_OPTIONS)
            wait = PeerWait("ledger", follower.stopping, health)
            ledger = LedgerFeed(ledger_pb2_grpc.LedgerServiceStub(self._channel), wait)
        else:
            log.warning("dq runs without the ledger (OPSUITE_DQ_USE_LEDGER=false): book vs custodian only")
        self.follower = follower
        follower.start(health, reference.clock.head_seq)

    def deliver(self, _: object = None) -> None:
        """The issue changes' records still in the outbox, to the combined event log (called in the
        consumer's thread after each commit); an event log that cannot take them now gets them from
        the retries (they wait in the outbox)."""
        if not self.relay.deliver_or_defer() and self._loop is not None:
            self._loop.call_soon_threadsafe(self.redelivery.ask)

    async def stop(self) -> None:
        if self.follower is not None:
            await self.follower.stop()
        self._stopping.set()
        if self._redelivery_task is not None:
            await self._redelivery_task
        if self._channel is not None:
            await self._channel.close()


def build_service(settings: DqSettings) -> Service:
    runtime = DqRuntime(settings)
    servicer = DqServicer(runtime.store, runtime.context)

    async def on_draining() -> None:
        servicer.close()
        await runtime.stop()

    async def on_stop() -> None:
        runtime.store.close()
        runtime.event_log.close()

    return Service(
        name="dq",
        register=lambda server: register(server, servicer),
        on_start=runtime.start,
        on_draining=on_draining,
        on_stop=on_stop,
        ready_on_start=False,
        progress=runtime.progress,
        unavailable=lambda: "" if runtime.context.mandates else "dq is fetching the mandates from market",
    )
