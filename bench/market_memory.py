"""Market's resident memory over a long run: `python -m bench.market_memory [--years 20]`.

A real market process (`python -m services.market`) simulates `--years` x 252 business days at full
speed from `--start`, past the end of the real data onto synthetic days, writing every event to its
SQLite event log with `--retention-events` kept. The bench polls GetClock and reads the process's
resident memory (VmRSS in /proc/<pid>/status) at every 126th business day, and prints each sample
beside the baseline measured in the same run: the resident memory at the end of the warm-up, the
first WARM_UP_YEARS simulated years, in which market's bounded windows fill (the in-memory tail of
8,192 events, 30 day ends in memory, the 3,000 most recent confirmations, the trace roots of the
last 10,000 events of fills' traces). Flat means every later sample stays near that baseline; the
peak is the process's VmHWM. Results go to bench/market_memory.json; bench/README.md discusses them.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import tempfile
import time
from pathlib import Path

import grpc

from bench.market_process import start_market
from opsuite.market.v1 import market_pb2, market_pb2_grpc

ROOT = Path(__file__).resolve().parent.parent
DAYS_PER_YEAR = 252
SAMPLE_EVERY_DAYS = 126
WARM_UP_YEARS = 3


def _rss_mib(pid: int, field: str = "VmRSS") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} for pid {pid}")


def run(args: argparse.Namespace) -> dict[str, object]:
    samples: list[dict[str, object]] = []
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        market, address = start_market(
            Path(tmp),
            {
                "OPSUITE_DAYS": str(args.years * DAYS_PER_YEAR),
                "OPSUITE_SEED": str(args.seed),
                "OPSUITE_START": args.start.isoformat(),
                "OPSUITE_RETENTION_EVENTS": str(args.retention_events),
            },
        )
        try:
            with grpc.insecure_channel(address) as channel:
                stub = market_pb2_grpc.MarketServiceStub(channel)
                next_sample = SAMPLE_EVERY_DAYS
                while True:
                    try:
                        clock = stub.GetClock(market_pb2.GetClockRequest(), timeout=30)
                    except grpc.RpcError as error:
                        if error.code() != grpc.StatusCode.UNAVAILABLE:  # restoring: not serving yet
                            raise
                        time.sleep(0.05)
                        continue
                    days = clock.business_days_elapsed
                    if days >= next_sample or not clock.running:
                        sample = {
                            "days": days,
                            "sim_date": f"{clock.sim_date.year:04d}-{clock.sim_date.month:02d}-{clock.sim_date.day:02d}",
                            "synthetic": clock.synthetic.replayed.year > 0,
                            "head_seq": clock.head_seq,
                            "oldest_seq": clock.oldest_seq,
                            "rss_mib": round(_rss_mib(market.pid), 1),
                            "elapsed_s": round(time.monotonic() - started, 1),
                        }
                        samples.append(sample)
                        print(
                            f"  {sample['sim_date']} day {days:5d} {'synthetic' if sample['synthetic'] else 'real     '}"
                            f" events {clock.head_seq:>10,} retained from {clock.oldest_seq:>9,}"
                            f"  RSS {sample['rss_mib']:7.1f} MiB",
                            flush=True,
                        )
                        next_sample = (days // SAMPLE_EVERY_DAYS + 1) * SAMPLE_EVERY_DAYS
                        if not clock.running:
                            break
                    time.sleep(0.05)  # a poll of the clock while the simulation runs
            peak = _rss_mib(market.pid, "VmHWM")
        finally:
            market.terminate()
            market.wait(timeout=60)
    # A run shorter than the warm-up (a quick try) measures against its own last sample.
    warm = min(WARM_UP_YEARS * DAYS_PER_YEAR, int(samples[-1]["days"]))  # type: ignore[call-overload]
    baseline = next(s for s in samples if int(s["days"]) >= warm)  # type: ignore[call-overload]
    after = [s for s in samples if int(s["days"]) >= warm]  # type: ignore[call-overload]
    last = samples[-1]
    return {
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "start": args.start.isoformat(),
        "years": args.years,
        "seed": args.seed,
        "retention_events": args.retention_events,
        "baseline_rss_mib": baseline["rss_mib"],
        "max_after_warm_up_mib": max(float(s["rss_mib"]) for s in after),  # type: ignore[arg-type]
        "last_vs_baseline": round(float(last["rss_mib"]) / float(baseline["rss_mib"]), 3),  # type: ignore[arg-type]
        "peak_rss_mib": round(peak, 1),
        "elapsed_s": last["elapsed_s"],
        "samples": samples,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--years", type=int, default=20, help="simulated years of 252 business days (default 20)"
    )
    parser.add_argument("--start", type=dt.date.fromisoformat, default=dt.date(2007, 1, 3))
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--retention-events", type=int, default=200_000)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "market_memory.json")
    args = parser.parse_args()
    print(
        f"market memory: {args.years} years from {args.start}, seed {args.seed}, full speed ...", flush=True
    )
    result = run(args)
    print(
        f"baseline (end of the {WARM_UP_YEARS}-year warm-up) {result['baseline_rss_mib']} MiB; highest after it "
        f"{result['max_after_warm_up_mib']} MiB; last / baseline {result['last_vs_baseline']}; "
        f"peak {result['peak_rss_mib']} MiB; {result['elapsed_s']} s"
    )
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"results written to {args.out}")


if __name__ == "__main__":
    main()
