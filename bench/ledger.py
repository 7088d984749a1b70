"""Ledger benchmarks (issue 3): `python -m bench --only ledger` (see bench/README.md, "Ledger").

Every figure is measured beside a baseline from the same run:
- throughput: journals and postings per second while consuming a simulated year as fast as possible
  (the service's consumer path in-process, and store.post alone), on SQLite and PostgreSQL, against a
  plain batched COPY of the same number of two-leg journals into two minimal PostgreSQL tables;
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
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from urllib.parse import urlsplit

import grpc
import psycopg
from grpc_health.v1 import health_pb2, health_pb2_grpc
from psycopg import sql

from opsuite.common.v1 import common_pb2
from opsuite.ledger.v1 import ledger_pb2, ledger_pb2_grpc
from opsuite.market.v1 import market_pb2, market_pb2_grpc
from services.ledger.domain import chart
from services.ledger.domain.records import JournalDraft, JournalKind, Posting
from services.ledger.store import LedgerStore, open_store

ROOT = pathlib.Path(__file__).resolve().parent.parent
ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"
YEAR_START = dt.date(2019, 1, 2)
YEAR_DAYS = 252
SEED = 7
EVENT_BATCH = 512  # events per stream batch: the ledger's EventStreamClient asks for 512
COPY_BATCH = 500
BACKENDS = ("sqlite", "postgres")
TRIAL_RUNS = 20
# The naive GROUP BY scans every posting; stop repeating it after this long (at least 3 runs).
NAIVE_BUDGET_S = 10.0
NAIVE_MIN_RUNS = 3
BEANCOUNT_RUNS = 3
LOAD_BATCH = 10_000  # journals per store.post while bulk-loading
SYNTHETIC_START = dt.date(2000, 1, 3)
SYNTHETIC_POSTINGS_PER_DAY = 4_000  # 10 million postings span about ten years of business days
SYNTHETIC_MANDATES = (("BAL-USD", "USD"), ("EQ-EUR", "EUR"), ("INC-GBP", "GBP"), ("FI-USD", "USD"), ("EQ-JPY", "JPY"))
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
        default=270.0,
        help="seconds each backend may spend bulk-loading postings for the trial balance (default 270);"
        " a size not reached in time is measured at the size reached, and said so",
    )
    group.add_argument("--ledger-days", type=int, default=YEAR_DAYS, help="simulated business days (252)")
    group.add_argument("--ledger-repeats", type=int, default=3, help="runs of each throughput figure (3)")
    group.add_argument("--ledger-calls", type=int, default=2000, help="sequential PostJournal calls (2000)")
    group.add_argument(
        "--ledger-backends", default=",".join(BACKENDS), help="comma-separated: sqlite,postgres (both)"
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

    mandates: list[market_pb2.Mandate]
    instruments: list[market_pb2.Instrument]
    batches: list[list[market_pb2.MarketEvent]]
    events: int  # every event of the year, booked or not
    simulate_s: float


def simulate_year(days: int) -> Year:
    from services.ledger.consumer import BOOKED_KINDS
    from services.market import codec
    from services.market.sim.engine import SimConfig, Simulation
    from services.market.sim.macro import load_macro

    started = time.perf_counter()
    sim = Simulation(SimConfig(seed=SEED, start=YEAR_START, days=days), load_macro(YEAR_START))
    events: list[market_pb2.MarketEvent] = []
    while (day := sim.step()) is not None:
        events.extend(codec.event_to_proto(e) for e in day.events)
    # What the ledger's subscription delivers: market filters by kind prefix on the server.
    booked = [e for e in events if e.envelope.kind.startswith(BOOKED_KINDS)]
    return Year(
        mandates=[codec.mandate_to_proto(m) for m in _values(sim.mandates)],
        instruments=[codec.instrument_to_proto(i) for i in _values(sim.instruments)],
        batches=[booked[i : i + EVENT_BATCH] for i in range(0, len(booked), EVENT_BATCH)],
        events=len(events),
        simulate_s=time.perf_counter() - started,
    )


def _values(collection: object) -> list:
    return list(collection.values()) if isinstance(collection, dict) else list(collection)  # type: ignore[call-overload]


def _open_standard_chart(store: LedgerStore, year: Year) -> None:
    """What the service does on start, before it follows the stream."""
    store.open_accounts(
        [a for m in year.mandates for a in chart.standard_chart(m.mandate_id, m.base_currency, YEAR_START)]
    )


def _book(year: Year):  # type: ignore[no-untyped-def]
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
        drafts = [draft for event in events for draft in book.apply(event)]
        out.append(Planned(drafts, events[-1].envelope.seq, book.to_json()))
    return out


def consume_year(store: LedgerStore, year: Year) -> dict[str, float]:
    """The consumer's path (services/ledger/consumer.py) without the network: per stream batch, the
    posting rules over its events, the rules' state as JSON, and one store.post with cursor and state."""
    _open_standard_chart(store, year)
    book = _book(year)
    rules_s = 0.0
    journals = postings = 0
    started = time.perf_counter()
    for events in year.batches:
        t0 = time.perf_counter()
        drafts = [draft for event in events for draft in book.apply(event)]
        state = book.to_json()
        rules_s += time.perf_counter() - t0
        store.post(drafts, open_missing=True, cursor=events[-1].envelope.seq, state=state)
        journals += len(drafts)
        postings += sum(len(d.postings) for d in drafts)
    seconds = time.perf_counter() - started
    return {"journals": journals, "postings": postings, "seconds": seconds, "rules_seconds": rules_s}


