"""Ledger benchmarks (issue 3): `python -m bench --only ledger` (see bench/README.md, "Ledger").

Every figure is measured beside a baseline from the same run:
- throughput: journals and postings per second while consuming a simulated year as fast as possible
  (the service's consumer path in-process, and store.post alone), on SQLite and PostgreSQL, each
  against its own baseline: the same journals and postings written into two minimal tables with a
  plain batched COPY (PostgreSQL) or executemany (SQLite);
- post_journal: PostJournal latency (p50, p99) through the real gRPC services, against a trivial call
  (grpc.health.v1.Health/Check, and ListAccounts with page_size 1) on the same server;
- trial_balance: GetTrialBalance's store call at 1 and 10 million postings, against a naive
  GROUP BY over the postings table of the same database;
- beancount: Beancount loading the exported year and computing every account's balance, against
  store.trial_balance for the same mandates.
PostgreSQL figures use scratch databases named opsuite_bench_<random>, dropped at the end.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import math
import multiprocessing
import multiprocessing.connection
import multiprocessing.process
import os
import pathlib
import random
import secrets
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeVar
from urllib.parse import urlsplit

import grpc
import psycopg
from grpc_health.v1 import health_pb2, health_pb2_grpc
from psycopg import sql

from opsuite.common.v1 import common_pb2
from opsuite.ledger.v1 import ledger_pb2, ledger_pb2_grpc
from opsuite.market.v1 import market_pb2, market_pb2_grpc
from services.common.market_events import Instrument, Mandate
from services.common.market_events.decode import decode
from services.ledger.domain import chart
from services.ledger.domain.records import JournalDraft, JournalKind, Posting
from services.ledger.store import LedgerStore, open_store

T = TypeVar("T")
ROOT = pathlib.Path(__file__).resolve().parent.parent
ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"
YEAR_START = dt.date(2019, 1, 2)
YEAR_DAYS = 252
SEED = 7
EVENT_BATCH = 512  # events per stream batch: the ledger's EventStreamClient asks for 512
COPY_BATCH = 500
BACKENDS = ("sqlite", "postgres")
PARTS = ("throughput", "latency", "trial", "beancount")
TRIAL_RUNS = 20
# The naive GROUP BY scans every posting; stop repeating it after this long (at least 3 runs).
NAIVE_BUDGET_S = 10.0
NAIVE_MIN_RUNS = 3
BEANCOUNT_RUNS = 3
LOAD_BATCH = 10_000  # journals per store.post while bulk-loading
PROGRESS_POSTINGS = 1_000_000
SYNTHETIC_START = dt.date(2000, 1, 3)
SYNTHETIC_POSTINGS_PER_DAY = 4_000  # 10 million postings span about ten years of business days
SYNTHETIC_MANDATES = (
    ("BAL-USD", "USD"),
    ("EQ-EUR", "EUR"),
    ("INC-GBP", "GBP"),
    ("FI-USD", "USD"),
    ("EQ-JPY", "JPY"),
)
SYNTHETIC_INSTRUMENTS = 24  # per mandate: 13 standard accounts + 24 x (Securities, Unrealized) = 61
TB_MANDATE = "BAL-USD"
WARMUP_CALLS = 50
LATENCY_SLICE = 200  # calls of one kind before switching to the next


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("ledger")
    group.add_argument(
        "--ledger-postings",
        default="1000000,10000000",
        help="comma-separated ledger sizes (postings) for the trial balance (default 1000000,10000000)",
    )
    group.add_argument(
        "--ledger-load-budget",
        type=float,
        default=300.0,
        help="seconds each backend may spend bulk-loading postings for the trial balance (default 300,"
        " so that `make bench` stays under 20 minutes); a size not reached in time is measured at the"
        " size reached, and said so",
    )
    group.add_argument("--ledger-days", type=int, default=YEAR_DAYS, help="simulated business days (252)")
    group.add_argument("--ledger-repeats", type=int, default=3, help="runs of each throughput figure (3)")
    group.add_argument("--ledger-calls", type=int, default=2000, help="sequential PostJournal calls (2000)")
    group.add_argument(
        "--ledger-batches-per-commit",
        type=int,
        default=None,
        help="stream batches the consumer commits in one transaction (default: the service's default,"
        " OPSUITE_LEDGER_BATCHES_PER_COMMIT)",
    )
    group.add_argument(
        "--ledger-backends", default=",".join(BACKENDS), help="comma-separated: sqlite,postgres (both)"
    )
    group.add_argument(
        "--ledger-parts",
        default=",".join(PARTS),
        help=f"comma-separated subset of {','.join(PARTS)} (default: all)",
    )
    group.add_argument(
        "--ledger-admin-dsn",
        default=ADMIN_DSN,
        help="PostgreSQL server to create scratch databases on (opsuite_bench_<random>, dropped after)",
    )


# ------------------------------------------------------------------ helpers


def _median(values: Sequence[float]) -> float:
    return statistics.median(values)


def _percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..1)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def _ms(seconds: float) -> float:
    return seconds * 1000


@contextlib.contextmanager
def scratch_database(admin_dsn: str) -> Iterator[str]:
    """A fresh PostgreSQL database (opsuite_bench_<random>) for the duration; its DSN as a URL."""
    name = f"opsuite_bench_{secrets.token_hex(4)}"
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield urlsplit(admin_dsn)._replace(path=f"/{name}").geturl()
    finally:
        with psycopg.connect(admin_dsn, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@contextlib.contextmanager
def backend_store(backend: str, admin_dsn: str) -> Iterator[tuple[LedgerStore, str, pathlib.Path]]:
    """A fresh, empty ledger store: (store, dsn or "", data dir holding ledger/ledger.sqlite3)."""
    with tempfile.TemporaryDirectory(prefix="opsuite-bench-") as tmp:
        data_dir = pathlib.Path(tmp)
        with contextlib.ExitStack() as stack:
            dsn = stack.enter_context(scratch_database(admin_dsn)) if backend == "postgres" else ""
            store = open_store(dsn, data_dir / "ledger")
            try:
                yield store, dsn, data_dir
            finally:
                store.close()


# ------------------------------------------------------------------ 1. throughput


@dataclass(frozen=True)
class Year:
    """A simulated year as the ledger receives it: reference data and the booked events in stream batches."""

    mandates: list[Mandate]
    instruments: list[Instrument]
    batches: list[list[market_pb2.MarketEvent]]
    events: int  # every event of the year, booked or not
    simulate_s: float


def simulate_year(days: int) -> Year:
    from services.ledger.consumer import BOOKED_KINDS
    from services.market import codec
    from services.market.fred import load_macro
    from services.market.sim.engine import SimConfig, Simulation

    started = time.perf_counter()
    sim = Simulation(SimConfig(seed=SEED, start=YEAR_START, days=days), load_macro(YEAR_START))
    events: list[market_pb2.MarketEvent] = []
    while (day := sim.step()) is not None:
        events.extend(codec.event_to_proto(e) for e in day.events)
    # What the ledger's subscription delivers: market filters by kind prefix on the server.
    booked = [e for e in events if e.envelope.kind.startswith(BOOKED_KINDS)]
    return Year(
        mandates=list(sim.mandates),
        instruments=list(sim.instruments),
        batches=[booked[i : i + EVENT_BATCH] for i in range(0, len(booked), EVENT_BATCH)],
        events=len(events),
        simulate_s=time.perf_counter() - started,
    )


def _open_standard_chart(store: LedgerStore, year: Year) -> None:
    """What the service does on start, before it follows the stream."""
    store.open_accounts(
        [a for m in year.mandates for a in chart.standard_chart(m.mandate_id, m.base_currency, YEAR_START)]
    )


def _book(year: Year):  # type: ignore[no-untyped-def]
    """The posting rules; like the consumer, they get each wire event decoded (decode below)."""
    from services.ledger.domain.rules import LedgerBook

    return LedgerBook.from_market(year.mandates, year.instruments)


@dataclass(frozen=True)
class Planned:
    """One stream batch's output of the posting rules: what store.post receives."""

    drafts: list[JournalDraft]
    cursor: int
    state: str


