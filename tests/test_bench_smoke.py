"""The benchmarks still run: each through its own command in its quick mode. Their figures are not
asserted (speed is measured, not asserted); what is asserted is what each bench checks itself: that
the baseline it times agrees with the project's answer (pandas with reporting to 1e-9, pandas and
the vectorised backfill with dq's per-event checks), or it stops with an error."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.processes import ROOT


def _bench(*args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=240, check=False
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


@pytest.mark.slow
def test_the_reporting_bench_runs_and_pandas_agrees() -> None:
    out = _bench(
        "bench.reporting_report",
        "--reporting-days",
        "120",
        "--reporting-holdings",
        "40",
        "--reporting-calls",
        "5",
    )
    assert "figures agree to 1e-09" in out


@pytest.mark.slow
def test_the_dq_bench_runs_and_every_path_raises_the_same_issues(tmp_path: Path) -> None:
    out = _bench("bench.dq_checks", "--quick", "--json", str(tmp_path / "dq_checks.json"))
    assert "per event only 0, pandas only 0" in out
    assert (tmp_path / "dq_checks.json").exists()


@pytest.mark.slow
def test_make_bench_quick_makes_a_section_small(tmp_path: Path) -> None:
    """`make bench ARGS=--quick` (bench/__main__.py QUICK): the recon section on 10,000 positions a
    side, once, instead of up to a million, five times; its figures go to --out."""
    out = _bench("bench", "--quick", "--only", "recon", "--out", str(tmp_path / "results.json"))
    assert "10,000 positions/side" in out and "100,000 positions/side" not in out
    recon = json.loads((tmp_path / "results.json").read_text())["recon"]
    assert recon["repeat"] == 1


@pytest.mark.slow
def test_the_followers_floor_reads_every_followers_events() -> None:
    """bench.follower_floor: market alone for a week, then a bare follower of each service reading its
    subscription to market's last event (each child waits for it, or the bench fails)."""
    out = _bench("bench.follower_floor", "--suite-days", "5")
    for name in ("ledger", "dq", "recon", "reporting", "documents"):
        line = next(line for line in out.splitlines() if line.strip().startswith(name))
        assert "reading and decoding its" in line
    # The ratio to the budget is a timing (none at all when a week is over within a poll): not checked.
    assert "  the five: start-up" in out
