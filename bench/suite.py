"""The whole suite at full speed: does every follower keep up with market, and what each process costs.

`python -m bench --only suite` (or `python -m bench.suite [--days N] [--start DATE]`) runs
`opsuite up --speed max --no-view` as a person would (seed 7; 250 business days from 2019-01-02 by
default; documents without its embedding model, which only Ask and IngestPolicy use), and watches it
from outside, as an operator would:

- market's own time for the year: from the first event it published to the end of its clock
  (GetClock polled every 50 ms, so each end is known to 50 ms);
- each follower (ledger, dq, recon, reporting, documents): when it had applied market's last event
  (GetStatus's applied_seq), both from market's first event (what a person waiting for the suite
  sees) and from its own process start (its pace, start-up included);
- each process's resident memory sampled every half second (peak, end, and at each quarter of the
  run, to see whether it keeps growing) and its CPU time at the end (/proc, Linux only).

The aim (issue 17) is the whole suite caught up within twice market's own time: market's time /
the last follower's time from market's first event at least 0.5.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import grpc
import httpx

from opsuite.common.v1 import status_pb2, status_pb2_grpc
from opsuite.market.v1 import market_pb2, market_pb2_grpc
from services.cli.registry import MARKET_FOLLOWERS, free_port
from services.common.settings import EDGE, SERVICES

ROOT = Path(__file__).resolve().parent.parent
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class Process:
    name: str
    pid: int
    started_at: float  # time.time() of the process's start, from /proc
    rss_samples: list[tuple[float, float]] = field(default_factory=list)  # (seconds since start, MiB)


def _boot_time() -> float:
    for line in Path("/proc/stat").read_text().splitlines():
        if line.startswith("btime "):
            return float(line.split()[1])
    raise RuntimeError("no btime in /proc/stat")


def _stat_fields(pid: int) -> list[str]:
    raw = Path(f"/proc/{pid}/stat").read_text()
    return raw[raw.rindex(")") + 2 :].split()  # the fields after the command name, from field 3 on


def _children(parent: int) -> list[tuple[int, str]]:
    """(pid, service name) of each `python -m services.<name>` whose parent is `parent`.

    A child just forked and not yet exec'd still has the supervisor's own command line (`python -m
    services.cli up`): it is skipped, not taken for a service named "cli" that then shares the pid of
    the service it becomes."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if int(_stat_fields(int(entry.name))[1]) != parent:
                continue
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except (OSError, ValueError, IndexError):
            continue
        for i, arg in enumerate(argv[:-1]):
            name = argv[i + 1].decode(errors="replace").removeprefix("services.")
            if arg == b"-m" and name in (*SERVICES, EDGE):
                found.append((int(entry.name), name))
    return found


