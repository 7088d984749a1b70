"""Live-mode latency: from the day end that reveals a break to the break in WatchBreaks, and from the
day end at which a cash break ages into suspense to its suspense journal in WatchJournals.

`python -m bench --only latency` (or `python -m bench.latency [--latency-days N] [--latency-speed S]`)
runs `opsuite up --speed S --fault-rate F --no-view` (seed 7, 120 business days from 2020-01-02 at 2
business days a second by default: the live clock, with five times the default fault rates for
more samples; documents without its model)
and follows three streams from this one process, each on its own thread, and asks the ledger once
a day end:

- market's `StreamEvents` (kind `clock.day_end` only): when each simulated day ended;
- recon's `WatchBreaks`: when each break was opened (its `first_seen_date` is the day end that
  revealed it);
- the ledger's `WatchJournals` (kind SUSPENSE): when each suspense journal was booked (its
  `effective_date` is the day end at which recon posted it);
- where the time goes (LedgerBooked): for each day end, when the ledger has booked it, asked as
  recon asks (GetBalances with min_market_seq), since recon's check waits for exactly that.

The simulated custodian's own errors never reach suspense (they are explained), so once a simulated
day this process books in the ledger a fee the bank never charged, as a person's mistake would
(`_plant_fee`).

A break's latency is the time its OPENED change arrived minus the time its day end arrived; the same
for a suspense journal. Only the day ends that arrive once `opsuite up` has said "all services
serving" are counted: before that, market's live clock runs while the followers start and each
catches up on the days it missed (taking both cores meanwhile), which is start-up, not live mode.
Both ends are observed here through gRPC streams, so the streams' own delivery is inside the figure
on both sides alike. The aim (issue 17): p99 under 200 ms.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import grpc

from opsuite.common.v1 import common_pb2
from opsuite.ledger.v1 import ledger_pb2, ledger_pb2_grpc
from opsuite.market.v1 import market_pb2, market_pb2_grpc
from opsuite.recon.v1 import recon_pb2, recon_pb2_grpc
from services.cli.registry import free_port
from services.common.settings import EDGE, SERVICES

ROOT = Path(__file__).resolve().parent.parent
SERVING_LINE = "all services serving"  # what opsuite up prints once every service serves


def _date(value: common_pb2.Date) -> dt.date:
    return dt.date(value.year, value.month, value.day)


class Follower(threading.Thread):
    """Reads one server stream until cancelled, keeping (arrival time, message) pairs."""

    def __init__(self, open_call: object):
        super().__init__(daemon=True)
        self.open_call = open_call
        self.arrivals: list[tuple[float, object]] = []
        self.call: grpc.Call | None = None
        self.error: grpc.RpcError | None = None

    def run(self) -> None:
        deadline = time.monotonic() + 120
        while True:  # the service may not listen yet: opsuite up starts market first
            try:
                self.call = self.open_call()  # type: ignore[operator]
                for message in self.call:  # type: ignore[union-attr]
                    self.arrivals.append((time.perf_counter(), message))
                return
            except grpc.RpcError as error:
                if error.code() == grpc.StatusCode.CANCELLED:
                    return
                if error.code() != grpc.StatusCode.UNAVAILABLE or time.monotonic() > deadline:
                    self.error = error
                    return
                time.sleep(0.1)  # waiting for the service to listen

    def stop(self) -> None:
        if self.call is not None:
            self.call.cancel()  # type: ignore[attr-defined]


class LedgerBooked(threading.Thread):
    """Where the time goes: for each day end market streamed, when the ledger has booked it, asked as
    recon asks (GetBalances of one mandate with min_market_seq: answered once the day end's journals
    are committed). One more GetBalances a day end beside recon's five."""

    def __init__(self, ledger: grpc.Channel, day_ends: Follower):
        super().__init__(daemon=True)
        self.stub = ledger_pb2_grpc.LedgerServiceStub(ledger)
        self.day_ends = day_ends
        self.arrivals: dict[dt.date, float] = {}
        self.stopping = threading.Event()

    def run(self) -> None:
        asked = 0
        while not self.stopping.is_set():
            if asked >= len(self.day_ends.arrivals):
                self.stopping.wait(0.005)
                continue
            _, batch = self.day_ends.arrivals[asked]
            asked += 1
            for event in batch.events:  # type: ignore[attr-defined]
                request = ledger_pb2.GetBalancesRequest(
                    mandate_id="BAL-USD", as_of=event.day_end.date, min_market_seq=event.envelope.seq
                )
                with contextlib.suppress(grpc.RpcError):  # the ledger not serving yet: start-up
                    self.stub.GetBalances(request, timeout=30)
                    self.arrivals.setdefault(_date(event.day_end.date), time.perf_counter())

    def stop(self) -> None:
        self.stopping.set()


