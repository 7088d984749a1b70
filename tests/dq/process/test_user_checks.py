"""A user's own checks file (OPSUITE_DQ_CHECKS), through the real entry points: dq runs exactly the
checks it declares and says where they came from; a file it cannot use stops dq at start-up with one
line naming the file, the check and the fix, before anything runs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import grpc

from opsuite.dq.v1 import dq_pb2, dq_pb2_grpc
from tests.support.processes import ROOT, finished_market, start_service

OWN = """
[[check]]
id = "my.non_positive"
family = "price"
rule = "non_positive"
severity = "critical"
description = "No price of zero or less"
thresholds = {}

[[check]]
id = "my.cross"
family = "fx"
rule = "triangulation"
severity = "warning"
description = "Crosses within 10 bp of their legs"
thresholds = { tolerance = 0.001 }
"""
ENV = {"OPSUITE_SEED": "7", "OPSUITE_START": "2020-06-01", "OPSUITE_DAYS": "5", "OPSUITE_SPEED": "max"}


def test_dq_runs_the_checks_of_the_users_file_and_says_so(tmp_path: Path) -> None:
    own = tmp_path / "my-checks.toml"
    own.write_text(OWN)
    market = finished_market(tmp_path / "market", ENV)
    try:
        dq = start_service(
            "dq",
            tmp_path / "dq",
            {
                **ENV,
                "OPSUITE_MARKET_ADDR": market.address,
                "OPSUITE_DQ_USE_LEDGER": "false",
                "OPSUITE_DQ_CHECKS": str(own),
            },
        )
        try:
            dq.wait_serving()
            with grpc.insecure_channel(dq.address) as channel:
                stub = dq_pb2_grpc.DqServiceStub(channel)
                listed = stub.ListChecks(dq_pb2.ListChecksRequest())
                status = stub.GetStatus(dq_pb2.GetStatusRequest())
            env = {k: v for k, v in os.environ.items() if not k.startswith(("OPSUITE_", "OTEL_"))}
            shown = subprocess.run(
                [sys.executable, "-m", "services.cli", "dq", "checks"],
                env={**env, "OPSUITE_DQ_ADDR": dq.address},
                capture_output=True,
                text=True,
                timeout=60,
                cwd=ROOT,
            )
        finally:
            assert dq.stop() == 0
    finally:
        assert market.stop() == 0
    assert listed.source == str(own)
    assert [(c.check_id, c.rule, c.severity) for c in listed.checks] == [
        ("my.non_positive", "non_positive", dq_pb2.SEVERITY_CRITICAL),
        ("my.cross", "triangulation", dq_pb2.SEVERITY_WARNING),
    ]
    assert dict(listed.checks[1].thresholds) == {"tolerance": 0.001}
    # Only those two ran, on every price and every cross of the five days.
    assert {c.check for c in status.checks} == {"my.non_positive", "my.cross"}
    assert all(c.checked_count > 0 for c in status.checks)
    assert shown.returncode == 0, shown.stderr
    assert str(own) in shown.stdout and "my.cross" in shown.stdout


def test_a_checks_file_dq_cannot_use_stops_it_with_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(OWN.replace('rule = "triangulation"', 'rule = "cross_rate"'))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPSUITE_", "OTEL_"))}
    result = subprocess.run(
        [sys.executable, "-m", "services.dq"],
        env={**env, "OPSUITE_DQ_CHECKS": str(bad), "OPSUITE_DATA_DIR": str(tmp_path / "data")},
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert result.returncode == 2
    # The structured log line, then the one line a person (or opsuite up) shows.
    assert result.stderr.strip().splitlines()[-1] == (
        f"dq: {bad}: check 'my.cross': unknown rule 'cross_rate' for family 'fx'; allowed: inverse, stale, "
        "triangulation"
    )
    missing = subprocess.run(
        [sys.executable, "-m", "services.dq"],
        env={
            **env,
            "OPSUITE_DQ_CHECKS": str(tmp_path / "nowhere.toml"),
            "OPSUITE_DATA_DIR": str(tmp_path / "d"),
        },
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert missing.returncode == 2
    assert "OPSUITE_DQ_CHECKS" in missing.stderr and "existing TOML file of dq's checks" in missing.stderr
