"""Wiring: settings in, a servable market Service out."""

from __future__ import annotations

import logging

from services.common import malloc
from services.common.eventlog import open_event_log
from services.common.serve import HealthControl, Service
from services.common.service_status import Progress
from services.market.fred import load_series, load_snapshot, pack_series, unpack_series
from services.market.runtime import ClockSettings, MarketRuntime
from services.market.server import MarketServicer, register
from services.market.settings import MarketSettings
from services.market.sim.days import Extension
from services.market.sim.engine import SimConfig
from services.market.sim.macro import build_history
from services.market.sim.macro.alignment import FX_SERIES
from services.market.sim.macro.extension import extend
from services.market.sim.series import SeriesSet

log = logging.getLogger(__name__)


def _extension(series: SeriesSet, seed: int) -> Extension:
    """The synthetic extension, built only if the run goes past the real data (it reads the whole
    history once), from the series packed: they would otherwise stay in memory as objects (about
    12 MiB) for the years of the run until then, or for ever in a run that ends before. Of the
    published text the extension reads the FX fixings' only (exact decimals): unpacking the rest
    would add 5 MiB to the peak of the day it is built."""
    packed = pack_series(series, text_of=FX_SERIES.values())
    return lambda: extend(unpack_series(packed), seed)


def build_runtime(settings: MarketSettings) -> MarketRuntime:
    series = load_series(settings.fred_api_key or None, root_url=settings.fred_url or None)
    macro = build_history(series, settings.start)
    for note in macro.notes:
        log.info("macro data: %s", note)
    config = SimConfig(
        seed=settings.seed, start=settings.start, days=settings.days, fault_rate=settings.fault_rate
    )
    extension = _extension(series, settings.seed)
    # load_snapshot keeps the snapshot's series for processes that build many histories (tests,
    # benchmarks); this one has built its only history and packed the series for the extension.
    load_snapshot.cache_clear()
    del series
    malloc.release_free_memory()  # what parsing the series and building the history left free
    return MarketRuntime(
        config,
        macro,
        open_event_log(settings.eventlog_url or None, settings.data_dir),
        ClockSettings.parse(settings.speed),
        retention_events=settings.retention_events,
        retention_days=settings.retention_days,
        followers=settings.followers,
        extension=extension,
        day_books_path=settings.service_dir("market") / "day_books.sqlite",
    )


def build_service(settings: MarketSettings) -> Service:
    # Before any worker thread allocates: the simulation's days run in asyncio.to_thread workers,
    # and an arena of their own would keep the high-water mark of each (malloc.py).
    malloc.limit_arenas(1)
    runtime = build_runtime(settings)
    servicer = MarketServicer(runtime, allow_fault_injection=settings.allow_fault_injection)

    async def on_start(health: HealthControl) -> None:
        await runtime.start()
        await health.set_serving()

    async def on_stop() -> None:
        runtime.event_log.close()
        runtime.day_books.close()

    def progress() -> Progress:
        # Market is its own head: it has "applied" every event it published.
        clock = runtime.clock_state()
        return Progress(clock.head_seq, clock.head_seq, clock.sim_date)

    return Service(
        name="market",
        register=lambda server: register(server, servicer),
        on_start=on_start,
        # Ending the clock and the hub first lets open StreamEvents calls finish at once.
        on_draining=runtime.stop,
        on_stop=on_stop,
        ready_on_start=False,
        progress=progress,
        # Until its run is restored from the event log, market's answers would be of a
        # half-replayed world (head 0, an old snapshot): refuse them instead.
        unavailable=lambda: "" if runtime.restored else "market is restoring its run from the event log",
    )
