"""Wiring: settings in, a servable ledger Service out.

On start the ledger asks market for its mandates and instruments, restores
its posting rules' state from the store, and follows the stream from the
stored cursor. It reports SERVING once caught up with market's head.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import Callable
from decimal import Decimal

import grpc

from opsuite.market.v1 import market_pb2, market_pb2_grpc
from services.common.convert import date_from_proto
from services.common.eventlog import open_event_log
from services.common.serve import HealthControl, Service
from services.common.settings import Settings
from services.common.stream_client import CursorTooOld, EventStreamClient
from services.ledger.consumer import BOOKED_KINDS, LedgerConsumer
from services.ledger.domain.chart import standard_chart
from services.ledger.domain.rules import LedgerBook
from services.ledger.server import LedgerContext, LedgerServicer, register
from services.ledger.store import open_store

log = logging.getLogger(__name__)
RESTART_DELAY_S = 2.0


async def fetch_reference_data(
    market_addr: str,
) -> tuple[list[market_pb2.Mandate], list[market_pb2.Instrument], market_pb2.Clock]:
    """Mandates, instruments and the clock from market, waiting for market to come up."""
    async with grpc.aio.insecure_channel(market_addr) as channel:
        await channel.channel_ready()
        stub = market_pb2_grpc.MarketServiceStub(channel)
        mandates: list[market_pb2.Mandate] = []
        token = ""
        while True:
            page = await stub.ListMandates(market_pb2.ListMandatesRequest(page_size=1000, page_token=token))
            mandates.extend(page.mandates)
            if not (token := page.next_page_token):
                break
        instruments: list[market_pb2.Instrument] = []
        while True:
            page = await stub.ListInstruments(
                market_pb2.ListInstrumentsRequest(page_size=1000, page_token=token)
            )
            instruments.extend(page.instruments)
            if not (token := page.next_page_token):
                break
        clock = await stub.GetClock(market_pb2.GetClockRequest())
    return mandates, instruments, clock


class LedgerRuntime:
    """The consumer, its stream client and the restart loop around them."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.market_addr = settings.addr("market")
        self.store = open_store(settings.ledger_dsn, settings.service_dir("ledger"))
        self.event_log = open_event_log(settings.eventlog_url or None, settings.data_dir)
        self.base_currencies: dict[str, str] = {}
        self.consumer: LedgerConsumer | None = None
        self.client: EventStreamClient | None = None
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()

    def rates(self, mandate_id: str, base: str) -> Callable[[str], Decimal]:
        book = self.consumer.book if self.consumer else None

        def rate(currency: str) -> Decimal:
            if currency == base:
                return Decimal(1)
            if book is None:
                raise ValueError(f"no FX rate for {currency} yet")
            return book.rate(currency, base)

        return rate

    def today(self) -> dt.date | None:
        return self.consumer.book.current_date if self.consumer else None

    async def start(self, health: HealthControl) -> None:
        mandates, instruments, clock = await fetch_reference_data(self.market_addr)
        self.base_currencies.update({m.mandate_id: m.base_currency for m in mandates})
        start = date_from_proto(clock.start_date, "start_date")
        chart = [a for m in mandates for a in standard_chart(m.mandate_id, m.base_currency, start)]
        opened = await asyncio.to_thread(self.store.open_accounts, chart)
        if opened:
            log.info("opened the standard chart of accounts", extra={"accounts": opened})
        self._task = asyncio.create_task(self._follow(health, mandates, instruments, clock.head_seq))

    async def _follow(
        self,
        health: HealthControl,
        mandates: list[market_pb2.Mandate],
        instruments: list[market_pb2.Instrument],
        head_at_start: int,
    ) -> None:
        ready = False

        async def on_committed(seq: int) -> None:
            nonlocal ready
            # Called before the client moves its own cursor: compare the committed seq with the head.
            if not ready and self.client is not None and seq >= self.client.head_seq:
                ready = True
                log.info("caught up with market", extra={"seq": seq})
                await health.set_serving()

        while not self._stopping.is_set():
            self.consumer = LedgerConsumer(self.store, lambda: LedgerBook.from_market(mandates, instruments))
            self.consumer.on_committed = on_committed
            self.client = EventStreamClient(
                self.market_addr, self.consumer, self.consumer.apply, service="ledger", kinds=BOOKED_KINDS
            )
            if not ready and self.consumer.load() >= head_at_start:
                ready = True
                await health.set_serving()
            try:
                await self.client.run()
            except CursorTooOld as error:
                log.error(
                    "the ledger's cursor is older than market's retention: events are lost to it",
                    extra={"oldest_seq": error.oldest_seq},
                )
                await health.set_not_serving()
                return
            except Exception:
                log.exception("the ledger's consumer failed; restarting it from the stored cursor")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), timeout=RESTART_DELAY_S)

    async def stop(self) -> None:
        self._stopping.set()
        if self.client is not None:
            await self.client.stop()
        if self._task is not None:
            await self._task


def build_service(settings: Settings) -> Service:
    runtime = LedgerRuntime(settings)
    servicer = LedgerServicer(
        runtime.store,
        LedgerContext(
            base_currencies=runtime.base_currencies,
            rates=runtime.rates,
            today=runtime.today,
            event_log=runtime.event_log,
        ),
    )

    async def on_stop() -> None:
        runtime.store.close()
        runtime.event_log.close()

    return Service(
        name="ledger",
        register=lambda server: register(server, servicer),
        on_start=runtime.start,
        on_draining=runtime.stop,
        on_stop=on_stop,
        ready_on_start=False,
    )
