"""`opsuite perf returns` on a user's CSV, as a person runs it: the published examples come back,
and a bad file gets one line naming the row and the problem (exit 2), never a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.conftest import run_opsuite

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