def _clock(channel: grpc.Channel) -> market_pb2.Clock | None:
    try:
        return market_pb2_grpc.MarketServiceStub(channel).GetClock(market_pb2.GetClockRequest(), timeout=2)
    except grpc.RpcError:
        return None


def _plant_fee(ledger: grpc.Channel, on: common_pb2.Date, planted_on: set[dt.date]) -> int:
    """Books, once a simulated day, a fee of 2,500.00 USD the bank never charged (alternately on
    BAL-USD and FI-USD): a cash break at that day end, unexplained, so recon posts it to suspense
    once it has aged past `suspense.cash_age_business_days` (3). Returns the journals booked (0 or 1)."""
    day = _date(on)
    if day in planted_on:
        return 0
    planted_on.add(day)
    mandate = ("BAL-USD", "FI-USD")[len(planted_on) % 2]

    def money(value: str) -> common_pb2.Money:
        return common_pb2.Money(amount=common_pb2.Decimal(value=value), currency="USD")

    ledger_pb2_grpc.LedgerServiceStub(ledger).PostJournal(
        ledger_pb2.PostJournalRequest(
            idempotency_key=f"bench-latency:fee:{day.isoformat()}",
            mandate_id=mandate,
            kind=ledger_pb2.JOURNAL_KIND_MANUAL,
            effective_date=on,
            memo="a fee the bank never charged (bench/latency.py)",
            postings=[
                ledger_pb2.Posting(account="Expenses:ManagementFees:USD", amount=money("2500.00")),
                ledger_pb2.Posting(account="Assets:Cash:USD", amount=money("-2500.00")),
            ],
            posted_by="bench-latency",
        ),
        timeout=30,
    )
    return 1


def _summary(latencies_ms: list[float]) -> dict[str, float]:
    if not latencies_ms:
        return {"count": 0}
    ordered = sorted(latencies_ms)
    return {
        "count": len(ordered),
        "p50_ms": statistics.median(ordered),
        "p99_ms": ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))],
        "max_ms": ordered[-1],
    }


