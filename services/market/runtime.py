"""Runs the simulation as a service: the clock, the log, the live tail.

The simulation (services/market/sim) is pure and deterministic; this module
gives it a clock, stores every event in the combined event log (source
"market"), attaches the trace context of the span that produced it, and
feeds the in-memory tail that StreamEvents serves from.

At a live speed a business day's slot (1/speed seconds) stands for its hours from the opening
(08:00, the day's first events) to the close (clock.day_end, 23:59): the day is simulated and
logged whole at the opening, its events up to the custodian's statements go out then, and its close
two thirds of a slot later, when a clock on the wall would strike 23:59 (`close_delay`). So the
followers book the day's trading while the simulated day goes on, and the close, which starts every
follower's day-end work (recon's check, the ledger's marks), finds the cores the trading has left;
a third of a slot passes before the next day opens. At full speed a day goes out at once.

A restart with the same data directory resumes the same run: the simulation
is replayed silently up to the log's head (it is deterministic, so the
replay reproduces the logged events), together with any faults injected on
demand, which are logged under the source "market.control".
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import json
import logging
import pathlib
import threading
import time
from collections import OrderedDict
from collections.abc import Sequence

from opentelemetry import context as otel_context
from opentelemetry import trace

from opsuite.market.v1 import market_pb2
from services.common import malloc, telemetry
from services.common.eventlog import DuplicateEvent, EventLog, FramedRun, NewRecord, SequenceConflict
from services.common.outages import BackendUnavailable
from services.market import codec
from services.market.daybooks import DayBooks
from services.market.hub import DEFAULT_CAPACITY, EventHub
from services.market.retention import Retention, RetentionPolicy
from services.market.run_identity import RUN_META_KEY, RunIdentity, parse_record
from services.market.run_plan import plan_for_history
from services.market.sim.days import Extension
from services.market.sim.engine import PHASE_TIME, SimConfig, Simulation
from services.market.sim.macro import MacroHistory
from services.market.sim.records import (
    BookSnapshot,
    FaultKind,
    FaultRequest,
    InjectedFault,
    SimEvent,
    SyntheticOrigin,
)

log = logging.getLogger(__name__)

SOURCE = "market"
CONTROL_SOURCE = "market.control"
FOLLOWERS_META_KEY = "market.followers"  # each declared follower's acknowledged seq (retention.py)
# Events whose trace starts a new trade-level trace; everything they cause joins it. An FX deal is
# one of its own (it funds several fills, or none): the custodian's report of its settlement joins it.
TRACE_ROOT_KINDS = frozenset({"trade.fill", "trade.fx"})
# Which trace an event joins is remembered for the last 10,000 events of fills' traces, about ten
# months of them (a fill or FX deal and the few events it causes, ~50 a business day): a custodian's
# correction or settlement comes weeks after its fill, never years, and memory stays flat however
# long the run. Over twenty simulated years (seed 7, 2007-2027) the farthest an event joined its
# trace was 2,523 entries after its cause; each entry costs about 160 bytes.
MAX_TRACE_ROOTS = 10_000
# Every this many business days the clock hands the memory malloc holds free back to the system
# (malloc.release_free_memory, about a millisecond): a month's garbage, and once, the replay of the
# whole history that builds the synthetic extension when the real days run out.
RELEASE_MEMORY_EVERY_DAYS = 21
# A live day's slot runs from the opening (the day's first events) to the close (clock.day_end), so
# the close goes out this part of a slot after the opening: (23:59 - 08:00) / 24 h, about two thirds.
OPENING = min(PHASE_TIME.values())
CLOSE = PHASE_TIME["clock.day_end"]
CLOSE_AFTER_SLOT = (
    dt.datetime.combine(dt.date.min, CLOSE) - dt.datetime.combine(dt.date.min, OPENING)
) / dt.timedelta(hours=24)


class RunMismatch(RuntimeError):
    """The data directory holds a different run than the one asked for. Its message is one sentence
    for a person: what differs, and how to start anyway (the supervisor shows it as it is)."""

    def __init__(self, cause: str) -> None:
        super().__init__(
            f"The data directory holds {cause}, so market cannot resume it: `opsuite up --fresh` "
            "deletes the previous run, or point OPSUITE_DATA_DIR somewhere else."
        )


@dataclasses.dataclass(frozen=True, slots=True)
class ClockSettings:
    """How fast the clock runs: business days per second, or None for as fast as possible."""

    days_per_second: float | None

    @classmethod
    def parse(cls, speed: str) -> ClockSettings:
        return cls(None if speed == "max" else float(speed))


@dataclasses.dataclass(frozen=True, slots=True)
class ClockState:
    sim_date: dt.date | None
    live: bool
    days_per_second: float
    seed: int
    start_date: dt.date
    end_date: dt.date | None  # None: a run with no end
    days_elapsed: int
    head_seq: int
    oldest_seq: int
    regime: str
    data_source: str
    running: bool
    synthetic: SyntheticOrigin | None = None  # the origin of sim_date when it is a synthetic day
    real_data_end: dt.date | None = None  # the last business day of real data
    followers: tuple[tuple[str, int], ...] = ()  # each declared follower and the seq it acknowledged


@dataclasses.dataclass(frozen=True, slots=True)
class PublishedDay:
    """The last business day whose events subscribers can see: what GetClock reports."""

    date: dt.date | None = None
    regime: str = ""
    days_elapsed: int = 0
    origin: SyntheticOrigin | None = None  # None for a real day


def _origin_of(sim: Simulation) -> SyntheticOrigin | None:
    """Where the simulation's last day was drawn from when it is synthetic; None for a real day."""
    day = sim.current_day
    return day.origin if day is not None else None