def plan_year(year: Year) -> list[Planned]:
    book = _book(year)
    out = []
    for events in year.batches:
        drafts = [draft for event in events for draft in book.apply(decode(event))]
        out.append(Planned(drafts, events[-1].envelope.seq, book.to_json()))
    return out


def rules_alone(year: Year) -> dict[str, float]:
    """The consumer path's ceiling: decoding each stream batch's events, the posting rules over
    them and their state JSON once a commit (every DEFAULT_BATCHES_PER_COMMIT batches and the last, as
    the consumer writes it), with nothing written. No write path, however fast, makes the consumer
    path faster than this."""
    from services.ledger.settings import DEFAULT_BATCHES_PER_COMMIT

    book = _book(year)
    journals = postings = 0
    started = time.perf_counter()
    for number, events in enumerate(year.batches, start=1):
        for event in events:
            for draft in book.apply(decode(event)):
                journals += 1
                postings += len(draft.postings)
        if number % DEFAULT_BATCHES_PER_COMMIT == 0 or number == len(year.batches):
            book.to_json()
    return {"journals": journals, "postings": postings, "seconds": time.perf_counter() - started}


def consume_year(
    store: LedgerStore, year: Year, data_dir: pathlib.Path, batches_per_commit: int | None = None
) -> dict[str, float]:
    """The consumer's path without the network: the service's own LedgerConsumer
    (services/ledger/consumer.py), driven as the stream client drives it, apply(batch) then
    save(its last seq) for each stream batch. Per stream batch that is the posting rules over its
    events; per commit (one stream batch each until issue 17, up to batches_per_commit since) the
    rules' state as JSON, one store.post with cursor, state and the outbox rows of the journals it
    announces, and the relay appending those to the combined event log (SQLite, in data_dir, as the
    service's default). Market's head is the year's last event, so the last batch commits at once."""
    import asyncio
    import inspect

    from services.common.eventlog import open_event_log
    from services.ledger.consumer import LedgerConsumer
    from services.ledger.outbox import OutboxRelay

    _open_standard_chart(store, year)
    event_log = open_event_log(None, data_dir)
    relay = OutboxRelay(store, event_log)
    head = year.batches[-1][-1].envelope.seq
    options: dict[str, Any] = {}
    accepted = inspect.signature(LedgerConsumer).parameters
    if "market_head" in accepted:  # the code before issue 17 committed every stream batch
        from services.ledger.settings import DEFAULT_BATCHES_PER_COMMIT

        options["market_head"] = lambda: head
        options["batches_per_commit"] = batches_per_commit or DEFAULT_BATCHES_PER_COMMIT
    consumer = LedgerConsumer(store, lambda: _book(year), outbox=relay, **options)
    spent = {"rules": 0.0, "state": 0.0, "relay": 0.0}

    def timed(call: Callable[..., T], what: str) -> Callable[..., T]:
        def run(*args: Any) -> T:
            t0 = time.perf_counter()
            try:
                return call(*args)
            finally:
                spent[what] += time.perf_counter() - t0

        return run

    book = consumer.book
    book.to_json = timed(book.to_json, "state")  # type: ignore[method-assign]
    relay.deliver = timed(relay.deliver, "relay")  # type: ignore[method-assign]
    journals = postings = 0

    async def follow() -> None:
        nonlocal journals, postings
        for events in year.batches:
            t0 = time.perf_counter()
            consumer.apply(events)
            spent["rules"] += time.perf_counter() - t0
            await consumer.save(events[-1].envelope.seq)

    started = time.perf_counter()
    try:
        asyncio.run(follow())
        seconds = time.perf_counter() - started
        assert consumer.book is book, "the consumer failed a commit and rebuilt its book"
        recorded = event_log.head("ledger")
        journals, postings = store.counts()
        cursor = store.load_cursor()[0]
    finally:
        event_log.close()
    assert cursor == head, f"the store's cursor is {cursor}, not market's head {head}"
    return {
        "journals": journals,
        "postings": postings,
        "seconds": seconds,
        "rules_seconds": spent["rules"] + spent["state"],
        "state_seconds": spent["state"],
        "relay_seconds": spent["relay"],
        "recorded": recorded,
        "batches_per_commit": options.get("batches_per_commit", getattr(consumer, "batches_per_commit", 1)),
    }


def post_planned(
    store: LedgerStore, year: Year, planned: Sequence[Planned], batches_per_commit: int = 1
) -> dict[str, float]:
    """store.post alone: the same batches, drafts precomputed (with the outbox rows it writes),
    batches_per_commit stream batches per call as the consumer commits them."""
    from services.ledger.outbox import stream_kind

    _open_standard_chart(store, year)
    groups = [planned[i : i + batches_per_commit] for i in range(0, len(planned), batches_per_commit)]
    calls = [([d for b in group for d in b.drafts], group[-1].cursor, group[-1].state) for group in groups]
    started = time.perf_counter()
    for drafts, cursor, state in calls:
        store.post(drafts, open_missing=True, cursor=cursor, state=state, announce=stream_kind)
    seconds = time.perf_counter() - started
    return {
        "journals": sum(len(b.drafts) for b in planned),
        "postings": sum(len(d.postings) for b in planned for d in b.drafts),
        "seconds": seconds,
        "batches_per_commit": batches_per_commit,
    }


