"""opsuite benchmarks: `make bench` (or `python -m bench [--days N] [--only SECTION]`).

Every figure is printed beside a baseline measured in the same run:
- simulation: business days per second of the pure simulation, and of the
  whole market path (simulate, encode, trace, append to the SQLite event log),
  measured day by day in turn so the machine's load weighs on both alike;
- streaming: events per second delivered by market to 1 and to 5 concurrent
  subscribers, against a bare grpc.aio server streaming the very same batch
  bytes with no work per message (the ceiling), each row the median of
  --repeats pairs, with each server's CPU time per event;
- memory: peak resident memory of the market process during the run;
- ledger: journals and postings per second, PostJournal latency, trial balance at size and
  against Beancount (bench/ledger.py);
- reporting: GetReport latency over five years of daily history and 500 holdings, and a year's
  full recomputation, beside pandas doing the same calculations (bench/reporting_report.py);
- edge: each annotated RPC through the HTTP/JSON edge against the same call over gRPC, latency and
  requests per second (bench/edge.py);
- suite: `opsuite up --speed max` for a year, every follower's catch-up against market's own time,
  and each process's memory and CPU (bench/suite.py); then the followers' floor, what reading the
  same year costs a follower that does nothing with it (bench/follower_floor.py);
- latency: a live run, from the day end that reveals a break to the break in WatchBreaks and to
  its suspense journal (bench/latency.py).
Results go to bench/results.json (a section run alone replaces only its own keys);
bench/README.md discusses them.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import itertools
import json
import os
import platform
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import grpc

from bench import edge, follower_floor, latency, ledger, recon, reporting_report, suite
from bench.market_process import start_market
from opsuite.market.v1 import market_pb2, market_pb2_grpc

ROOT = Path(__file__).resolve().parent.parent
MARKET_METHOD = "/opsuite.market.v1.MarketService/StreamEvents"
BARE_METHOD = "/bench.Bare/Stream"
START = dt.date(2016, 1, 4)
TAIL_EVENTS = 50_000
SEED = 7


def bench_simulation(days: int) -> dict[str, float]:
    """The pure simulation and the whole market path, day by day in turn (which goes first
    alternating), so a change in the machine's load weighs on both alike."""
    from services.common.eventlog import open_event_log
    from services.market.fred import load_macro
    from services.market.runtime import ClockSettings, MarketRuntime
    from services.market.sim.engine import SimConfig, Simulation

    macro = load_macro(START)
    config = SimConfig(seed=SEED, start=START, days=days)
    sim = Simulation(config, macro)
    events = 0
    pure_s = full_s = 0.0

    def pure_day() -> bool:
        nonlocal events, pure_s
        started = time.perf_counter()
        day = sim.step()
        pure_s += time.perf_counter() - started
        events += len(day.events) if day is not None else 0
        return day is not None

    with tempfile.TemporaryDirectory() as tmp:
        runtime = MarketRuntime(
            config, macro, open_event_log(None, Path(tmp)), ClockSettings(None), retention_events=10**9
        )

        def full_day() -> bool:
            nonlocal full_s
            started = time.perf_counter()
            # _produce_day simulates, traces and encodes; the service then appends the day (its
            # records and its pre-framed block) to the log, as the clock does.
            produced = runtime._produce_day()
            if produced is not None:
                runtime._append_day(produced[0], retried=False)
            full_s += time.perf_counter() - started
            return produced is not None

        for day in itertools.count():
            ran = [pure_day(), full_day()] if day % 2 == 0 else [full_day(), pure_day()]
            if not any(ran):
                break
        runtime.event_log.close()
    return {
        "days": days,
        "events": events,
        "events_per_day": events / days,
        "pure_days_per_s": days / pure_s,
        "market_path_days_per_s": days / full_s,
        "market_path_events_per_s": events / full_s,
        "market_path_vs_pure": pure_s / full_s,
        "load_average_1m": os.getloadavg()[0],
    }


def _wait_finished(address: str) -> market_pb2.Clock:
    with grpc.insecure_channel(address) as channel:
        stub = market_pb2_grpc.MarketServiceStub(channel)
        grpc.channel_ready_future(channel).result(timeout=60)
        while True:
            try:
                clock = stub.GetClock(market_pb2.GetClockRequest())
                if clock.business_days_elapsed and not clock.running:
                    return clock
            except grpc.RpcError:
                pass
            time.sleep(0.2)  # polling the clock while the simulation runs


def _capture_batches(address: str, from_seq: int, head: int, batch_size: int, path: Path) -> int:
    request = market_pb2.StreamEventsRequest(from_seq=from_seq, max_batch_size=batch_size).SerializeToString()
    total = 0
    with grpc.insecure_channel(address) as channel, path.open("wb") as sink:
        call = channel.unary_stream(MARKET_METHOD)(request)
        for batch in call:
            sink.write(struct.pack(">I", len(batch)) + batch)
            total += 1
            if market_pb2.EventBatch.FromString(batch).last_seq >= head:
                break
        call.cancel()
    return total


