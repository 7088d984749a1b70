"""The live view's dq panel in a real terminal (tmux, 80×24): `opsuite view` attached to the finished
market and dq of conftest.py shows dq's counts and each value held back beside its last good value,
as dq's GetStatus and GetQuarantine give them."""

from __future__ import annotations

import re
import sys

import grpc

from opsuite.dq.v1 import dq_pb2, dq_pb2_grpc
from services.cli.output import grouped
from tests.cli.conftest import clean_environment
from tests.dq.process.conftest import DqSuite
from tests.support.terminal import Terminal
from tests.support.waiting import wait_until


def _date(date: object) -> str:
    return f"{date.year:04d}-{date.month:02d}-{date.day:02d}"  # type: ignore[attr-defined]


def test_opsuite_view_at_80_by_24_shows_dqs_counts_and_what_it_holds_back(dq_suite: DqSuite) -> None:
    status = dq_suite.status()
    with grpc.insecure_channel(dq_suite.dq.address) as channel:
        held = (
            dq_pb2_grpc.DqServiceStub(channel)
            .GetQuarantine(dq_pb2.GetQuarantineRequest(), timeout=30)
            .entries
        )
    assert held, "the suite holds back the last day's spike (conftest.py)"
    counts = {s.severity: s.count for s in status.open_by_severity}
    summary = (
        f"dq {_date(status.as_of_date)}: {status.health}, open {counts[dq_pb2.SEVERITY_CRITICAL]} crit "
        f"{counts[dq_pb2.SEVERITY_WARNING]} warn {counts[dq_pb2.SEVERITY_INFO]} info, "
        f"{len(held)} held back"
    )
    command = [sys.executable, "-m", "services.cli", "view"]
    with Terminal.open(command, env={**clean_environment(), **dq_suite.env}) as terminal:
        screen = terminal.wait_for(summary, timeout=60)
        for entry in held:
            row = next(line for line in screen.splitlines() if line.startswith(entry.instrument_id + " "))
            assert row.split() == [
                entry.instrument_id,
                entry.vendor,
                grouped(entry.rejected_value.value),
                grouped(entry.last_good_value.value),
                _date(entry.last_good_date),
                entry.issue_id,
            ], screen
        assert len(screen.rstrip("\n").splitlines()) <= 24, screen
        assert re.search(r"^dq\s+serving\s+0\s", screen, re.MULTILINE), screen
        terminal.type("C-c")
        wait_until(terminal.ended, timeout=30, what="the view to stop on Ctrl-C")
