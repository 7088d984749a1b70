"""Every `opsuite` example of the README runs as written.

The examples are read from the README's "What runs" section (its blocks of `sh`). Each runs in a
subprocess from a scratch directory with `.venv/bin/` taken as this interpreter's; the commands that
read a suite are pointed at the shared finished suite by its OPSUITE_*_ADDR variables (the README's
defaults are the same variables unset). `BRK-...` stands for a break id and `dq-...` for a dq issue
id (the README says so); each becomes a real one.
The two `opsuite up` examples start their own suites, serve, and are stopped with Ctrl-C's SIGINT.
"""

from __future__ import annotations

import shlex
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import grpc
import pytest

from opsuite.dq.v1 import dq_pb2, dq_pb2_grpc
from opsuite.recon.v1 import recon_pb2, recon_pb2_grpc
from tests.cli.conftest import RunningSuite, clean_environment
from tests.cli.up_support import Up, suite_env
from tests.support.processes import ROOT
from tests.support.waiting import wait_until

README = ROOT / "README.md"
BIN = Path(sys.executable).parent


def readme_examples() -> list[str]:
    section = README.read_text().split("## What runs", 1)[1].split("\n## ", 1)[0]
    blocks = [part.split("```", 1)[0] for part in section.split("```sh")[1:]]
    return [line for block in blocks for line in block.splitlines() if line.startswith(".venv/bin/opsuite ")]


def _args(line: str) -> list[str]:
    words = shlex.split(line, comments=True)
    return [str(BIN / words[0].removeprefix(".venv/bin/")), *words[1:]]


def _a_break_id(suite: RunningSuite) -> str:
    with grpc.insecure_channel(suite.addresses["recon"]) as channel:
        page = recon_pb2_grpc.ReconServiceStub(channel).ListBreaks(
            recon_pb2.ListBreaksRequest(top_level_only=True, page_size=1)
        )
    assert page.breaks, "the finished suite has breaks"
    return str(page.breaks[0].break_id)


def _a_dq_issue_id(suite: RunningSuite) -> str:
    with grpc.insecure_channel(suite.addresses["dq"]) as channel:
        page = dq_pb2_grpc.DqServiceStub(channel).ListIssues(dq_pb2.ListIssuesRequest(page_size=1))
    assert page.issues, "the finished suite has dq issues"
    return str(page.issues[0].issue_id)


def _real_ids(word: str, suite: RunningSuite) -> str:
    """An example's placeholder id as a real one of the suite's."""
    if word == "BRK-...":
        return _a_break_id(suite)
    return _a_dq_issue_id(suite) if word == "dq-..." else word


def test_the_readme_shows_every_command() -> None:
    shown = {_args(line)[1] for line in readme_examples()}
    assert shown == {
        "up",
        "status",
        "view",
        "recon",
        "breaks",
        "break",
        "trace",
        "simulate",
        "ledger",
        "perf",
        "report",
        "dq",
        "extract",
        "ask",
    }


@pytest.mark.parametrize(
    "line", [line for line in readme_examples() if " up " not in line and " view" not in line]
)
def test_each_readme_example_runs(line: str, finished_suite: RunningSuite, tmp_path: Path) -> None:
    args = [_real_ids(word, finished_suite) for word in _args(line)]
    shutil.copytree(ROOT / "examples", tmp_path / "examples")  # the example files, as in a checkout
    result = subprocess.run(
        args, cwd=tmp_path, env={**clean_environment(), **finished_suite.env}, capture_output=True, text=True,
        timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, f"{line}\n{result.stdout}\n{result.stderr}"
    assert result.stdout.strip() or "--out" in args, f"{line} printed nothing"
    if "# then: .venv/bin/bean-check" in line:
        then = shlex.split(line.split("# then: ", 1)[1])
        checked = subprocess.run(
            [str(BIN / then[0].removeprefix(".venv/bin/")), *then[1:]],
            cwd=tmp_path, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert checked.returncode == 0, checked.stdout + checked.stderr


def test_the_readme_view_example_runs(finished_suite: RunningSuite, tmp_path: Path) -> None:
    (line,) = [line for line in readme_examples() if " view" in line]
    out = tmp_path / "view.out"
    with out.open("w") as sink:
        process = subprocess.Popen(
            _args(line), cwd=tmp_path, env={**clean_environment(), **finished_suite.env},
            stdout=sink, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
    try:
        wait_until(lambda: "2020-02-28" in out.read_text(), timeout=60, what="the view's first line")
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 0, out.read_text()
    finally:
        if process.poll() is None:
            process.kill()


@pytest.mark.parametrize("line", [line for line in readme_examples() if " up " in line])
def test_each_readme_up_example_serves_and_stops(line: str, tmp_path: Path) -> None:
    args = _args(line)[2:]  # after `opsuite up`
    # As written: documents with its model, as `make up` starts it.
    env = suite_env(tmp_path, OPSUITE_DOCUMENTS_USE_MODEL="true")
    up = Up.start(*args, env=env, output_path=tmp_path / "out", plain=False)
    try:
        up.wait_for("done:" if "--days" in args else "all services serving", timeout=600)
        up.signal(signal.SIGINT)
        assert up.wait(timeout=60) == 0, up.output()
    finally:
        up.stop()