def _two_leg_rows(legs: Sequence[int]) -> list[tuple[tuple[Any, ...], list[tuple[Any, ...]]]]:
    """The issue's reference journals: a header and `count` legs each, Assets:Cash against Suspense."""
    amounts = [Decimal(n).scaleb(-2) for n in range(1, 1001)]
    rows = []
    for n, count in enumerate(legs, start=1):
        amount, account = amounts[n % 1000], "Assets:Cash:USD"
        postings = [(n, i, "BAL-USD", account, "USD", amount) for i in range(count - 1)]
        postings.append((n, count - 1, "BAL-USD", "Assets:Suspense:USD", "USD", -amount * (count - 1)))
        rows.append(((n, "BAL-USD", YEAR_START + dt.timedelta(days=n // 20), f"bench journal {n}"), postings))
    return rows


def _year_rows(planned: Sequence[Planned]) -> list[tuple[tuple[Any, ...], list[tuple[Any, ...]]]]:
    """The year's own journals as the baselines store them: (seq, mandate, date, memo) and each
    posting's (seq, number, mandate, account, currency, amount)."""
    drafts = [d for b in planned for d in b.drafts]
    return [
        (
            (n, d.mandate_id, d.effective_date, d.memo),
            [(n, i, d.mandate_id, p.account, p.currency, p.amount) for i, p in enumerate(d.postings)],
        )
        for n, d in enumerate(drafts, start=1)
    ]


def copy_baseline(
    dsn: str, rows: Sequence[tuple[tuple[Any, ...], list[tuple[Any, ...]]]], name: str
) -> dict[str, float]:
    """PostgreSQL's baseline: a plain batched COPY of journals into two minimal tables (primary keys,
    no triggers): psycopg 3 cursor.copy(), batches of 500 journals, one commit per batch. The rows
    are built before the clock starts."""
    jt, pt = f"copy_journals_{name}", f"copy_postings_{name}"
    with psycopg.connect(dsn) as conn:
        conn.execute(
            sql.SQL(
                "CREATE TABLE {} (journal_id bigint PRIMARY KEY, mandate_id text NOT NULL,"
                " effective_date date NOT NULL, memo text NOT NULL)"
            ).format(sql.Identifier(jt))
        )
        conn.execute(
            sql.SQL(
                "CREATE TABLE {} (journal_id bigint NOT NULL, posting_no integer NOT NULL,"
                " mandate_id text NOT NULL, account text NOT NULL, currency text NOT NULL,"
                " amount numeric NOT NULL, PRIMARY KEY (journal_id, posting_no))"
            ).format(sql.Identifier(pt))
        )
        conn.commit()
        copy_journals = sql.SQL("COPY {} FROM STDIN").format(sql.Identifier(jt))
        copy_postings = sql.SQL("COPY {} FROM STDIN").format(sql.Identifier(pt))
        started = time.perf_counter()
        for i in range(0, len(rows), COPY_BATCH):
            chunk = rows[i : i + COPY_BATCH]
            with conn.cursor() as cur:
                with cur.copy(copy_journals) as copy:
                    for header, _ in chunk:
                        copy.write_row(header)
                with cur.copy(copy_postings) as copy:
                    for _, postings in chunk:
                        for posting in postings:
                            copy.write_row(posting)
            conn.commit()
        seconds = time.perf_counter() - started
    return {"journals": len(rows), "postings": sum(len(p) for _, p in rows), "seconds": seconds}


def insert_baseline(
    directory: pathlib.Path, rows: Sequence[tuple[tuple[Any, ...], list[tuple[Any, ...]]]], name: str
) -> dict[str, float]:
    """SQLite's baseline: a plain batched insert of the same journals into two minimal tables of a
    file opened as the service opens its own (WAL, synchronous=NORMAL; primary keys, no triggers):
    sqlite3 executemany, batches of 500 journals, one commit per batch, amounts as INTEGER
    micro-units. The rows are built (and converted) before the clock starts."""
    import sqlite3

    headers = [(n, mandate, day.isoformat(), memo) for (n, mandate, day, memo), _ in rows]
    postings = [
        [(n, i, mandate, account, ccy, int(amount.scaleb(6))) for n, i, mandate, account, ccy, amount in legs]
        for _, legs in rows
    ]
    path = directory / f"insert_{name}.sqlite3"
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute(
            "CREATE TABLE journals (journal_id INTEGER PRIMARY KEY, mandate_id TEXT NOT NULL,"
            " effective_date TEXT NOT NULL, memo TEXT NOT NULL)"
        )
        conn.execute(
            "CREATE TABLE postings (journal_id INTEGER NOT NULL, posting_no INTEGER NOT NULL,"
            " mandate_id TEXT NOT NULL, account TEXT NOT NULL, currency TEXT NOT NULL,"
            " amount INTEGER NOT NULL, PRIMARY KEY (journal_id, posting_no)) WITHOUT ROWID"
        )
        started = time.perf_counter()
        for i in range(0, len(rows), COPY_BATCH):
            conn.execute("BEGIN")
            conn.executemany("INSERT INTO journals VALUES (?, ?, ?, ?)", headers[i : i + COPY_BATCH])
            conn.executemany(
                "INSERT INTO postings VALUES (?, ?, ?, ?, ?, ?)",
                [p for legs in postings[i : i + COPY_BATCH] for p in legs],
            )
            conn.execute("COMMIT")
        seconds = time.perf_counter() - started
    finally:
        conn.close()
    return {"journals": len(rows), "postings": sum(len(p) for p in postings), "seconds": seconds}


def _rates(run: dict[str, float]) -> dict[str, float]:
    return {
        **run,
        "journals_per_s": run["journals"] / run["seconds"],
        "postings_per_s": run["postings"] / run["seconds"],
    }


def _median_run(runs: Sequence[dict[str, float]]) -> dict[str, float]:
    """The median run (by seconds), with how many runs there were and their spread."""
    ordered = sorted(runs, key=lambda r: r["seconds"])
    median = dict(ordered[len(ordered) // 2])
    median["runs"] = len(runs)
    median["seconds_min"] = ordered[0]["seconds"]
    median["seconds_max"] = ordered[-1]["seconds"]
    return _rates(median)


def bench_throughput(
    year: Year,
    backends: Sequence[str],
    repeats: int,
    admin_dsn: str,
    batches_per_commit: int | None = None,
) -> dict[str, object]:
    """Each backend's consumer path and store.post alone, beside that backend's baseline from the
    same run: the same postings COPYed (PostgreSQL) or inserted with executemany (SQLite) into
    minimal tables. Runs are interleaved, so a slow spell of the machine hits every figure."""
    planned = plan_year(year)
    journals = sum(len(b.drafts) for b in planned)
    consumed: dict[str, list[dict[str, float]]] = {b: [] for b in backends}
    posted: dict[str, list[dict[str, float]]] = {b: [] for b in backends}
    ruled: list[dict[str, float]] = []
    year_rows = _year_rows(planned)
    baselines: dict[str, list[dict[str, float]]] = {"copy_two_legs": [], "copy_same": [], "insert_same": []}
    with contextlib.ExitStack() as stack:
        copy_dsn = stack.enter_context(scratch_database(admin_dsn)) if "postgres" in backends else ""
        scratch = pathlib.Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="opsuite-bench-")))
        for run in range(repeats):
            ruled.append(rules_alone(year))
            for backend in backends:
                with backend_store(backend, admin_dsn) as (store, _, data_dir):
                    consumed[backend].append(consume_year(store, year, data_dir, batches_per_commit))
                per_commit = int(consumed[backend][-1]["batches_per_commit"])
                with backend_store(backend, admin_dsn) as (store, _, _):
                    posted[backend].append(post_planned(store, year, planned, per_commit))
                if backend == "postgres":
                    two_legs = _two_leg_rows([2] * journals)
                    baselines["copy_two_legs"].append(copy_baseline(copy_dsn, two_legs, f"two_legs_{run}"))
                    baselines["copy_same"].append(copy_baseline(copy_dsn, year_rows, f"same_{run}"))
                else:
                    baselines["insert_same"].append(insert_baseline(scratch, year_rows, f"same_{run}"))
    out: dict[str, object] = {
        "days": len({e.envelope.sim_time.ToDatetime().date() for b in year.batches for e in b}),
        "events": year.events,
        "booked_events": sum(len(b) for b in year.batches),
        "stream_batches": len(year.batches),
        "journals": journals,
        "postings": sum(len(d.postings) for b in planned for d in b.drafts),
        "rules_alone": _median_run(ruled),
    }
    if baselines["copy_same"]:
        out["copy_baseline"] = _median_run(baselines["copy_two_legs"])
        out["copy_same_shape"] = _median_run(baselines["copy_same"])
    if baselines["insert_same"]:
        out["sqlite_insert_baseline"] = _median_run(baselines["insert_same"])
    for backend in backends:
        base = out["copy_same_shape" if backend == "postgres" else "sqlite_insert_baseline"]
        assert isinstance(base, dict)
        row = {"consumer": _median_run(consumed[backend]), "store_post": _median_run(posted[backend])}
        for what in ("consumer", "store_post"):
            # The figure the issue sets (at least 0.5): postings/s against the same backend's baseline.
            row[what]["vs_baseline"] = row[what]["postings_per_s"] / base["postings_per_s"]
            if backend == "postgres":
                copy = out["copy_baseline"]
                assert isinstance(copy, dict)
                row[what]["journals_vs_copy"] = row[what]["journals_per_s"] / copy["journals_per_s"]
                row[what]["postings_vs_copy"] = row[what]["postings_per_s"] / copy["postings_per_s"]
        # The ceiling against this backend's baseline: the rules alone, nothing written.
        row["rules_alone_vs_baseline"] = out["rules_alone"]["postings_per_s"] / base["postings_per_s"]  # type: ignore[index]
        out[backend] = row
    return out


# ------------------------------------------------------------------ 2. PostJournal latency


class ServiceProcess:
    """`python -m services.<name>` on port 0; its address read from the JSON "listening" log line.

    stderr is drained by a thread afterwards (a full pipe would block the service), keeping the
    last lines for the error message if it dies."""

    def __init__(self, name: str, env: dict[str, str]) -> None:
        base = {k: v for k, v in os.environ.items() if not k.startswith(("OPSUITE_", "OTEL_"))}
        self.name = name
        self.process = subprocess.Popen(
            [sys.executable, "-m", f"services.{name}"],
            cwd=ROOT,
            env={**base, **env},
            stderr=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
        )
        self.tail: deque[str] = deque(maxlen=20)
        assert self.process.stderr is not None
        self.address = ""
        for raw in self.process.stderr:
            self.tail.append(raw.decode(errors="replace"))
            with contextlib.suppress(ValueError):
                line = json.loads(raw)
                if line.get("message") == "listening":
                    self.address = line["address"]
                    break
        if not self.address:
            self.process.wait()
            raise RuntimeError(f"{name} exited before listening:\n{''.join(self.tail)}")
        self._drain = threading.Thread(target=self._drain_stderr, daemon=True)
        self._drain.start()

    def _drain_stderr(self) -> None:
        assert self.process.stderr is not None
        for raw in self.process.stderr:
            self.tail.append(raw.decode(errors="replace"))

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.terminate()
        try:
            return self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()


def _wait_until(what: str, check: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} not reached within {timeout:.0f} s")
        time.sleep(0.1)  # polling a readiness condition with a deadline


def _timed(call: Callable[[int], object], numbers: range, samples: list[float]) -> None:
    for n in numbers:
        started = time.perf_counter()
        call(n)
        samples.append(time.perf_counter() - started)


def _summary(samples: Sequence[float]) -> dict[str, float]:
    return {
        "calls": len(samples),
        "p50_ms": _ms(_percentile(samples, 0.50)),
        "p99_ms": _ms(_percentile(samples, 0.99)),
        "mean_ms": _ms(statistics.fmean(samples)),
    }


def bench_post_journal(backend: str, calls: int, admin_dsn: str) -> dict[str, object]:
    with contextlib.ExitStack() as stack:
        tmp = pathlib.Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="opsuite-bench-")))
        dsn = stack.enter_context(scratch_database(admin_dsn)) if backend == "postgres" else ""
        market = ServiceProcess(
            "market",
            {
                "OPSUITE_DATA_DIR": str(tmp / "data"),
                "OPSUITE_MARKET_ADDR": "127.0.0.1:0",
                "OPSUITE_SPEED": "max",
                "OPSUITE_DAYS": "5",
                "OPSUITE_SEED": str(SEED),
                "OPSUITE_START": YEAR_START.isoformat(),
            },
        )
        stack.callback(market.stop)
        market_channel = stack.enter_context(grpc.insecure_channel(market.address))
        market_stub = market_pb2_grpc.MarketServiceStub(market_channel)

        def market_finished() -> bool:
            with contextlib.suppress(grpc.RpcError):
                clock = market_stub.GetClock(market_pb2.GetClockRequest(), timeout=5)
                return bool(clock.business_days_elapsed) and not clock.running
            return False

        _wait_until("market's 5 days", market_finished, 120)
        clock = market_stub.GetClock(market_pb2.GetClockRequest())
        mandates = list(market_stub.ListMandates(market_pb2.ListMandatesRequest(page_size=100)).mandates)

        ledger = ServiceProcess(
            "ledger",
            {
                "OPSUITE_DATA_DIR": str(tmp / "data"),
                "OPSUITE_MARKET_ADDR": market.address,
                "OPSUITE_LEDGER_ADDR": "127.0.0.1:0",
                "OPSUITE_LEDGER_DSN": dsn,
            },
        )
        stack.callback(ledger.stop)
        channel = stack.enter_context(grpc.insecure_channel(ledger.address))
        health = health_pb2_grpc.HealthStub(channel)
        stub = ledger_pb2_grpc.LedgerServiceStub(channel)

        def serving() -> bool:
            with contextlib.suppress(grpc.RpcError):
                answer = health.Check(health_pb2.HealthCheckRequest(), timeout=5)
                return answer.status == health_pb2.HealthCheckResponse.SERVING
            return False

        _wait_until("ledger SERVING (caught up with market)", serving, 180)
        journals_before = _ledger_journal_count(stub, mandates)

        check_request = health_pb2.HealthCheckRequest()
        accounts_request = ledger_pb2.ListAccountsRequest(page_size=1)
        day = common_pb2.Date(year=clock.sim_date.year, month=clock.sim_date.month, day=clock.sim_date.day)
        run_id = secrets.token_hex(4)

        def post(n: int) -> object:
            mandate = mandates[n % len(mandates)]
            ccy = mandate.base_currency
            amount = f"{1 + abs(n) % 997}"  # whole units: valid in every currency, JPY included
            return stub.PostJournal(
                ledger_pb2.PostJournalRequest(
                    idempotency_key=f"bench:{run_id}:{n}",
                    mandate_id=mandate.mandate_id,
                    kind=ledger_pb2.JOURNAL_KIND_MANUAL,
                    effective_date=day,
                    memo="bench: PostJournal latency",
                    postings=[
                        ledger_pb2.Posting(
                            account=chart.suspense(ccy),
                            amount=common_pb2.Money(amount=common_pb2.Decimal(value=amount), currency=ccy),
                        ),
                        ledger_pb2.Posting(
                            account=chart.cash(ccy),
                            amount=common_pb2.Money(
                                amount=common_pb2.Decimal(value=f"-{amount}"), currency=ccy
                            ),
                        ),
                    ],
                    posted_by="bench",
                ),
                timeout=30,
            )

        calls_by_name: dict[str, Callable[[int], object]] = {
            "health": lambda n: health.Check(check_request, timeout=30),
            "list_accounts": lambda n: stub.ListAccounts(accounts_request, timeout=30),
            "post_journal": post,
        }
        samples: dict[str, list[float]] = {name: [] for name in calls_by_name}
        warmup: list[float] = []
        for call in calls_by_name.values():
            _timed(call, range(-WARMUP_CALLS, 0), warmup)
        # Interleaved slices, so a slow spell of the machine hits the baselines as much as PostJournal.
        for first in range(0, calls, LATENCY_SLICE):
            for name, call in calls_by_name.items():
                _timed(call, range(first, min(calls, first + LATENCY_SLICE)), samples[name])
        journals_after = _ledger_journal_count(stub, mandates)
        ledger_exit = ledger.stop()
        market_exit = market.stop()
    return {
        "backend": backend,
        "market_days": 5,
        "journals_from_stream": journals_before,
        "journals_posted": journals_after - journals_before,
        **{name: _summary(values) for name, values in samples.items()},
        "ledger_exit_code": ledger_exit,
        "market_exit_code": market_exit,
    }


