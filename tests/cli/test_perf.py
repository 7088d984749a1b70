"""`opsuite perf returns` on a user's CSV, as a person runs it: the published examples come back,
and a bad file gets one line naming the row and the problem (exit 2), never a traceback."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.cli.conftest import run_opsuite
from tests.support.processes import ROOT

# The CFA Institute's quarters (31.85 % time-weighted; see tests/reporting/domain/test_returns.py).
CFA = """date,kind,amount
2023-12-31,value,2.0
2023-12-31,flow,0.2
2024-03-31,value,2.4
2024-03-31,flow,0.4
2024-06-30,value,2.6
2024-06-30,flow,-0.2
2024-09-30,value,3.2
2024-09-30,flow,1.0
2024-12-31,value,4.1
"""

# Microsoft's XIRR example as a portfolio: valued 10,000, three withdrawals, valued 2,750 (37.34 %).
XIRR = """date,kind,amount
2008-01-01,value,10000
2008-03-01,flow,-2750
2008-10-30,flow,-4250
2009-02-15,flow,-3250
2009-04-01,value,2750
"""


def _file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "fund.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_published_examples_come_back_as_json_and_as_a_table(tmp_path: Path) -> None:
    result = run_opsuite("perf", "returns", "--input", str(_file(tmp_path, CFA)), "--json", env={})
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout)
    assert set(figures) == {"time_weighted", "modified_dietz", "money_weighted"}
    assert figures["time_weighted"] == pytest.approx(0.3185, abs=5e-5)

    result = run_opsuite("perf", "returns", "--input", str(_file(tmp_path, XIRR)), "--json", env={})
    assert json.loads(result.stdout)["money_weighted"] == pytest.approx(0.373362535, abs=1e-8)

    table = run_opsuite("perf", "returns", "--input", str(_file(tmp_path, CFA)), env={})
    assert table.returncode == 0, table.stderr
    assert "time-weighted" in table.stdout and "31.8491 %" in table.stdout


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "is empty: its first line must be date,kind,amount"),
        ("day,kind,amount\n", "line 1: the header must be date,kind,amount, not day,kind,amount"),
        (
            "date,kind,amount\n2024-01-01,value,1\n2024-13-01,value,2\n",
            "line 3: date '2024-13-01' is not a date",
        ),
        (
            "date,kind,amount\n2024-01-01,value,1\n2024-02-01,valeu,2\n",
            "line 3: kind 'valeu' is neither value nor flow",
        ),
        (
            "date,kind,amount\n2024-01-01,value,1\n2024-02-01,value,1.2.3\n",
            "line 3: amount '1.2.3' is not a number",
        ),
        ("date,kind,amount\n2024-01-01,value,1\n2024-02-01,value\n", "line 3: 2 values where 3 are expected"),
        (
            "date,kind,amount\n2024-02-01,value,1\n2024-01-01,value,2\n",
            "line 3: value rows must have rising dates",
        ),
        ("date,kind,amount\n2024-01-01,value,1\n", "a return needs at least two valuations"),
    ],
)
def test_a_bad_file_is_one_line_naming_the_row(tmp_path: Path, text: str, message: str) -> None:
    result = run_opsuite("perf", "returns", "--input", str(_file(tmp_path, text)), env={})
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("opsuite perf returns: "), result.stderr
    assert message in lines[0], lines[0]


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    result = run_opsuite("perf", "returns", "--input", str(tmp_path / "nope.csv"), env={})
    assert result.returncode == 2
    assert result.stderr.strip().startswith(f"opsuite perf returns: cannot read {tmp_path / 'nope.csv'}")


def _attribution(tmp_path: Path, text: str, *flags: str) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "segments.csv"
    path.write_text(text, encoding="utf-8")
    return run_opsuite("perf", "attribution", "--input", str(path), *flags, env={})


def test_attribution_of_the_finfacts_case_and_one_period_linked_to_itself(tmp_path: Path) -> None:
    text = (ROOT / "examples" / "finfacts-brinson.csv").read_text()
    result = _attribution(tmp_path, text, "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    (period,) = report["periods"]
    bp = {
        s["segment"]: [round(s[k] * 10_000, 1) for k in ("allocation", "selection", "interaction")]
        for s in period["segments"]
    }
    # finfacts' published figures, in basis points (tests/reporting/domain/test_attribution.py).
    assert bp == {
        "Government": [3.8, 12.0, -1.5],
        "Credit": [6.2, 17.5, 3.5],
        "Mortgages": [-2.2, 4.0, -1.0],
        "High Yield": [12.2, 7.5, 7.5],
        "Cash": [0.0, 1.0, 0.0],
    }
    assert report["linked"]["active_return"] == pytest.approx(0.00705, abs=1e-12)
    for mine, its in zip(report["linked"]["segments"], period["segments"], strict=True):
        assert mine["segment"] == its["segment"]
        for key in ("allocation", "selection", "interaction"):
            assert mine[key] == pytest.approx(its[key], abs=1e-15)
    table = _attribution(tmp_path, text)
    assert table.returncode == 0, table.stderr
    assert "70.5" in table.stdout and "Brinson-Fachler" in table.stdout


def test_two_periods_linked_by_grap_from_a_file(tmp_path: Path) -> None:
    # The hand-worked pair of tests/reporting/domain/test_attribution.py: GRAP gives A 5.05 % and
    # B -3.30 % of a 1.75 % active return.
    text = (
        "period,segment,portfolio_weight,portfolio_return,benchmark_weight,benchmark_return\n"
        "P1,A,0.5,0.20,0.5,0.10\nP1,B,0.5,0,0.5,0\nP2,A,0.5,0.02,0.5,0.02\nP2,B,0.5,-0.06,0.5,0\n"
    )
    report = json.loads(_attribution(tmp_path, text, "--linking", "grap", "--json").stdout)
    totals = {
        s["segment"]: s["allocation"] + s["selection"] + s["interaction"]
        for s in report["linked"]["segments"]
    }
    assert totals == pytest.approx({"A": 0.0505, "B": -0.0330}, abs=1e-12)
    assert report["linked"]["active_return"] == pytest.approx(0.0175, abs=1e-12)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("period,segment\n", "line 1: the header must be period,segment,portfolio_weight"),
        (
            "period,segment,portfolio_weight,portfolio_return,benchmark_weight,benchmark_return\nQ1,A,x,0,1,0\n",
            "line 2: portfolio_weight 'x' is not a number",
        ),
        (
            "period,segment,portfolio_weight,portfolio_return,benchmark_weight,benchmark_return\nQ1,A,0.9,0,1,0\n",
            "(period starting line 2): period 'Q1': the portfolio weights sum to 0.9, not 1",
        ),
        (
            "period,segment,portfolio_weight,portfolio_return,benchmark_weight,benchmark_return\n",
            "no rows after the header",
        ),
    ],
)
def test_a_bad_attribution_file_is_one_line(tmp_path: Path, text: str, message: str) -> None:
    result = _attribution(tmp_path, text)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("opsuite perf attribution: "), result.stderr
    assert message in lines[0], lines[0]
