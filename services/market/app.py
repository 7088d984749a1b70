"""Wiring: settings in, a servable market Service out."""

from __future__ import annotations

import logging

from services.common.eventlog import open_event_log
from services.common.serve import HealthControl, Service
from services.common.service_status import Progress
from services.market.fred import load_series
from services.market.runtime import ClockSettings, MarketRuntime
from services.market.server import MarketServicer, register
from services.market.settings import MarketSettings
from services.market.sim.engine import SimConfig
from services.market.sim.macro import build_history
from services.market.sim.macro.extension import extend

log = logging.getLogger(__name__)


def build_runtime(settings: MarketSettings) -> MarketRuntime:
    series = load_series(settings.fred_api_key or None, root_url=settings.fred_url or None)
    macro = build_history(series, settings.start)
    for note in macro.notes:
        log.info("macro data: %s", note)
    config = SimConfig(
        seed=settings.seed, start=settings.start, days=settings.days, fault_rate=settings.fault_rate
    )
    return MarketRuntime(
        config,
        macro,
        open_event_log(settings.eventlog_url or None, settings.data_dir),
        ClockSettings.parse(settings.speed),
        retention_events=settings.retention_events,
        retention_days=settings.retention_days,
        followers=settings.followers,
        # Built only if the run goes past the real data (it reads the whole history once).
        extension=lambda: extend(series, settings.seed),
        day_books_path=settings.service_dir("market") / "day_books.sqlite",
    )


def build_service(settings: MarketSettings) -> Service:
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