def _ledger_journal_count(stub: ledger_pb2_grpc.LedgerServiceStub, mandates: Sequence[Mandate]) -> int:
    return sum(
        stub.GetTrialBalance(ledger_pb2.GetTrialBalanceRequest(mandate_id=m.mandate_id)).journal_count
        for m in mandates
    )


# ------------------------------------------------------------------ 3. trial balance at size


class SyntheticLedger:
    """Balanced journals shaped like the simulated ones (trades, settlements, dividends, daily marks),
    about SYNTHETIC_POSTINGS_PER_DAY postings per business day over five mandates of ~60 accounts each,
    in date order (the order a ledger receives them). Deterministic for its seed."""

    def __init__(self, seed: int = SEED) -> None:
        self.rng = random.Random(seed)
        self.day = SYNTHETIC_START
        self.serial = 0
        self.days_done = 0
        self.first_day = SYNTHETIC_START
        self.last_day: dt.date | None = None
        self._cents = [Decimal(n).scaleb(-2) for n in range(1, 100_001)]
        self._yen = [Decimal(n) for n in range(1, 100_001)]
        self._quantities = [Decimal(n) for n in range(1, 1001)]

    def _amount(self, ccy: str) -> Decimal:
        return self.rng.choice(self._yen if ccy == "JPY" else self._cents)

    def _journal(
        self, mandate: str, kind: JournalKind, legs: list[tuple[str, Decimal, str, Decimal | None]]
    ) -> JournalDraft:
        self.serial += 1
        return JournalDraft(
            mandate_id=mandate,
            kind=kind,
            effective_date=self.day,
            sim_time=dt.datetime.combine(self.day, dt.time(17), dt.UTC),
            postings=tuple(
                # A Securities leg (the one with a quantity) names its instrument, as the rules do.
                Posting(
                    account,
                    amount,
                    ccy,
                    base_amount=amount,
                    quantity=quantity,
                    instrument_id=chart.instrument_of(account) if quantity is not None else "",
                )
                for account, amount, ccy, quantity in legs
            ),
            idempotency_key=f"syn:{self.serial}",
            source_event_id=f"syn-{self.serial}",
        )

    def _instrument(self, index: int, slot: int) -> str:
        return f"SYN{index * SYNTHETIC_INSTRUMENTS + slot:03d}"

    def one_day(self) -> list[JournalDraft]:
        rng, out, budget = self.rng, [], SYNTHETIC_POSTINGS_PER_DAY // len(SYNTHETIC_MANDATES)
        for index, (mandate, ccy) in enumerate(SYNTHETIC_MANDATES):
            count = 0
            while count < budget:
                iid = self._instrument(index, rng.randrange(SYNTHETIC_INSTRUMENTS))
                gross, fee = self._amount(ccy), self._amount(ccy) / 100 if ccy != "JPY" else Decimal(1)
                qty = rng.choice(self._quantities)
                roll = rng.random()
                if roll < 0.35:  # a buy on trade date
                    legs = [
                        (chart.securities(iid), gross, ccy, qty),
                        (chart.commissions(ccy), fee, ccy, None),
                        (chart.fees(ccy), fee, ccy, None),
                        (chart.pending_payable(ccy), -(gross + 2 * fee), ccy, None),
                    ]
                    kind = JournalKind.TRADE
                elif roll < 0.55:  # a sell, realizing a gain or a loss
                    cost = self._amount(ccy)
                    legs = [
                        (chart.pending_receivable(ccy), gross - fee, ccy, None),
                        (chart.commissions(ccy), fee, ccy, None),
                        (chart.securities(iid), -cost, ccy, -qty),
                        (chart.realized(ccy), cost - gross, ccy, None),
                    ]
                    kind = JournalKind.TRADE
                elif roll < 0.85:  # a settlement
                    payable = rng.random() < 0.6
                    side = chart.pending_payable(ccy) if payable else chart.pending_receivable(ccy)
                    sign = 1 if payable else -1
                    legs = [(side, sign * gross, ccy, None), (chart.cash(ccy), -sign * gross, ccy, None)]
                    kind = JournalKind.SETTLEMENT
                else:  # a dividend accrued or paid
                    accrue = rng.random() < 0.5
                    other = chart.dividends(ccy) if accrue else chart.cash(ccy)
                    legs = [(chart.accrued_income(ccy), gross, ccy, None), (other, -gross, ccy, None)]
                    if not accrue:
                        legs = [
                            (chart.cash(ccy), gross, ccy, None),
                            (chart.accrued_income(ccy), -gross, ccy, None),
                        ]
                    kind = JournalKind.ACCRUAL if accrue else JournalKind.DIVIDEND
                out.append(self._journal(mandate, kind, legs))
                count += len(legs)
            # The day's mark-to-market: one journal per mandate, two legs per instrument held.
            legs = []
            for slot in range(SYNTHETIC_INSTRUMENTS):
                change = self._amount(ccy) * (1 if rng.random() < 0.5 else -1)
                iid = self._instrument(index, slot)
                legs += [
                    (chart.unrealized(iid), change, ccy, None),
                    (chart.unrealized_gains(ccy), -change, ccy, None),
                ]
            out.append(self._journal(mandate, JournalKind.MARK_TO_MARKET, legs))
        self.last_day = self.day
        self.days_done += 1
        self.day += dt.timedelta(days=3 if self.day.weekday() == 4 else 1)
        return out

    def mid_date(self) -> dt.date:
        """A business date halfway through the days generated so far."""
        assert self.last_day is not None
        return self.first_day + (self.last_day - self.first_day) / 2


