"""Wiring: settings in, a servable ledger Service out.

On start the ledger asks market for its mandates and instruments, opens its
chart of accounts, and follows the stream (services/common/follower.py) from
the stored cursor, restoring its posting rules' state from the store. It
reports SERVING once caught up with market's head.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import Callable
from decimal import Decimal

from services.common.eventlog import open_event_log
from services.common.follower import Follower, fetch_reference, followers_date
from services.common.serve import HealthControl, Service
from services.common.service_status import Progress
from services.ledger.consumer import BOOKED_KINDS, LedgerConsumer
from services.ledger.domain.retention import Retention
from services.ledger.domain.rules import LedgerBook
from services.ledger.outbox import OutboxRelay
from services.ledger.server import LedgerContext, LedgerServicer, register
from services.ledger.settings import LedgerSettings
from services.ledger.store import open_store

log = logging.getLogger(__name__)

CLOSE_RECHECK_S = 2.0  # how often a held period close is looked at again


class LedgerRuntime:
    """The ledger's store, its event log, and the follower that books market's stream."""

    def __init__(self, settings: LedgerSettings) -> None:
        self.settings = settings
        self.store = open_store(settings.ledger_dsn, settings.service_dir("ledger"))
        self.event_log = open_event_log(settings.eventlog_url or None, settings.data_dir)
        self.outbox = OutboxRelay(self.store, self.event_log)
        self.base_currencies: dict[str, str] = {}
        self.follower: Follower | None = None
        self._stopping = asyncio.Event()
        self._relay_task: asyncio.Task[None] | None = None
        self._close_task: asyncio.Task[None] | None = None

    @property
    def consumer(self) -> LedgerConsumer | None:
        consumer = self.follower.consumer if self.follower is not None else None
        return consumer if isinstance(consumer, LedgerConsumer) else None

    def rates(self, mandate_id: str, base: str) -> Callable[[str], Decimal]:
        def rate(currency: str) -> Decimal:
            if currency == base:
                return Decimal(1)
            consumer = self.consumer
            if consumer is None:
                raise ValueError(f"no FX rate for {currency} yet")
            return consumer.book.rate(currency, base)

        return rate

    def today(self) -> dt.date | None:
        consumer = self.consumer
        return consumer.book.current_date if consumer is not None else None

    def _market_head(self) -> int:
        """Market's head as the stream last reported it (0 before the stream answers)."""
        client = self.follower.client if self.follower is not None else None
        return client.head_seq if client is not None else 0

    async def wait_for_market_seq(self, seq: int, timeout: float) -> int:
        """Wait until the journals of market's events up to seq are committed (or timeout)."""
        if self.follower is None:
            return 0
        deadline = asyncio.get_running_loop().time() + timeout
        applied = await self.follower.wait_for_committed(seq, timeout)
        consumer = self.consumer
        if consumer is None or applied < seq:
            return applied
        # The follower counts a batch held for the next commit; the store has it once the consumer's
        # cursor passes it.
        return await consumer.wait_for_cursor(seq, deadline - asyncio.get_running_loop().time())

    def progress(self) -> Progress:
        return self.follower.progress() if self.follower is not None else Progress()

    async def start(self, health: HealthControl) -> None:
        # Records committed with their journals but never delivered (a crash after the commit);
        # during an outage of the event log the relay retries until they are.
        self._relay_task = asyncio.create_task(self.outbox.run(self._stopping), name="ledger-outbox")
        await self.outbox.deliver_now()
        market_addr = self.settings.addr("market")
        reference = await fetch_reference(market_addr, security=self.settings)
        mandates, instruments = reference.mandates, reference.instruments
        self.base_currencies.update({m.mandate_id: m.base_currency for m in mandates})
        # Each close logs its horizon ("closed the ledger's period"); this says what will be kept.
        retention = Retention(self.settings.ledger_keep_days)
        log.info("journal retention", extra={"keep_days": retention.keep_days, "step_days": retention.step})
        self.follower = Follower(
            service="ledger",
            market_addr=market_addr,
            security=self.settings,
            make_consumer=lambda: LedgerConsumer(
                self.store,
                lambda: LedgerBook.from_market(mandates, instruments),
                retention,
                # Closes wait for the services that read the ledger, as market's retention does.
                readers_date=lambda: followers_date(market_addr, self.settings),
                outbox=self.outbox,
                batches_per_commit=self.settings.ledger_batches_per_commit,
                market_head=self._market_head,
            ),
            kinds=BOOKED_KINDS,
        )
        self.follower.start(health, reference.clock.head_seq)
        self._close_task = asyncio.create_task(self._close_when_due(), name="ledger-close")

    async def _close_when_due(self) -> None:
        """Ask the consumer to close what is due every few seconds (LedgerConsumer.close_when_due);
        a failed attempt is logged and tried again at the next round."""
        while not self._stopping.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), timeout=CLOSE_RECHECK_S)
                return
            consumer = self.follower.consumer if self.follower is not None else None
            if isinstance(consumer, LedgerConsumer):
                try:
                    await consumer.close_when_due()
                except Exception:
                    log.warning("a period close failed; tried again shortly", exc_info=True)

    async def stop(self) -> None:
        self._stopping.set()
        if self.follower is not None:
            await self.follower.stop()
        consumer = self.consumer
        if consumer is not None:
            try:
                await consumer.flush()  # the batches held for a commit: the cursor persists what was booked
            except Exception:
                log.warning(
                    "could not commit the batches held at stop; they are booked again at start", exc_info=True
                )
        if self._close_task is not None:
            await self._close_task
        if self._relay_task is not None:
            await self._relay_task


def build_service(settings: LedgerSettings) -> Service:
    runtime = LedgerRuntime(settings)
    servicer = LedgerServicer(
        runtime.store,
        LedgerContext(
            base_currencies=runtime.base_currencies,
            rates=runtime.rates,
            today=runtime.today,
            outbox=runtime.outbox,
            wait_for_market_seq=runtime.wait_for_market_seq,
        ),
    )

    async def on_stop() -> None:
        runtime.store.close()
        runtime.event_log.close()

    async def on_draining() -> None:
        servicer.close()  # open watches end now, saying where to resume
        await runtime.stop()

    return Service(
        name="ledger",
        register=lambda server: register(server, servicer),
        on_start=runtime.start,
        on_draining=on_draining,
        on_stop=on_stop,
        ready_on_start=False,
        progress=runtime.progress,
        # Until market's mandates are fetched the ledger cannot tell a known mandate from an unknown
        # one: UNAVAILABLE (retry), never NOT_FOUND for a mandate that exists.
        unavailable=lambda: (
            "" if runtime.base_currencies else "the ledger is fetching the mandates from market"
        ),
    )