def post_planned(store: LedgerStore, year: Year, planned: Sequence[Planned]) -> dict[str, float]:
    """store.post alone: the same batches, drafts precomputed."""
    _open_standard_chart(store, year)
    started = time.perf_counter()
    for batch in planned:
        store.post(batch.drafts, open_missing=True, cursor=batch.cursor, state=batch.state)
    seconds = time.perf_counter() - started
    return {
        "journals": sum(len(b.drafts) for b in planned),
        "postings": sum(len(d.postings) for b in planned for d in b.drafts),
        "seconds": seconds,
    }


def copy_baseline(dsn: str, journals: int, run: int) -> dict[str, float]:
    """A plain batched COPY of two-leg journals into two minimal tables: psycopg 3 cursor.copy(),
    batches of 500 journals, one commit per batch. The rows are built before the clock starts."""
    amounts = [Decimal(n).scaleb(-2) for n in range(1, 1001)]
    day = YEAR_START
    rows = [
        (
            (n, "BAL-USD", day + dt.timedelta(days=n // 20), f"bench journal {n}"),
            (
                (n, 0, "BAL-USD", "Assets:Cash:USD", "USD", amounts[n % 1000]),
                (n, 1, "BAL-USD", "Assets:Suspense:USD", "USD", -amounts[n % 1000]),
            ),
        )
        for n in range(1, journals + 1)
    ]
    jt, pt = f"copy_journals_{run}", f"copy_postings_{run}"
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
                    for _, legs in chunk:
                        for leg in legs:
                            copy.write_row(leg)
            conn.commit()
        seconds = time.perf_counter() - started
    return {"journals": journals, "postings": 2 * journals, "seconds": seconds}


def _rates(run: dict[str, float]) -> dict[str, float]:
    return {
        **run,
        "journals_per_s": run["journals"] / run["seconds"],
        "postings_per_s": run["postings"] / run["seconds"],
    }


def _best_of(runs: Sequence[dict[str, float]]) -> dict[str, float]:
    """The median run (by seconds), with how many runs there were and their spread."""
    ordered = sorted(runs, key=lambda r: r["seconds"])
    median = dict(ordered[len(ordered) // 2])
    median["runs"] = len(runs)
    median["seconds_min"] = ordered[0]["seconds"]
    median["seconds_max"] = ordered[-1]["seconds"]
    return _rates(median)


def bench_throughput(year: Year, backends: Sequence[str], repeats: int, admin_dsn: str) -> dict[str, object]:
    planned = plan_year(year)
    journals = sum(len(b.drafts) for b in planned)
    consumed: dict[str, list[dict[str, float]]] = {b: [] for b in backends}
    posted: dict[str, list[dict[str, float]]] = {b: [] for b in backends}
    copies: list[dict[str, float]] = []
    with scratch_database(admin_dsn) as copy_dsn:
        for run in range(repeats):  # interleaved, so a slow spell of the machine hits every figure
            for backend in backends:
                with backend_store(backend, admin_dsn) as (store, _, _):
                    consumed[backend].append(consume_year(store, year))
                with backend_store(backend, admin_dsn) as (store, _, _):
                    posted[backend].append(post_planned(store, year, planned))
            copies.append(copy_baseline(copy_dsn, journals, run))
    copy = _best_of(copies)
    out: dict[str, object] = {
        "days": len({e.envelope.sim_time.ToDatetime().date() for b in year.batches for e in b}),
        "events": year.events,
        "booked_events": sum(len(b) for b in year.batches),
        "stream_batches": len(year.batches),
        "journals": journals,
        "postings": sum(len(d.postings) for b in planned for d in b.drafts),
        "copy_baseline": copy,
    }
    for backend in backends:
        row = {"consumer": _best_of(consumed[backend]), "store_post": _best_of(posted[backend])}
        for what in ("consumer", "store_post"):
            row[what]["journals_vs_copy"] = row[what]["journals_per_s"] / copy["journals_per_s"]
            row[what]["postings_vs_copy"] = row[what]["postings_per_s"] / copy["postings_per_s"]
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
                            amount=common_pb2.Money(amount=common_pb2.Decimal(value=f"-{amount}"), currency=ccy),
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
        for name, call in calls_by_name.items():
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


def _ledger_journal_count(
    stub: ledger_pb2_grpc.LedgerServiceStub, mandates: Sequence[market_pb2.Mandate]
) -> int:
    return sum(
        stub.GetTrialBalance(ledger_pb2.GetTrialBalanceRequest(mandate_id=m.mandate_id)).journal_count
        for m in mandates
    )