_NAIVE = {
    "sqlite": (
        "SELECT p.account, p.currency,"
        " SUM(CASE WHEN p.amount > 0 THEN p.amount ELSE 0 END),"
        " SUM(CASE WHEN p.amount < 0 THEN -p.amount ELSE 0 END),"
        " SUM(CASE WHEN p.base_amount > 0 THEN p.base_amount ELSE 0 END),"
        " SUM(CASE WHEN p.base_amount < 0 THEN -p.base_amount ELSE 0 END), SUM(p.quantity)"
        " FROM postings AS p {join} WHERE p.mandate_id = ? {until} GROUP BY p.account, p.currency"
    ),
    "postgres": (
        "SELECT p.account, p.currency,"
        " COALESCE(SUM(p.amount) FILTER (WHERE p.amount > 0), 0),"
        " COALESCE(-SUM(p.amount) FILTER (WHERE p.amount < 0), 0),"
        " COALESCE(SUM(p.base_amount) FILTER (WHERE p.base_amount > 0), 0),"
        " COALESCE(-SUM(p.base_amount) FILTER (WHERE p.base_amount < 0), 0), SUM(p.quantity)"
        " FROM postings AS p {join} WHERE p.mandate_id = %s {until} GROUP BY p.account, p.currency"
    ),
}