def run_live(days: int, speed: float, start: dt.date, fault_rate: float) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp)
        addresses = {name: f"127.0.0.1:{free_port('127.0.0.1')}" for name in (*SERVICES, EDGE)}
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("OPSUITE_", "OTEL_"))},
            "OPSUITE_DATA_DIR": str(data_dir),
            "OPSUITE_DOCUMENTS_USE_MODEL": "false",
            **{f"OPSUITE_{name.upper()}_ADDR": address for name, address in addresses.items()},
        }
        # The services start a moment after this process subscribes: reconnect every 100 ms, not
        # with gRPC's default backoff (growing to minutes), so each watch starts before their first day end.
        fast_reconnect = [
            ("grpc.initial_reconnect_backoff_ms", 100),
            ("grpc.min_reconnect_backoff_ms", 100),
            ("grpc.max_reconnect_backoff_ms", 100),
        ]
        channels = {
            name: grpc.insecure_channel(addresses[name], options=fast_reconnect)
            for name in ("market", "recon", "ledger")
        }
        day_ends = Follower(
            lambda: market_pb2_grpc.MarketServiceStub(channels["market"]).StreamEvents(
                market_pb2.StreamEventsRequest(
                    from_seq=1, filter=market_pb2.EventFilter(kinds=["clock.day_end"])
                )
            )
        )
        breaks = Follower(
            lambda: recon_pb2_grpc.ReconServiceStub(channels["recon"]).WatchBreaks(
                recon_pb2.WatchBreaksRequest()
            )
        )
        suspense = Follower(
            lambda: ledger_pb2_grpc.LedgerServiceStub(channels["ledger"]).WatchJournals(
                ledger_pb2.WatchJournalsRequest(kind=ledger_pb2.JOURNAL_KIND_SUSPENSE)
            )
        )
        booked = LedgerBooked(channels["ledger"], day_ends)
        supervisor = subprocess.Popen(
            [sys.executable, "-m", "services.cli", "up", "--speed", str(speed), "--seed", "7",
             "--start", start.isoformat(), "--days", str(days), "--fault-rate", str(fault_rate), "--no-view"],
            cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
            stdout=(data_dir / "supervisor.out").open("wb"), stderr=subprocess.STDOUT,
        )  # fmt: skip
        followers = (day_ends, breaks, suspense)
        for follower in followers:
            follower.start()
        booked.start()
        planted, planted_on = 0, set[dt.date]()
        live_from: float | None = None  # when opsuite up said every service serves
        try:
            # Done when market's clock has ended and its last day end has had two seconds.
            deadline = time.monotonic() + days / speed + 300
            while True:
                if supervisor.poll() is not None:
                    raise RuntimeError(f"opsuite up exited:\n{(data_dir / 'supervisor.out').read_text()}")
                if time.monotonic() > deadline:
                    raise RuntimeError("the run did not end in time")
                for follower in followers:
                    if follower.error is not None:
                        raise RuntimeError(f"a stream failed: {follower.error}")
                if live_from is None and SERVING_LINE in (data_dir / "supervisor.out").read_text(
                    errors="replace"
                ):
                    live_from = time.perf_counter()
                clock = _clock(channels["market"])
                if clock is not None and clock.head_seq > 0 and not clock.running:
                    break
                if clock is not None and live_from is not None:
                    planted += _plant_fee(channels["ledger"], clock.sim_date, planted_on)
                time.sleep(0.2)  # waiting for the live clock, which runs for days / speed seconds
            time.sleep(2.0)  # the last day end's checks and postings: later ones are not counted anyway
        finally:
            booked.stop()
            for follower in followers:
                follower.stop()
            supervisor.send_signal(signal.SIGINT)
            supervisor.wait(timeout=120)
            for channel in channels.values():
                channel.close()

    if live_from is None:
        raise RuntimeError(f"opsuite up never said {SERVING_LINE!r} before the run ended: run more days")
    day_end_at: dict[dt.date, float] = {}
    for at, batch in day_ends.arrivals:
        for event in batch.events:  # type: ignore[attr-defined]
            day_end_at.setdefault(_date(event.day_end.date), at)
    # Live mode begins once every service serves: the day ends before are start-up.
    started_up = [day for day, at in day_end_at.items() if at < live_from]
    for day in started_up:
        del day_end_at[day]
    # A watch from 0 starts with the breaks open now (CURRENT): only OPENED ones are timed.
    break_ms = [
        (at - day_end_at[_date(change.record.first_seen_date)]) * 1000
        for at, change in breaks.arrivals
        if change.kind == recon_pb2.CHANGE_KIND_OPENED  # type: ignore[attr-defined]
        and _date(change.record.first_seen_date) in day_end_at  # type: ignore[attr-defined]
    ]
    suspense_ms = [
        (at - day_end_at[_date(journal.effective_date)]) * 1000
        for at, batch in suspense.arrivals
        for journal in batch.journals  # type: ignore[attr-defined]
        if _date(journal.effective_date) in day_end_at
    ]
    booked_ms = [(at - day_end_at[day]) * 1000 for day, at in booked.arrivals.items() if day in day_end_at]
    return {
        "days": days,
        "speed": speed,
        "fault_rate": fault_rate,
        "start": start.isoformat(),
        "day_ends_counted": len(day_end_at),
        "fees_planted": planted,
        "start_up_day_ends": len(started_up),
        "break_opened": _summary(break_ms),
        "suspense_journal": _summary(suspense_ms),
        "ledger_booked": _summary(booked_ms),
    }


def main_section(args: argparse.Namespace) -> dict[str, object]:
    days, speed = getattr(args, "latency_days", 120), getattr(args, "latency_speed", 2.0)
    fault_rate = getattr(args, "latency_fault_rate", 5.0)
    start = dt.date(2020, 1, 2)
    print(
        f"latency: opsuite up --speed {speed} --fault-rate {fault_rate}, {days} business days from {start}"
        " (seed 7) ...",
        flush=True,
    )
    run = run_live(days, speed, start, fault_rate)
    for key, what in (
        ("break_opened", "day end -> break in WatchBreaks"),
        ("suspense_journal", "day end -> suspense journal"),
        ("ledger_booked", "day end -> ledger has booked it"),
    ):
        figures = run[key]
        assert isinstance(figures, dict)
        if figures["count"]:
            print(
                f"  {what:<34} {figures['count']:5d} samples: p50 {figures['p50_ms']:6.1f} ms"
                f"  p99 {figures['p99_ms']:6.1f} ms  max {figures['max_ms']:6.1f} ms"
            )
        else:
            print(f"  {what:<34} no samples")
    return {
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "load_average": os.getloadavg(),
        **run,
    }


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("latency")
    group.add_argument("--latency-days", type=int, default=120, help="business days of the live run (120)")
    group.add_argument(
        "--latency-fault-rate",
        type=float,
        default=5.0,
        help="custodian faults x5 by default, for more samples",
    )
    group.add_argument("--latency-speed", type=float, default=2.0, help="business days a second (2)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_arguments(parser)
    main_section(parser.parse_args())
