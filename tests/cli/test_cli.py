"""The opsuite command as a user runs it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from services.cli.registry import available_services, free_port
from services.common.settings import SERVICES
from tests.support.processes import ROOT


def opsuite(*args: str, env: dict[str, str], timeout: float = 180) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("OPSUITE_", "OTEL_"))}
    return subprocess.run(
        [sys.executable, "-m", "services.cli", *args],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_only_built_services_are_started_each_after_what_it_reads() -> None:
    # dq reads only market; recon and reporting read the ledger too, so they start after it;
    # documents raises breaks in recon, so it starts last.
    assert available_services() == ["market", "ledger", "dq", "recon", "reporting", "documents"]


def test_up_starts_serves_and_stops_cleanly(tmp_path: Path) -> None:
    result = opsuite(
        "up", "--speed", "max", "--days", "15", "--seed", "3", "--start", "2020-03-02",
        "--data-dir", str(tmp_path), "--no-view", "--for-seconds", "4",
        # documents without its model: the README's `opsuite up` examples start it with the model.
        env={**{f"OPSUITE_{name.upper()}_ADDR": "127.0.0.1:0" for name in (*SERVICES, "edge")}, "OPSUITE_SHUTDOWN_GRACE_S": "5", "OPSUITE_DOCUMENTS_USE_MODEL": "false"},
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "market" in result.stdout and "serving on 127.0.0.1:" in result.stdout
    for name in available_services():
        assert f"stopped {name} (exit code 0)" in result.stdout
    # The plain view printed the simulated date and the stream's progress.
    assert "2020-03" in result.stdout and "seq=" in result.stdout
    assert (tmp_path / "logs" / "market.log").read_text().count('"listening"') == 1


def test_status_reports_unreachable_services(tmp_path: Path) -> None:
    port = free_port("127.0.0.1")
    result = opsuite("status", "--timeout", "0.5", env={"OPSUITE_MARKET_ADDR": f"127.0.0.1:{port}"})
    assert result.returncode == 1
    assert "market" in result.stdout and "UNREACHABLE" in result.stdout


def test_bad_arguments_are_explained(tmp_path: Path) -> None:
    result = opsuite("up", "--speed", "fast", env={})
    assert result.returncode == 2
    assert "'max'" in result.stderr
    result = opsuite("simulate", "--start", "1980-01-01", "--days", "3", env={"HOME": str(tmp_path)})
    assert result.returncode == 2
    assert "1999" in result.stderr  # names the range the data covers


def test_up_refuses_a_start_outside_the_data_before_starting_anything(tmp_path: Path) -> None:
    result = opsuite(
        "up", "--start", "1980-01-02", "--data-dir", str(tmp_path), "--no-view",
        env={f"OPSUITE_{name.upper()}_ADDR": "127.0.0.1:0" for name in (*SERVICES, "edge")},
    )  # fmt: skip
    assert result.returncode == 2
    assert result.stdout.strip().splitlines() == [
        "opsuite up: start 1980-01-02 is outside the FRED data, whose business days run from "
        "1999-01-04 to 2021-01-04: pick a start between them"
    ]
    assert not (tmp_path / "logs").exists()


def test_up_rolls_a_holiday_start_and_says_where_the_synthetic_days_begin(tmp_path: Path) -> None:
    result = opsuite(
        "up", "--start", "2020-12-25", "--days", "10", "--speed", "max", "--data-dir", str(tmp_path),
        "--no-view", "--for-seconds", "0",
        # Only the start-up messages matter here; documents' model would only take CPU.
        env={**{f"OPSUITE_{name.upper()}_ADDR": "127.0.0.1:0" for name in (*SERVICES, "edge")}, "OPSUITE_DOCUMENTS_USE_MODEL": "false"},
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    # 2020-12-25 is Christmas; the snapshot ends on 2021-01-04: 12-28, 12-29, 12-30, 12-31 and 01-04
    # (1 January is a holiday) are 5 real business days, the other 5 synthetic.
    assert lines[0] == (
        "2020-12-25 is not a business day (a weekend or a market holiday), so the run starts on the "
        "next one, 2020-12-28"
    )
    assert lines[1] == (
        "the real data ends on 2021-01-04, so the last 5 of the 10 business days are synthetic, drawn "
        "in blocks from the real history"
    )