def _status_mib(pid: int, key: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _cpu_seconds(pid: int) -> float:
    fields = _stat_fields(pid)
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime + stime


class Sampler(threading.Thread):
    """Finds the suite's processes and samples their resident memory every half second."""

    def __init__(self, supervisor: int):
        super().__init__(daemon=True)
        self.supervisor = supervisor
        self.processes: dict[str, Process] = {}
        self.stopping = threading.Event()
        self.boot = _boot_time()

    def run(self) -> None:
        while not self.stopping.wait(0.5):
            for pid, name in _children(self.supervisor):
                if name not in self.processes or self.processes[name].pid != pid:
                    start = self.boot + int(_stat_fields(pid)[19]) / CLOCK_TICKS
                    self.processes[name] = Process(name, pid, start)
            for process in self.processes.values():
                try:
                    rss = _status_mib(process.pid, "VmRSS")
                except OSError:
                    continue
                process.rss_samples.append((time.time() - process.started_at, rss))

    def final(self) -> dict[str, dict[str, object]]:
        """Peak and end RSS, RSS at each quarter of the process's samples, CPU seconds: per service."""
        result: dict[str, dict[str, object]] = {}
        for name, process in sorted(self.processes.items()):
            samples = [rss for _, rss in process.rss_samples]
            quarters = [samples[min(len(samples) - 1, len(samples) * q // 4)] for q in (1, 2, 3, 4)]
            result[name] = {
                "pid": process.pid,
                "peak_rss_mib": _status_mib(process.pid, "VmHWM"),
                "end_rss_mib": _status_mib(process.pid, "VmRSS"),
                "rss_at_quarters_mib": quarters,
                "cpu_s": _cpu_seconds(process.pid),
            }
        return result


def _clock(address: str) -> market_pb2.Clock | None:
    try:
        with grpc.insecure_channel(address) as channel:
            return market_pb2_grpc.MarketServiceStub(channel).GetClock(
                market_pb2.GetClockRequest(), timeout=2
            )
    except grpc.RpcError:
        return None


def _applied(address: str) -> int:
    try:
        with grpc.insecure_channel(address) as channel:
            status = status_pb2_grpc.StatusServiceStub(channel).GetStatus(
                status_pb2.GetStatusRequest(), timeout=2
            )
    except grpc.RpcError:
        return 0
    return int(status.applied_seq)


def _edge_ready(address: str) -> bool:
    try:
        return httpx.get(f"http://{address}/readyz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def run_suite(days: int, start: dt.date, timeout_s: float = 1800) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp)
        addresses = {name: f"127.0.0.1:{free_port('127.0.0.1')}" for name in (*SERVICES, EDGE)}
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("OPSUITE_", "OTEL_"))},
            "OPSUITE_DATA_DIR": str(data_dir),
            "OPSUITE_DOCUMENTS_USE_MODEL": "false",
            **{f"OPSUITE_{name.upper()}_ADDR": address for name, address in addresses.items()},
        }
        launched = time.time()
        supervisor = subprocess.Popen(
            [sys.executable, "-m", "services.cli", "up", "--speed", "max", "--seed", "7",
             "--start", start.isoformat(), "--days", str(days), "--no-view"],
            cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
            stdout=(data_dir / "supervisor.out").open("wb"), stderr=subprocess.STDOUT,
        )  # fmt: skip
        sampler = Sampler(supervisor.pid)
        sampler.start()
        first_event = market_done = None
        head = 0
        caught_up: dict[str, float] = {}
        deadline = time.monotonic() + timeout_s
        try:
            while len(caught_up) < len(MARKET_FOLLOWERS):
                if supervisor.poll() is not None:
                    raise RuntimeError(f"opsuite up exited:\n{(data_dir / 'supervisor.out').read_text()}")
                if time.monotonic() > deadline:
                    raise RuntimeError(f"not caught up within {timeout_s} s: {sorted(caught_up)}")
                now = time.time()
                if market_done is None and (clock := _clock(addresses["market"])) is not None:
                    if first_event is None and clock.head_seq > 0:
                        first_event = now
                    if clock.head_seq > 0 and not clock.running:
                        market_done, head = now, int(clock.head_seq)
                if market_done is not None:
                    for name in MARKET_FOLLOWERS:
                        if name not in caught_up and _applied(addresses[name]) >= head:
                            caught_up[name] = time.time()
                time.sleep(0.05)  # polling: the resolution of every figure here
            # The edge, started last, answers once every service it fronts serves: its memory counts too.
            while not _edge_ready(addresses[EDGE]):
                if time.monotonic() > deadline:
                    raise RuntimeError("the edge never became ready")
                time.sleep(0.1)  # opsuite up starts the edge after every service serves
            processes = sampler.final()
        finally:
            sampler.stopping.set()
            supervisor.send_signal(signal.SIGINT)
            supervisor.wait(timeout=120)
    assert first_event is not None and market_done is not None
    market_s = market_done - first_event
    followers = {
        name: {
            "from_market_first_event_s": at - first_event,
            "from_own_start_s": at - sampler.processes[name].started_at,
        }
        for name, at in caught_up.items()
    }
    last = max(at for at in caught_up.values())
    return {
        "days": days,
        "start": start.isoformat(),
        "events": head,
        "launch_to_first_event_s": first_event - launched,
        "market_s": market_s,
        "market_days_per_s": days / market_s,
        "suite_s": last - first_event,
        "suite_days_per_s": days / (last - first_event),
        "suite_vs_market": market_s / (last - first_event),
        "followers": followers,
        "processes": processes,
    }


def print_run(run: dict[str, object]) -> None:
    print(
        f"  market published {run['days']} business days ({run['events']:,} events) in {run['market_s']:.1f} s"
        f" ({run['market_days_per_s']:.0f} days/s); every follower caught up {run['suite_s']:.1f} s after"
        f" its first event ({run['suite_days_per_s']:.1f} days/s) = {run['suite_vs_market']:.2f} of market's pace"
    )
    for name, follower in run["followers"].items():  # type: ignore[attr-defined]
        print(
            f"    {name:<10} caught up {follower['from_market_first_event_s']:6.1f} s after market's first event,"
            f" {follower['from_own_start_s']:6.1f} s after its own start"
        )
    for name, process in run["processes"].items():  # type: ignore[attr-defined]
        quarters = " ".join(f"{q:.0f}" for q in process["rss_at_quarters_mib"])
        print(
            f"    {name:<10} RSS peak {process['peak_rss_mib']:6.0f} MiB, end {process['end_rss_mib']:6.0f} MiB"
            f" (quarters {quarters}), CPU {process['cpu_s']:6.1f} s"
        )


def main_section(args: argparse.Namespace) -> dict[str, object]:
    days = getattr(args, "suite_days", 250)
    start = dt.date.fromisoformat(getattr(args, "suite_start", "2019-01-02"))
    print(f"suite: opsuite up --speed max, {days} business days from {start} (seed 7) ...", flush=True)
    run = run_suite(days, start)
    print_run(run)
    return {
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "load_average": os.getloadavg(),
        **run,
    }


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("suite")
    group.add_argument("--suite-days", type=int, default=250, help="business days (250; 2520 for a decade)")
    group.add_argument("--suite-start", default="2019-01-02", help="first day (2019-01-02)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_arguments(parser)
    main_section(parser.parse_args())