def naive_trial_balance(
    backend: str, dsn: str, data_dir: pathlib.Path
) -> Callable[[str, dt.date | None], dict[tuple[str, str], Decimal]]:
    """(mandate, as_of) -> {(account, currency): debit - credit} by summing every posting (what a trial
    balance costs without maintained balances), on its own connection to the same database."""
    if backend == "sqlite":
        import sqlite3

        conn = sqlite3.connect(data_dir / "ledger" / "ledger.sqlite3", check_same_thread=False)

        def run(mandate: str, as_of: dt.date | None) -> dict[tuple[str, str], Decimal]:
            query = _NAIVE["sqlite"].format(
                join="JOIN journals AS j ON j.ledger_seq = p.ledger_seq" if as_of else "",
                until="AND j.effective_date <= ?" if as_of else "",
            )
            rows = conn.execute(query, (mandate, as_of.isoformat()) if as_of else (mandate,)).fetchall()
            # SQLite holds micro-units (docs/ledger-design.md)
            return {(r[0], r[1]): Decimal(r[2] - r[3]).scaleb(-6) for r in rows if r[2] != r[3]}

        return run
    pg = psycopg.connect(dsn, autocommit=True)

    def run_pg(mandate: str, as_of: dt.date | None) -> dict[tuple[str, str], Decimal]:
        query = _NAIVE["postgres"].format(
            join="JOIN journals AS j ON j.ledger_seq = p.ledger_seq" if as_of else "",
            until="AND j.effective_date <= %s" if as_of else "",
        )
        rows = pg.execute(query, (mandate, as_of) if as_of else (mandate,)).fetchall()  # type: ignore[arg-type]
        return {(r[0], r[1]): r[2] - r[3] for r in rows if r[2] != r[3]}

    return run_pg


def _time_runs(call: Callable[[], T], runs: int, budget_s: float | None = None) -> tuple[float, int, T]:
    """(median seconds, runs made, the first run's answer): `runs` calls, or fewer (at least
    NAIVE_MIN_RUNS) once budget_s is spent."""
    samples: list[float] = []
    spent = 0.0
    first: list[T] = []
    while len(samples) < runs:
        started = time.perf_counter()
        answer = call()
        samples.append(time.perf_counter() - started)
        first = first or [answer]
        spent += samples[-1]
        if budget_s is not None and spent > budget_s and len(samples) >= NAIVE_MIN_RUNS:
            break
    return _median(samples), len(samples), first[0]


def _measure_trial_balance(
    store: LedgerStore, naive: Callable[[str, dt.date | None], dict[tuple[str, str], Decimal]], mid: dt.date
) -> dict[str, object]:
    out: dict[str, object] = {}
    for label, as_of in (("latest", None), ("mid", mid)):
        seconds, runs, result = _time_runs(lambda a=as_of: store.trial_balance(TB_MANDATE, a), TRIAL_RUNS)
        naive_s, naive_runs, summed = _time_runs(
            lambda a=as_of: naive(TB_MANDATE, a), TRIAL_RUNS, NAIVE_BUDGET_S
        )
        maintained = {(line.account, line.currency): line.balance for line in result.lines if line.balance}
        out[label] = {
            "as_of": as_of.isoformat() if as_of else None,
            "lines": len(result.lines),
            "mandate_postings": result.posting_count,
            "trial_balance_ms": _ms(seconds),
            "trial_balance_runs": runs,
            "naive_group_by_ms": _ms(naive_s),
            "naive_group_by_runs": naive_runs,
            "naive_vs_trial_balance": naive_s / seconds,
            "same_balances": summed == maintained,
        }
    return out


class _Loader:
    """Bulk-loads the synthetic ledger through store.post, in batches of LOAD_BATCH journals."""

    def __init__(self, store: LedgerStore, backend: str) -> None:
        self.store = store
        self.backend = backend
        self.synthetic = SyntheticLedger()
        self.journals = self.postings = 0
        self.seconds = 0.0
        self._next_report = PROGRESS_POSTINGS

    def load_to(self, target: int, budget_s: float) -> None:
        """Post until `target` postings are stored or `budget_s` seconds of loading are spent,
        whichever comes first, always finishing the day in progress (so "mid" and "latest" see whole days)."""
        pending: list[JournalDraft] = []
        while self.postings < target and self.seconds < budget_s:
            started = time.perf_counter()
            while len(pending) < LOAD_BATCH:
                pending.extend(self.synthetic.one_day())
            chunk, pending = pending[:LOAD_BATCH], pending[LOAD_BATCH:]
            self._post(chunk)
            if pending and (
                self.postings >= target or self.seconds + time.perf_counter() - started >= budget_s
            ):
                self._post(pending)
                pending = []
            self.seconds += time.perf_counter() - started
            if self.postings >= self._next_report:
                print(
                    f"    {self.backend}: {self.postings:,} postings loaded in {self.seconds:.0f} s",
                    flush=True,
                )
                self._next_report += PROGRESS_POSTINGS

    def _post(self, drafts: Sequence[JournalDraft]) -> None:
        self.store.post(drafts, open_missing=True)
        self.journals += len(drafts)
        self.postings += sum(len(d.postings) for d in drafts)


