"""Wiring: settings in, a servable dq Service out.

On start dq reads its checks (OPSUITE_DQ_CHECKS, or the shipped defaults; a bad file stops the
start with the file's own error), asks market for its mandates and instruments, and follows the
stream (services/common/follower.py) from the stored cursor, checking every price and rate as it
arrives. It reports SERVING once caught up with market's head. Each issue raised or resolved goes
to the combined event log with the trace of the event that caused it, so `opsuite trace` reaches it.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Sequence

from services.common.eventlog import open_event_log
from services.common.eventlog.records import DuplicateEvent, NewRecord
from services.common.follower import Follower, fetch_reference
from services.common.serve import HealthControl, Service
from services.common.service_status import Progress
from services.dq.consumer import CHECKED_KINDS, DqConsumer, Recorded
from services.dq.domain.config import load_checks
from services.dq.domain.issues import ChangeKind
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
        self.follower: Follower | None = None

    def progress(self) -> Progress:
        return self.follower.progress() if self.follower is not None else Progress()

    async def start(self, health: HealthControl) -> None:
        market_addr = self.settings.addr("market")
        reference = await fetch_reference(market_addr)
        self.context.instruments.update({i.instrument_id: i for i in reference.instruments})
        self.context.mandates.update({m.mandate_id: m for m in reference.mandates})
        self.follower = Follower(
            service="dq",
            market_addr=market_addr,
            make_consumer=lambda: DqConsumer(
                self.store, self.checks, reference.mandates, reference.instruments, on_commit=self.record
            ),
            kinds=CHECKED_KINDS,
        )
        self.follower.start(health, reference.clock.head_seq)

    def record(self, recorded: Sequence[Recorded]) -> None:
        """Issues raised and resolved, to the combined event log (once: a replay after a crash
        appends the same ids, which the log refuses as duplicates)."""
        records = []
        for item in recorded:
            change, issue = item.change, item.change.issue
            if change.kind is ChangeKind.UPDATED:
                continue
            happened = "raised" if change.kind is ChangeKind.RAISED else "resolved"
            at = issue.first_seen if change.kind is ChangeKind.RAISED else issue.resolved_at
            assert at is not None
            records.append(
                NewRecord(
                    event_id=f"{issue.issue_id}-{happened}",
                    kind=f"dq.issue.{happened}",
                    sim_time=at,
                    trace_id=item.trace_id,
                    caused_by=issue.caused_by
                    if happened == "raised"
                    else (issue.resolved_by,)
                    if issue.resolved_by
                    else (),
                    summary=f"{issue.issue_id} {happened}: {issue.message}",
                )
            )
        for record in records:
            with contextlib.suppress(DuplicateEvent):
                self.event_log.append(SOURCE, [record])

    async def stop(self) -> None:
        if self.follower is not None:
            await self.follower.stop()


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