class MarketRuntime:
    def __init__(
        self,
        config: SimConfig,
        macro: MacroHistory,
        event_log: EventLog,
        clock: ClockSettings,
        *,
        retention_events: int,
        retention_days: int = 0,
        followers: Sequence[str] = (),
        hub_capacity: int = DEFAULT_CAPACITY,
        extension: Extension | None = None,
        day_books_path: pathlib.Path | None = None,
    ) -> None:
        # What opsuite up and opsuite simulate tell a person before a run, market logs at start-up;
        # the run is then recorded (and compared on a restart) with the business day it begins on.
        self.plan = plan_for_history(macro, config.start, config.days, live=clock.days_per_second is not None)
        for note in self.plan.notes:
            log.info(note, extra={"start": self.plan.start.isoformat(), "days": self.plan.days})
        config = dataclasses.replace(config, start=self.plan.start, days=self.plan.days)
        self.config = config
        self.macro = macro
        self.sim = Simulation(config, macro, extension)
        self.event_log = event_log
        self.clock = clock
        self.retention_events = retention_events
        self.retention = Retention(RetentionPolicy(retention_events, retention_days), followers)
        self.hub = EventHub(capacity=min(hub_capacity, retention_events))
        self.oldest_seq = 1
        self.events_produced = 0
        self._sim_lock = threading.Lock()
        self._trim_lock = threading.Lock()
        # Every day end the log still keeps, for GetSnapshot (daybooks.py: old ones spill to a file).
        self.day_books = DayBooks(day_books_path)
        self._trace_roots: OrderedDict[str, str] = OrderedDict()
        self._pending_controls: list[tuple[int, FaultRequest]] = []
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.restored = False  # True once the run in the data directory is replayed (start())
        self._tracer = telemetry.tracer("opsuite.market")
        self.published = PublishedDay()
        # How long the clock waits before writing a day again while the event log is unreachable.
        self.outage_retry_initial_s = 0.25
        self.outage_retry_max_s = 5.0

    # ------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Resume the run in the data directory (or start it), then run the clock."""
        await asyncio.to_thread(self._recover)
        self.restored = True
        self._task = asyncio.create_task(self._run_clock(), name="market-clock")

    async def stop(self) -> None:
        """Finish the day in progress (a day is appended whole or not at all), then stop."""
        self._stopping.set()
        await self.hub.close()
        if self._task is not None:
            await self._task

    @property
    def running(self) -> bool:
        """True until the clock has published its last day (or was stopped)."""
        return self._task is not None and not self._task.done()

    @property
    def identity(self) -> RunIdentity:
        return RunIdentity.of(self.config.seed, self.config.fault_rate, self.plan)

    def _recover(self) -> None:
        head = self.event_log.head(SOURCE)
        wanted = self.identity
        self.retention.positions.update(
            (name, seq)
            for name, seq in parse_record(self.event_log.get_meta(FOLLOWERS_META_KEY)).items()
            if name in self.retention.positions and isinstance(seq, int)
        )
        if head == 0:
            self.event_log.set_meta(RUN_META_KEY, wanted.to_json())
            return
        stored = parse_record(self.event_log.get_meta(RUN_META_KEY))
        differences = wanted.differences(stored) if stored else []
        if differences:
            raise RunMismatch(f"another run ({'; '.join(differences)})")
        controls = self._load_controls()
        self.oldest_seq = self.event_log.oldest(SOURCE)
        started = time.monotonic()
        log.info("replaying the simulation up to the logged head", extra={"head_seq": head})
        while self.sim.head_seq < head:
            self._apply_controls(controls)
            day = self.sim.step()
            if day is not None and day.events:
                self.retention.on_day(day.events[0].seq)
            if day is None:
                raise RunMismatch(
                    f"a longer run ({head:,} events, where this one ends after {self.sim.head_seq:,} on "
                    f"{self.sim.current_date}: fewer days asked for, or other data)"
                )
            self._remember(day.snapshot)
        if self.sim.head_seq != head:
            raise RunMismatch(
                f"a run whose events differ from this one's (its {head:,} events end inside this run's "
                f"day of {self.sim.current_date}: other data)"
            )
        self._pending_controls = controls
        malloc.release_free_memory()  # the replay's garbage: every day of the run built and dropped
        self.hub.reset_head(head)
        self.published = PublishedDay(
            self.sim.current_date, self.sim.regime, self.sim.days_elapsed, _origin_of(self.sim)
        )
        log.info(
            "resumed the run",
            extra={
                "head_seq": head,
                "days": self.sim.days_elapsed,
                "replay_s": round(time.monotonic() - started, 3),
            },
        )

    def _load_controls(self) -> list[tuple[int, FaultRequest]]:
        controls: list[tuple[int, FaultRequest]] = []
        from_seq = 1
        while batch := self.event_log.read(CONTROL_SOURCE, from_seq, 1000):
            for record in batch:
                body = json.loads(record.payload)
                request = body["request"]
                controls.append(
                    (body["before_day"], FaultRequest(**{**request, "kind": FaultKind(request["kind"])}))
                )
            from_seq = batch[-1].seq + 1
        return controls

    def _apply_controls(self, controls: list[tuple[int, FaultRequest]]) -> None:
        while controls and controls[0][0] <= self.sim.days_elapsed:
            self.sim.inject(controls.pop(0)[1])

    # ------------------------------------------------------------ the clock

    async def _run_clock(self) -> None:
        loop = asyncio.get_running_loop()
        next_at = loop.time()
        while not self._stopping.is_set() and not self.sim.finished:
            if self.clock.days_per_second:
                next_at += 1.0 / self.clock.days_per_second
                delay = next_at - loop.time()
                if delay > 0:
                    try:
                        await asyncio.wait_for(self._stopping.wait(), timeout=delay)
                        break
                    except TimeoutError:
                        pass
                else:
                    next_at = loop.time()  # running late: do not burst to catch up
            try:
                produced = await asyncio.to_thread(self._produce_day)
            except Exception:
                log.exception("the simulation failed; the clock stops")
                raise
            if produced is None:
                break
            records, day, snapshot = produced
            block = await self._log_day(records)
            if block is None:
                break  # stopped while the event log was unreachable: the day was never published
            self.events_produced += len(records)
            # The day's books are kept before its events go out, so a subscriber that sees the
            # day end can ask for them at once. Checkpoints change only here, on the event loop,
            # where GetSnapshot reads them.
            self._remember(snapshot)
            if self.clock.days_per_second and len(block) > 1:
                # The day end is the day's last event (engine.py); until the close its seq is in
                # the log but beyond the hub's head, which is all a subscriber can read up to.
                await self.hub.publish(block.cut(block.first_seq, len(block) - 1))
                await self._until(next_at + self.close_delay)
                await self.hub.publish(block.cut(block.last_seq, 1))
            else:
                await self.hub.publish(block)
            self.published = day
        if self.sim.finished and not self._stopping.is_set():
            log.info("the simulation reached its end", extra={"head_seq": self.hub.head_seq})

    @property
    def close_delay(self) -> float:
        """Seconds from a live day's opening (its events going out) to its close (CLOSE_AFTER_SLOT)."""
        return CLOSE_AFTER_SLOT / self.clock.days_per_second if self.clock.days_per_second else 0.0

    async def _until(self, at: float) -> None:
        """Wait until the event loop's clock reads `at`, or until stop() (which closes the day at once)."""
        delay = at - asyncio.get_running_loop().time()
        if delay > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), timeout=delay)

    def _produce_day(self) -> tuple[list[NewRecord], PublishedDay, BookSnapshot] | None:
        with self._sim_lock:
            self._apply_controls(self._pending_controls)
            day = self.sim.step()
            if day is None:
                return None
            with self._tracer.start_as_current_span(
                "market.tick",
                context=otel_context.Context(),
                attributes={"sim.date": day.date.isoformat(), "sim.regime": day.regime},
            ) as day_span:
                records = self._encode(day.events, day_span)
                day_span.set_attribute("events", len(records))
            published = PublishedDay(day.date, day.regime, self.sim.days_elapsed, _origin_of(self.sim))
        if published.days_elapsed % RELEASE_MEMORY_EVERY_DAYS == 0:
            malloc.release_free_memory()
        return records, published, day.snapshot

    async def _log_day(self, records: list[NewRecord]) -> FramedRun | None:
        """Append the day to the event log, waiting out an outage (retried with backoff); its block
        (the day's events framed, as the hub keeps them), or None if stopped first. A day is
        published only once it is in the log, so a restart replays it."""
        delay = self.outage_retry_initial_s
        retried = False
        while True:
            try:
                return await asyncio.to_thread(self._append_day, records, retried)
            except BackendUnavailable as error:
                log.warning(
                    "cannot write the day to the event log: the clock waits for it",
                    extra={"error": str(error), "retry_in_s": delay},
                )
            retried = True
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), timeout=delay)
                return None
            delay = min(self.outage_retry_max_s, delay * 2)

    def _append_day(self, records: list[NewRecord], retried: bool) -> FramedRun:
        """Append the day (its records and its block) to the event log; returns the block."""
        first_seq = records[0].seq or 0
        try:
            block = self.event_log.append_block(SOURCE, records)
        except (SequenceConflict, DuplicateEvent):
            # The connection dropped after an earlier attempt was written (appends are atomic):
            # the day is in the log when its last seq is and its first event is.
            if not (
                retried
                and self.event_log.head(SOURCE) >= (records[-1].seq or 0)
                and self.event_log.get(records[0].event_id) is not None
            ):
                raise
            block = self.event_log.read_framed(SOURCE, first_seq, len(records))
        self.retention.on_day(first_seq)
        self._trim(records[-1].seq or 0)
        return block

    def _encode(self, events: Sequence[SimEvent], day_span: trace.Span) -> list[NewRecord]:
        day_traceparent = telemetry.current_traceparent()
        day_link = trace.Link(day_span.get_span_context())
        records: list[NewRecord] = []
        append, event_to_proto = records.append, codec.event_to_proto
        trace_ids: dict[str, str] = {}  # a day has few distinct traceparents and many events
        for event in events:
            traceparent = self._traceparent_for(event, day_traceparent, day_link)
            trace_id = trace_ids.get(traceparent)
            if trace_id is None:
                trace_id = trace_ids[traceparent] = telemetry.trace_id_of(traceparent)
            # Deterministic: a regime's map of curve yields is written in key order, not in the
            # order of a per-process hash, so a seed's events are the same bytes in every process.
            payload = event_to_proto(event, traceparent).SerializeToString(deterministic=True)
            # NewRecord(event_id, kind, sim_time, payload, trace_id, caused_by, mandate_id, summary,
            # seq), by position: this runs for every event.
            append(
                NewRecord(
                    event.event_id,
                    event.kind,
                    event.sim_time,
                    payload,
                    trace_id,
                    event.caused_by,
                    event.mandate_id,
                    "",
                    event.seq,
                )
            )
        return records

    def _traceparent_for(self, event: SimEvent, day_traceparent: str, day_link: trace.Link) -> str:
        """A fill or an FX deal starts its own trace (linked to the day's tick); what it causes joins
        that trace."""
        if event.kind in TRACE_ROOT_KINDS:
            span = self._tracer.start_span(
                event.kind,
                context=otel_context.Context(),
                links=[day_link],
                attributes={
                    "event.id": event.event_id,
                    "event.seq": event.seq,
                    "mandate.id": event.mandate_id,
                },
            )
            with trace.use_span(span, end_on_exit=True):
                traceparent = telemetry.current_traceparent()
            self._trace_roots[event.event_id] = traceparent
            self._bound_trace_roots()
            return traceparent
        for cause in event.caused_by:
            root = self._trace_roots.get(cause)
            if root is not None:
                self._trace_roots[event.event_id] = root
                return root
        return day_traceparent

    def _bound_trace_roots(self) -> None:
        while len(self._trace_roots) > MAX_TRACE_ROOTS:
            self._trace_roots.popitem(last=False)

    def _remember(self, snapshot: BookSnapshot) -> None:
        """Keep the day end's books for as long as the log keeps its events."""
        self.day_books.remember(snapshot)
        self.day_books.forget_before(self.oldest_seq)

    def _trim(self, head_seq: int) -> None:
        """Trim the log to what retention keeps with the log's head at head_seq (the clock after a
        day is appended, an acknowledgement that releases events; they may run at once)."""
        with self._trim_lock:
            keep_from = self.retention.keep_from(head_seq)
            if keep_from > self.oldest_seq:
                self.event_log.trim(SOURCE, keep_from)
                self.oldest_seq = keep_from

    def acknowledge(self, follower: str, applied_seq: int) -> None:
        """A declared follower applied every event up to applied_seq (retention.Retention.acknowledge
        raises for an undeclared one or a seq past the head). Stored, so a restarted market keeps
        holding for a follower that is down."""
        head = self.hub.head_seq
        if self.retention.acknowledge(follower, applied_seq, head):
            self.event_log.set_meta(FOLLOWERS_META_KEY, json.dumps(self.retention.positions, sort_keys=True))
            self._trim(head)

    # ------------------------------------------------------------ queries and control

    def snapshot_at(self, as_of_seq: int, mandate_id: str = "") -> market_pb2.Snapshot | None:
        """The books at the last day end at or before as_of_seq (0: the latest), of every mandate
        or of mandate_id only; None when none that old is kept."""
        return self.day_books.at(as_of_seq, mandate_id)

    @property
    def oldest_checkpoint_seq(self) -> int:
        return self.day_books.oldest_seq

    def clock_state(self) -> ClockState:
        return ClockState(
            sim_date=self.published.date,
            live=self.clock.days_per_second is not None,
            days_per_second=self.clock.days_per_second or 0.0,
            seed=self.config.seed,
            start_date=self.config.start,
            end_date=self.sim.end_date,
            days_elapsed=self.published.days_elapsed,
            head_seq=self.hub.head_seq,
            oldest_seq=self.oldest_seq,
            regime=self.published.regime,
            data_source=self.macro.source,
            running=self.running,
            synthetic=self.published.origin,
            real_data_end=self.macro.data_range[1],
            followers=tuple(self.retention.positions.items()),
        )

    def inject(self, request: FaultRequest) -> InjectedFault:
        """Schedule a fault for the next day and log the request so a restart replays it.

        The request is logged before the simulation takes it: when the log cannot be written
        (an outage), nothing changes, so the run and its replay cannot part ways.
        """
        with self._sim_lock:
            request = self.sim.checked(request)
            fault_id = self.sim.next_fault_id()
            body = {"before_day": self.sim.days_elapsed, "request": dataclasses.asdict(request)}
            date = self.sim.current_date or self.config.start
            self.event_log.append(
                CONTROL_SOURCE,
                [
                    NewRecord(
                        event_id=f"ctl-{fault_id}",
                        kind="fault.requested",
                        sim_time=dt.datetime.combine(date, dt.time(23, 59, 59), tzinfo=dt.UTC),
                        payload=json.dumps(body, sort_keys=True).encode(),
                        trace_id=telemetry.trace_id_of(telemetry.current_traceparent()),
                        summary=f"fault {fault_id} ({request.kind}) requested",
                    )
                ],
            )
            fault = self.sim.inject(request)
            assert fault.fault_id == fault_id, (fault.fault_id, fault_id)
            return fault

    def faults(self) -> tuple[InjectedFault, ...]:
        with self._sim_lock:
            return self.sim.faults()
