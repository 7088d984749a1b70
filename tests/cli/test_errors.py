"""Errors a person can act on, through the real entry points: `opsuite ...` and `python -m services.<name>`.

A bad environment variable is named with the value given and what it accepts, one line per
variable, with no traceback; a start date on a holiday rolls to the next business day and says
so; a run longer than the data says how much of it will be simulated; a start outside the data
names the data's first and last business days.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.support.processes import ROOT

SPEED_REFUSED = "OPSUITE_SPEED='fast': give business days per second (a positive number) or 'max'"
DAYS_REFUSED = "OPSUITE_DAYS='-1': give a whole number of business days, 0 or more (0: no end, or the end of the real data at max speed)"


def _environment(home: Path, env: dict[str, str]) -> dict[str, str]:
    """This process's environment without the person's OPSUITE_/OTEL_ settings, a private HOME, and `env`."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("OPSUITE_", "OTEL_"))}
    return {**base, "HOME": str(home), "FRED_API_KEY": "", **env}


def opsuite(home: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "services.cli", *args],
        cwd=ROOT,
        env=_environment(home, env or {}),
        capture_output=True,
        text=True,
        timeout=120,
    )


def service(home: Path, name: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`python -m services.<name>`, as opsuite up and a cluster start it; it must exit at once here."""
    return subprocess.run(
        [sys.executable, "-m", f"services.{name}"],
        cwd=ROOT,
        env=_environment(home, {"OPSUITE_DATA_DIR": str(home / "data"), **env}),
        capture_output=True,
        text=True,
        timeout=120,
    )


def _no_traceback(stderr: str) -> None:
    assert "Traceback" not in stderr and "pydantic" not in stderr.lower(), stderr


# ---------------------------------------------------------------- bad environment variables


def test_a_bad_variable_is_named_with_the_value_and_what_it_accepts(tmp_path: Path) -> None:
    out = tmp_path / "events.jsonl"
    result = opsuite(tmp_path, "simulate", "--days", "1", "--out", str(out), env={"OPSUITE_SPEED": "fast"})
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("opsuite: "), result.stderr
    assert SPEED_REFUSED in result.stderr
    _no_traceback(result.stderr)
    assert not out.exists()  # refused before anything was written


def test_every_bad_variable_is_named_at_once(tmp_path: Path) -> None:
    result = opsuite(tmp_path, "simulate", "--days", "1", env={"OPSUITE_SPEED": "fast", "OPSUITE_DAYS": "-1"})
    assert result.returncode == 2, result.stderr
    assert SPEED_REFUSED in result.stderr and DAYS_REFUSED in result.stderr
    _no_traceback(result.stderr)


def test_every_command_refuses_a_bad_variable_of_any_service(tmp_path: Path) -> None:
    # status reads no speed itself, but the suite it reports on would refuse to start with it.
    result = opsuite(tmp_path, "status", "--timeout", "0.5", env={"OPSUITE_SPEED": "fast"})
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.splitlines() == [f"opsuite: {SPEED_REFUSED}"]
    assert result.stdout == ""


def test_up_refuses_a_bad_variable_before_starting_anything(tmp_path: Path) -> None:
    result = opsuite(tmp_path, "up", "--no-view", "--data-dir", str(tmp_path), env={"OPSUITE_SPEED": "fast"})
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.splitlines() == [f"opsuite: {SPEED_REFUSED}"]
    assert not (tmp_path / "logs").exists()


def test_status_refuses_a_bad_variable_it_reads(tmp_path: Path) -> None:
    result = opsuite(tmp_path, "status", "--timeout", "0.5", env={"OPSUITE_LOG_LEVEL": "loud"})
    assert result.returncode == 2, result.stdout + result.stderr
    assert "opsuite: OPSUITE_LOG_LEVEL='loud': give DEBUG, INFO, WARNING, ERROR or CRITICAL" in result.stderr
    _no_traceback(result.stderr)


def test_a_service_names_the_bad_variable_on_stderr_and_exits_2(tmp_path: Path) -> None:
    result = service(tmp_path, "market", {"OPSUITE_SPEED": "fast", "OPSUITE_DAYS": "-1"})
    assert result.returncode == 2, result.stderr
    lines = result.stderr.splitlines()
    assert f"market: {SPEED_REFUSED}" in lines and f"market: {DAYS_REFUSED}" in lines
    # The same reason is in the service's log (JSON lines), for whoever reads the logs instead.
    logged = [json.loads(line) for line in lines if line.startswith("{")]
    assert any(SPEED_REFUSED in entry.get("error", "") for entry in logged), result.stderr
    _no_traceback(result.stderr)


def test_recon_names_its_own_bad_variable(tmp_path: Path) -> None:
    result = service(tmp_path, "recon", {"OPSUITE_RECON_USE_LEDGER": "maybe"})
    assert result.returncode == 2, result.stderr
    assert "recon: OPSUITE_RECON_USE_LEDGER='maybe': give true or false" in result.stderr.splitlines()
    _no_traceback(result.stderr)


# ---------------------------------------------------------------- start dates and run lengths


def _dates(path: Path) -> list[str]:
    """The simulated date of each event written (sim_time's date part)."""
    return [json.loads(line)["envelope"]["sim_time"][:10] for line in path.read_text().splitlines()]


def test_a_holiday_start_rolls_to_the_next_business_day_and_says_so(tmp_path: Path) -> None:
    out = tmp_path / "2008.jsonl"
    # The README's own example: 1 September 2008 was Labor Day.
    result = opsuite(
        tmp_path, "simulate", "--seed", "7", "--start", "2008-09-01", "--days", "3", "--out", str(out)
    )
    assert result.returncode == 0, result.stderr
    assert (
        "opsuite simulate: 2008-09-01 is not a business day (a weekend or a market holiday), "
        "so the run starts on the next one, 2008-09-02"
    ) in result.stderr
    assert "for 3 business days (seed 7, from 2008-09-02)" in result.stderr
    dates = _dates(out)
    assert dates[0] == "2008-09-02" and sorted(set(dates)) == ["2008-09-02", "2008-09-03", "2008-09-04"]


def test_more_days_than_the_data_holds_go_on_synthetic_days_and_say_so(tmp_path: Path) -> None:
    out = tmp_path / "end.jsonl"
    result = opsuite(tmp_path, "simulate", "--start", "2020-12-30", "--days", "60", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert (
        "opsuite simulate: the real data ends on 2021-01-04, so the last 57 of the 60 business days "
        "are synthetic, drawn in blocks from the real history"
    ) in result.stderr
    assert "for 60 business days" in result.stderr
    dates = sorted(set(_dates(out)))
    assert len(dates) == 60 and dates[:4] == ["2020-12-30", "2020-12-31", "2021-01-04", "2021-01-05"]
    assert "2021-01-18" not in dates  # Martin Luther King Day: the NYSE is closed


def test_a_start_outside_the_data_names_its_first_and_last_business_days(tmp_path: Path) -> None:
    out = tmp_path / "none.jsonl"
    for start in ("1980-01-01", "2021-01-05"):
        result = opsuite(tmp_path, "simulate", "--start", start, "--days", "3", "--out", str(out))
        assert result.returncode == 2, result.stderr
        assert result.stderr.strip() == (
            f"opsuite simulate: start {start} is outside the FRED data, whose business days run from "
            "1999-01-04 to 2021-01-04: pick a start between them"
        )
        assert not out.exists()


def test_market_refuses_a_start_outside_the_data_in_the_same_words(tmp_path: Path) -> None:
    result = service(
        tmp_path, "market", {"OPSUITE_START": "1980-01-01", "OPSUITE_MARKET_ADDR": "127.0.0.1:0"}
    )
    assert result.returncode == 2, result.stderr
    assert (
        "start 1980-01-01 is outside the FRED data, whose business days run from 1999-01-04 to "
        "2021-01-04: pick a start between them"
    ) in result.stderr
    _no_traceback(result.stderr)
