"""The opsuite command's own surface: help, version, every command's description and example, and a
bad environment variable refused in one line. None of these needs a running suite."""

from __future__ import annotations

import importlib.metadata

import pytest

from tests.cli.conftest import run_opsuite

COMMANDS = {
    "up": "start every service on loopback and show a live view",
    "view": "the live view of a suite already running",
    "status": "print the health of every service",
    "simulate": "write the event stream as JSON lines, without a server",
    "breaks": "list recon's breaks, oldest first, then the largest amount",
    "break": "one break: its figures, its parent and children, the events it is about, its history",
    "recon": "where reconciliation stands per mandate",
    "trace": "follow one break, event, trade or trace from the market tick to the ledger journal",
    "ledger": "the book of record, read from its store",
    "dq": "where data quality stands: open issues by severity, quarantined values, each check's counts",
}
SUBCOMMANDS = {
    "ledger export": "write the ledger as a file bean-check accepts",
    "dq checks": "the checks dq runs, with their thresholds, and the file they come from",
    "dq issues": "dq's issues, newest first",
    "dq issue": "one issue in full: its figures, statistics, the events it is about and how to trace them",
    "dq ack": "acknowledge an open issue: a person has seen it (it stays open until the data comes right)",
    "dq quarantine": "the values dq holds back, each with the last good value used instead",
}


def test_opsuite_alone_prints_the_help_with_every_command() -> None:
    result = run_opsuite(env={})
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: opsuite")
    listed = " ".join(result.stdout.split())
    for name, summary in COMMANDS.items():
        assert f"{name} {summary}" in listed


def test_version_is_the_installed_one() -> None:
    result = run_opsuite("--version", env={})
    assert result.returncode == 0
    assert result.stdout.strip() == f"opsuite {importlib.metadata.version('opsuite')}"


@pytest.mark.parametrize("name", [*COMMANDS, *SUBCOMMANDS])
def test_each_command_says_what_it_does_and_shows_an_example(name: str) -> None:
    result = run_opsuite(*name.split(), "--help", env={})
    assert result.returncode == 0, result.stderr
    out = " ".join(result.stdout.split())
    assert {**COMMANDS, **SUBCOMMANDS}[name] in out
    examples = result.stdout.split("examples:\n", 1)[1]
    assert examples.lstrip().startswith(f"opsuite {name}")


@pytest.mark.parametrize(
    "name",
    ["breaks", "break", "recon", "trace", "status", "dq", *(n for n in SUBCOMMANDS if n.startswith("dq "))],
)
def test_every_command_that_prints_a_table_takes_json(name: str) -> None:
    result = run_opsuite(*name.split(), "--help", env={})
    assert "-o {table,json}, --output {table,json}" in result.stdout


def test_dq_lists_its_subcommands() -> None:
    result = run_opsuite("dq", "--help", env={})
    listed = " ".join(result.stdout.split())
    for name, summary in SUBCOMMANDS.items():
        if name.startswith("dq "):
            assert f"{name.removeprefix('dq ')} {summary}" in listed


def test_up_and_view_take_their_flags_for_scripts() -> None:
    up = " ".join(run_opsuite("up", "--help", env={}).stdout.split())
    assert "--yes answer yes to --fresh's confirmation, for scripts" in up
    view = " ".join(run_opsuite("view", "--help", env={}).stdout.split())
    assert "--plain" in view


def test_a_bad_variable_is_one_line_per_variable_and_exit_2() -> None:
    result = run_opsuite("breaks", env={"OPSUITE_RECON_ADDR": "nowhere", "OPSUITE_SHUTDOWN_GRACE_S": "soon"})
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 2, result.stderr  # no traceback: the two refusals and nothing else
    assert lines[0].startswith("opsuite: OPSUITE_RECON_ADDR='nowhere': give host:port")
    assert lines[1].startswith("opsuite: OPSUITE_SHUTDOWN_GRACE_S='soon': give ")