def _cpu_seconds(pid: int) -> float:
    """CPU time the process's live threads have run so far, to the nanosecond (schedstat; the clock
    ticks of /proc/PID/stat are too coarse for a run of a tenth of a second). Both servers keep
    their threads (gRPC's, the default executor's) for the whole run."""
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(FileNotFoundError, ProcessLookupError):  # a thread that ended meanwhile
            total += int((task / "schedstat").read_text().split()[0])
    return total / 1e9


def _run_clients(
    address: str, method: str, count: int, from_seq: int, events: int, batch_size: int, server_pid: int
) -> dict[str, float]:
    """Run `count` subscribers at once; their total events per second and the server's CPU time per
    event delivered (which the machine's load hardly changes, unlike the rate)."""
    cpu_before = _cpu_seconds(server_pid)
    clients = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "bench.stream_client",
                address,
                method,
                str(from_seq),
                str(events),
                str(batch_size),
            ],
            cwd=ROOT,
            stdout=subprocess.PIPE,
        )
        for _ in range(count)
    ]
    results = [json.loads(c.communicate(timeout=600)[0]) for c in clients]
    cpu = _cpu_seconds(server_pid) - cpu_before
    events = sum(r["events"] for r in results)
    seconds = max(r["seconds"] for r in results)
    return {
        "subscribers": count,
        "events": events,
        "seconds": seconds,
        "events_per_s": events / seconds,
        "server_cpu_us_per_event": cpu / events * 1e6,
    }


def _peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def bench_streaming(days: int, batch_size: int, repeats: int = 3) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp:
        market, address = start_market(
            Path(tmp) / "data",
            {"OPSUITE_DAYS": str(days), "OPSUITE_SEED": str(SEED), "OPSUITE_START": START.isoformat()},
        )
        try:
            clock = _wait_finished(address)
            rows = []
            # Catch-up reads the whole history (the oldest part from the SQLite log); the live
            # tail is the last TAIL_EVENTS events, served from memory.
            scenarios = {"catch-up from seq 1": 1, "live tail": max(1, clock.head_seq - TAIL_EVENTS + 1)}
            for scenario, from_seq in scenarios.items():
                events = clock.head_seq - from_seq + 1
                batches_file = Path(tmp) / "batches.bin"
                _capture_batches(address, from_seq, clock.head_seq, batch_size, batches_file)
                bare = subprocess.Popen(
                    [sys.executable, "-m", "bench.bare_server", str(batches_file)],
                    cwd=ROOT,
                    stdout=subprocess.PIPE,
                )
                try:
                    assert bare.stdout is not None
                    bare_address = f"127.0.0.1:{int(bare.stdout.readline())}"
                    for count in (1, 5):
                        # Each figure beside its ceiling measured just before it, `repeats` times;
                        # the row is the pair with the median ratio, the others are kept beside it.
                        pairs = []
                        for _ in range(repeats):
                            ceiling = _run_clients(
                                bare_address, BARE_METHOD, count, 1, events, batch_size, bare.pid
                            )
                            served = _run_clients(
                                address, MARKET_METHOD, count, from_seq, events, batch_size, market.pid
                            )
                            ratio = served["events_per_s"] / ceiling["events_per_s"]
                            pairs.append((ratio, served, ceiling, os.getloadavg()[0]))
                        ratio, served, ceiling, load = sorted(pairs, key=lambda pair: pair[0])[
                            len(pairs) // 2
                        ]
                        rows.append(
                            {
                                "scenario": scenario,
                                "events": events,
                                "subscribers": count,
                                "market_events_per_s": served["events_per_s"],
                                "bare_grpc_events_per_s": ceiling["events_per_s"],
                                "market_vs_bare": ratio,
                                # CPU of the server process per event, median of the repeats
                                "market_cpu_us_per_event": statistics.median(
                                    pair[1]["server_cpu_us_per_event"] for pair in pairs
                                ),
                                "bare_grpc_cpu_us_per_event": statistics.median(
                                    pair[2]["server_cpu_us_per_event"] for pair in pairs
                                ),
                                "load_average_1m": load,
                                "ratios_of_repeats": [round(pair[0], 3) for pair in pairs],
                                "load_averages_of_repeats": [round(pair[3], 2) for pair in pairs],
                            }
                        )
                finally:
                    bare.terminate()
                    bare.wait()
            peak = _peak_rss_mib(market.pid)
        finally:
            market.terminate()
            market.wait(timeout=60)
    return {
        "head_seq": clock.head_seq,
        "batch_size": batch_size,
        "rows": rows,
        "market_peak_rss_mib": peak,
        "market_exit_code": market.returncode,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--days", type=int, default=1000, help="business days to simulate (default 1000)")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument(
        "--repeats", type=int, default=3, help="market streaming: runs of each row, the median is kept"
    )
    parser.add_argument(
        "--only",
        choices=("market", "ledger", "recon", "reporting", "edge", "suite", "latency"),
        help="run one section (default: all of them)",
    )
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results.json")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="every section small (under 3 minutes in all, for a look before a change lands); its"
        " figures are noisier and are not the ones bench/README.md reports",
    )
    ledger.add_arguments(parser)
    reporting_report.add_arguments(parser)
    suite.add_arguments(parser)
    latency.add_arguments(parser)
    parser.add_argument(
        "--recon-sizes", type=int, nargs="+", default=list(recon.SIZES), help="positions per side"
    )
    parser.add_argument(
        "--recon-repeat", type=int, default=5, help="runs per recon figure (the best is kept)"
    )
    args = parser.parse_args()
    if args.quick:
        _make_quick(parser, args)

    # A section run alone keeps the other section's last results.
    results: dict[str, object] = json.loads(args.out.read_text()) if args.out.exists() else {}
    if args.only in (None, "market"):
        results.update(bench_market(args))
    if args.only in (None, "ledger"):
        # --ledger-parts may run some of the ledger's figures: the others keep their last results.
        previous = results.get("ledger")
        previous = previous if isinstance(previous, dict) else {}
        fresh = ledger.main_section(args)
        results["ledger"] = {
            **previous,
            **fresh,
            "runs": {**previous.get("runs", {}), **fresh["runs"]},  # type: ignore[dict-item]
            "machine": _machine(),
        }
    if args.only in (None, "recon"):
        # The matcher against pandas (bench/recon.py); the score against market's ground truth
        # is its own command, `python -m bench.recon_truth` (bench/recon_truth.json).
        results["recon"] = recon.main_section(
            argparse.Namespace(no_readme=True, recon_sizes=args.recon_sizes, recon_repeat=args.recon_repeat)
        )
    if args.only in (None, "reporting"):
        # The figures measured before the running sums (bench/README.md) stay beside the new ones.
        previous = results.get("reporting")
        before = previous.get("before_running_sums") if isinstance(previous, dict) else None
        results["reporting"] = {**reporting_report.main_section(args), "before_running_sums": before}
    if args.only in (None, "edge"):
        results["edge"] = {**edge.main_section(args), "machine": _machine()}
    if args.only in (None, "suite"):
        results["suite"] = {
            **suite.main_section(args),
            "floor": follower_floor.main_section(args),
            "machine": _machine(),
        }
    if args.only in (None, "latency"):
        results["latency"] = {**latency.main_section(args), "machine": _machine()}
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"results written to {args.out}")