def _trial_worker(
    backend: str,
    dsn: str,
    data_dir: pathlib.Path,
    sizes: Sequence[int],
    load_budget_s: float,
    conn: multiprocessing.connection.Connection,
) -> None:
    """One backend's trial-balance benchmark, in its own process so both backends load at once on the
    machine's two cores. After each size it reports "loaded" and measures only when told to, so a
    measurement never overlaps the other backend's loading."""
    try:
        store = open_store(dsn, data_dir / "ledger")
        try:
            loader = _Loader(store, backend)
            naive = naive_trial_balance(backend, dsn, data_dir)
            for target in sizes:
                loader.load_to(target, load_budget_s)
                conn.send(("loaded", loader.postings))
                conn.recv()
                print(
                    f"    {backend}: {loader.postings:,} postings ({loader.journals:,} journals,"
                    f" {loader.synthetic.days_done:,} days) loaded in {loader.seconds:.0f} s;"
                    " timing the trial balance ...",
                    flush=True,
                )
                row = {
                    "target_postings": target,
                    "postings": loader.postings,
                    "journals": loader.journals,
                    "days": loader.synthetic.days_done,
                    "accounts": len(store.accounts()),
                    "reached": loader.postings >= target,
                    **_measure_trial_balance(store, naive, loader.synthetic.mid_date()),
                }
                conn.send(("row", row))
                if not row["reached"]:
                    break  # the load budget is spent: larger sizes are not measured
        finally:
            store.close()
        conn.send(
            (
                "done",
                {
                    "load_seconds": loader.seconds,
                    "load_postings_per_s": loader.postings / loader.seconds if loader.seconds else 0.0,
                },
            )
        )
    except BaseException:
        conn.send(("error", traceback.format_exc()))
        raise


def _expect(conn: multiprocessing.connection.Connection, kind: str) -> Any:
    got, payload = conn.recv()
    if got == "error":
        raise RuntimeError(f"a trial-balance worker failed:\n{payload}")
    assert got == kind, (got, kind)
    return payload


def bench_trial_balance(
    backends: Sequence[str], sizes: Sequence[int], load_budget_s: float, admin_dsn: str
) -> dict[str, dict[str, object]]:
    """Every backend loads in its own process at the same time; at each size the loads wait for one
    another and each backend is then measured alone, the other idle."""
    spawn = multiprocessing.get_context("spawn")  # no fork after gRPC channels were made
    results: dict[str, dict[str, object]] = {}
    with contextlib.ExitStack() as stack:
        pipes, workers = {}, {}
        for backend in backends:
            tmp = pathlib.Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="opsuite-bench-")))
            dsn = stack.enter_context(scratch_database(admin_dsn)) if backend == "postgres" else ""
            ours, theirs = spawn.Pipe()
            worker = spawn.Process(
                target=_trial_worker,
                args=(backend, dsn, tmp, list(sizes), load_budget_s, theirs),
                daemon=True,
            )
            worker.start()
            stack.callback(_stop_worker, worker)
            pipes[backend], workers[backend] = ours, worker
            results[backend] = {
                "backend": backend,
                "concurrent_load": len(backends) > 1,
                "load_budget_s": load_budget_s,
                "rows": [],
            }
        active = list(backends)
        for index in range(len(sizes)):
            for backend in active:
                _expect(pipes[backend], "loaded")
            for backend in list(active):
                pipes[backend].send("measure")
                row = _expect(pipes[backend], "row")
                results[backend]["rows"].append(row)  # type: ignore[union-attr]
                if not row["reached"] or index == len(sizes) - 1:
                    results[backend].update(_expect(pipes[backend], "done"))
                    active.remove(backend)
        for worker in workers.values():
            worker.join(timeout=60)
    return results


def _stop_worker(worker: multiprocessing.process.BaseProcess) -> None:
    if worker.is_alive():
        worker.terminate()
    worker.join(timeout=30)


# ------------------------------------------------------------------ 4. Beancount


def bench_beancount(year: Year) -> dict[str, object]:
    from beancount import loader
    from beancount.core import data, realization

    loader.initialize(use_cache=False)  # timing a cold load; the cache would also write beside the file
    with tempfile.TemporaryDirectory(prefix="opsuite-bench-") as tmp:
        data_dir = pathlib.Path(tmp)
        store = open_store("", data_dir / "ledger")
        try:
            consume_year(store, year, data_dir)
            mandates = sorted(m.mandate_id for m in year.mandates)
            path = data_dir / "year.beancount"
            env = {k: v for k, v in os.environ.items() if not k.startswith(("OPSUITE_", "OTEL_"))}
            started = time.perf_counter()
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "services.cli",
                    "ledger",
                    "export",
                    "--format",
                    "beancount",
                    "--out",
                    str(path),
                ],
                cwd=ROOT,
                env={**env, "OPSUITE_DATA_DIR": str(data_dir)},
                check=True,
                capture_output=True,
            )
            export_s = time.perf_counter() - started

            def beancount_balances() -> dict[tuple[str, str, str], Decimal]:
                entries, errors, _ = loader.load_file(str(path))
                if errors:
                    raise RuntimeError(f"Beancount reported {len(errors)} errors: {errors[0].message}")
                names = {
                    e.account: (e.meta["mandate"], e.meta["ledger_account"])
                    for e in entries
                    if isinstance(e, data.Open)
                }
                root = realization.realize(entries)
                out = {}
                for name, (mandate, account) in names.items():
                    for position in realization.get(root, name).balance:
                        if position.units.number:
                            out[(mandate, account, position.units.currency)] = position.units.number
                return out

            def ledger_balances() -> dict[tuple[str, str, str], Decimal]:
                return {
                    (m, line.account, line.currency): line.balance
                    for m in mandates
                    for line in store.trial_balance(m, None).lines
                    if line.balance
                }

            beancount_s, beancount_runs, by_beancount = _time_runs(beancount_balances, BEANCOUNT_RUNS)
            ledger_s, ledger_runs, by_ledger = _time_runs(ledger_balances, TRIAL_RUNS)
            agree = by_beancount == by_ledger
            journals, postings = store.counts()
        finally:
            store.close()
        size = path.stat().st_size
    return {
        "mandates": len(mandates),
        "journals": journals,
        "postings": postings,
        "file_bytes": size,
        "export_seconds": export_s,
        "beancount_ms": _ms(beancount_s),
        "beancount_runs": beancount_runs,
        "ledger_trial_balances_ms": _ms(ledger_s),
        "ledger_runs": ledger_runs,
        "beancount_vs_ledger": beancount_s / ledger_s,
        "same_balances": agree,
    }


# ------------------------------------------------------------------ the section