# What --quick changes, where the option was left at its default: each section measured once, on a
# few weeks of simulation or a few thousand rows instead of years and millions.
QUICK = {
    "days": 60,
    "repeats": 1,
    "ledger_postings": "30000",
    "ledger_load_budget": 15.0,
    "ledger_days": 20,
    "ledger_repeats": 1,
    "ledger_calls": 100,
    "reporting_days": 100,
    "reporting_holdings": 40,
    "reporting_calls": 20,
    "reporting_repeat": 1,
    "recon_sizes": [10_000],
    "recon_repeat": 1,
    "suite_days": 15,
    "latency_days": 30,
}


def _make_quick(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    for name, small in QUICK.items():
        if getattr(args, name) == parser.get_default(name):
            setattr(args, name, small)


def _machine() -> dict[str, object]:
    return {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()}


def bench_market(args: argparse.Namespace) -> dict[str, object]:
    print(f"simulation: {args.days} business days from {START}, seed {SEED} ...", flush=True)
    simulation = bench_simulation(args.days)
    print(
        f"  pure simulation       {simulation['pure_days_per_s']:8.1f} business days/s"
        f"  ({simulation['events_per_day']:.0f} events/day)\n"
        f"  whole market path     {simulation['market_path_days_per_s']:8.1f} business days/s"
        f"  = {simulation['market_path_vs_pure']:.2f} x the pure simulation"
        f"  ({simulation['market_path_events_per_s']:,.0f} events/s into the log)"
        f"  load average {simulation['load_average_1m']:.2f}"
    )
    print("streaming: market vs a bare grpc.aio stream of the same batch bytes ...", flush=True)
    streaming = bench_streaming(args.days, args.batch_size, args.repeats)
    for row in streaming["rows"]:  # type: ignore[union-attr]
        print(
            f"  {row['scenario']:<20} {row['subscribers']} subscriber(s): market {row['market_events_per_s']:12,.0f} events/s"
            f"   bare grpc {row['bare_grpc_events_per_s']:12,.0f} events/s"
            f"   ratio {row['market_vs_bare']:.2f} (median of {row['ratios_of_repeats']},"
            f" load {row['load_averages_of_repeats']})\n"
            f"  {'':<20} server CPU per event: market {row['market_cpu_us_per_event']:.2f} us,"
            f" bare grpc {row['bare_grpc_cpu_us_per_event']:.2f} us"
        )
    print(
        f"  market peak RSS {streaming['market_peak_rss_mib']:.0f} MiB over {streaming['head_seq']:,} events"
    )
    return {
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": _machine(),
        "simulation": simulation,
        "streaming": streaming,
    }


if __name__ == "__main__":
    main()