def main_section(args: argparse.Namespace) -> dict[str, object]:
    """Run the ledger benchmarks, print each figure beside its baseline, return the results."""
    backends = _choices("--ledger-backends", args.ledger_backends, BACKENDS)
    parts = _choices("--ledger-parts", args.ledger_parts, PARTS)
    sizes = sorted(int(size) for size in args.ledger_postings.split(",") if size)
    started = time.perf_counter()
    results: dict[str, object] = {}
    runs: dict[str, dict[str, object]] = {}
    results["runs"] = runs
    year: Year | None = None
    if "throughput" in parts or "beancount" in parts:
        print(
            f"ledger: simulating {args.ledger_days} business days from {YEAR_START}, seed {SEED} ...",
            flush=True,
        )
        year = simulate_year(args.ledger_days)
    sections: dict[str, tuple[str, Callable[[], object]]] = {
        "throughput": ("throughput", lambda: _throughput_section(year, backends, args)),  # type: ignore[arg-type]
        "latency": ("post_journal", lambda: _latency_section(backends, args)),
        "trial": ("trial_balance", lambda: _trial_section(backends, sizes, args)),
        "beancount": ("beancount", lambda: _beancount_section(year)),  # type: ignore[arg-type]
    }
    for part in parts:
        key, run = sections[part]
        # Other work on a shared machine skews every figure: the 1-minute load average says how busy it was.
        when, load, t0 = (
            dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            os.getloadavg()[0],
            time.perf_counter(),
        )
        results[key] = run()
        runs[key] = {
            "when": when,
            "seconds": time.perf_counter() - t0,
            "load_average_at_start": load,
            "load_average_at_end": os.getloadavg()[0],
        }
    print(f"ledger benchmarks took {time.perf_counter() - started:.0f} s")
    return results


def _choices(option: str, text: str, known: Sequence[str]) -> list[str]:
    chosen = [item for item in text.split(",") if item]
    unknown = set(chosen) - set(known)
    if unknown:
        raise SystemExit(
            f"{option}: unknown {', '.join(sorted(unknown))}; expected some of {', '.join(known)}"
        )
    return [item for item in known if item in chosen]


def _throughput_section(year: Year, backends: Sequence[str], args: argparse.Namespace) -> dict[str, object]:
    print(f"ledger throughput: consuming the year, {args.ledger_repeats} runs each (median) ...", flush=True)
    throughput = bench_throughput(
        year, backends, args.ledger_repeats, args.ledger_admin_dsn, args.ledger_batches_per_commit
    )
    print(
        f"  {throughput['journals']:,} journals, {throughput['postings']:,} postings from"
        f" {throughput['booked_events']:,} booked events ({throughput['stream_batches']} batches of {EVENT_BATCH})"
    )
    for key, label in (
        ("copy_same_shape", "postgres baseline: plain COPY of the same journals and postings"),
        ("sqlite_insert_baseline", "sqlite   baseline: plain executemany of the same journals and postings"),
        ("copy_baseline", "(postgres: plain COPY of as many two-leg journals, the issue's first reference)"),
    ):
        if isinstance(base := throughput.get(key), dict):
            print(
                f"  {label}: {base['journals_per_s']:9,.0f} journals/s {base['postings_per_s']:9,.0f} postings/s"
            )
    alone = throughput["rules_alone"]
    assert isinstance(alone, dict)
    print(
        f"  the posting rules alone (decode, rules, state JSON; nothing written): {alone['journals_per_s']:9,.0f}"
        f" journals/s {alone['postings_per_s']:9,.0f} postings/s ({alone['seconds']:.2f} s for the year)"
    )
    for backend in backends:
        row = throughput[backend]
        assert isinstance(row, dict)
        for what, label in (("consumer", "consumer path"), ("store_post", "store.post alone")):
            r = row[what]
            print(
                f"  {backend:<8} {label:<17} {r['journals_per_s']:9,.0f} journals/s {r['postings_per_s']:9,.0f} postings/s"
                f"  = {r['vs_baseline']:.3f} x the {backend} baseline in postings"
                f" ({r['batches_per_commit']:.0f} stream batches a commit)"
            )
        print(
            f"  {backend:<8} ceiling: the posting rules alone, nothing written = {row['rules_alone_vs_baseline']:.3f}"
            f" x the {backend} baseline in postings"
        )
        consumer = row["consumer"]
        rules = consumer["rules_seconds"] / consumer["seconds"]
        relay = consumer["relay_seconds"] / consumer["seconds"]
        print(
            f"  {backend:<8} (the posting rules and their state JSON: {rules:.0%} of the consumer path;"
            f" the relay appending its {consumer['recorded']:,.0f} event-log records: {relay:.0%})"
        )
    return throughput


def _latency_section(backends: Sequence[str], args: argparse.Namespace) -> dict[str, object]:
    print(f"ledger PostJournal latency: {args.ledger_calls:,} sequential calls through gRPC ...", flush=True)
    latency: dict[str, object] = {}
    for backend in backends:
        r = bench_post_journal(backend, args.ledger_calls, args.ledger_admin_dsn)
        latency[backend] = r
        for name in ("post_journal", "list_accounts", "health"):
            x = r[name]
            assert isinstance(x, dict)
            print(f"  {backend:<8} {name:<14} p50 {x['p50_ms']:7.2f} ms   p99 {x['p99_ms']:7.2f} ms")
    return latency


def _trial_section(
    backends: Sequence[str], sizes: Sequence[int], args: argparse.Namespace
) -> dict[str, object]:
    print(
        f"ledger trial balance at {', '.join(f'{s:,}' for s in sizes)} postings"
        f" ({' and '.join(backends)} loading at once, at most {args.ledger_load_budget:.0f} s each) ...",
        flush=True,
    )
    trial = bench_trial_balance(backends, sizes, args.ledger_load_budget, args.ledger_admin_dsn)
    for backend, r in trial.items():
        for row in r["rows"]:  # type: ignore[attr-defined]
            for label in ("latest", "mid"):
                x = row[label]
                print(
                    f"  {backend:<8} {row['postings']:>11,} postings {label:<6} trial balance {x['trial_balance_ms']:8.2f} ms"
                    f"   naive GROUP BY {x['naive_group_by_ms']:10.1f} ms   ratio {x['naive_vs_trial_balance']:8.0f}"
                    f"   same balances: {x['same_balances']}"
                )
            if not row["reached"]:
                print(f"  {backend:<8} the load budget ran out before {row['target_postings']:,} postings")
    return trial  # type: ignore[return-value]


def _beancount_section(year: Year) -> dict[str, object]:
    print("ledger vs Beancount: the simulated year exported, loaded and realized ...", flush=True)
    beancount = bench_beancount(year)
    print(
        f"  Beancount load_file + realize {beancount['beancount_ms']:9.1f} ms   store.trial_balance x"
        f" {beancount['mandates']} mandates {beancount['ledger_trial_balances_ms']:7.2f} ms"
        f"   ratio {beancount['beancount_vs_ledger']:.0f}   same balances: {beancount['same_balances']}"
    )
    return beancount
