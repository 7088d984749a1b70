"""A process told to listen beyond loopback says what it exposes there: a gRPC service without TLS,
the edge without TLS or without an API token. Judged from the address (services/common/exposure.py),
then seen on the stderr of a real gRPC service (tests/common/serve_app.py, served by serve()) and of
a real edge."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from services.common.exposure import edge_exposure, reachable_from_elsewhere, service_exposure, warn
from tests.common.test_serve import APP, ROOT, LogReader
from tests.support.certs import authority, issue
from tests.support.ports import free_ports
from tests.support.processes import start_service

WARNING = "exposed beyond this machine"
TOKEN = "a-token-the-log-must-never-show-0123"


@pytest.mark.parametrize(
    ("address", "reachable"),
    [
        ("127.0.0.1:50051", False),
        ("127.8.9.10:1", False),
        ("[::1]:1", False),
        ("localhost:8080", False),
        ("0.0.0.0:50051", True),
        ("[::]:1", True),
        (":8080", True),
        ("*:8080", True),
        ("10.1.2.3:50051", True),
        ("192.168.0.7:8080", True),
        ("[2001:db8::1]:1", True),
        ("no-such-host.invalid:1", True),  # nothing shows it is loopback
    ],
)
def test_reachable_from_elsewhere(address: str, reachable: bool) -> None:
    assert reachable_from_elsewhere(address) is reachable


def test_a_service_warns_beyond_loopback_without_tls_and_says_how_to_fix_it() -> None:
    said = service_exposure("ledger", "0.0.0.0:50056", "OPSUITE_LEDGER_ADDR", tls=False)
    assert said.startswith("ledger listens on 0.0.0.0:50056, which other machines can reach, without TLS")
    assert "OPSUITE_TLS_CERT and OPSUITE_TLS_KEY" in said and "127.0.0.1 (OPSUITE_LEDGER_ADDR)" in said
    assert service_exposure("ledger", "0.0.0.0:50056", "OPSUITE_LEDGER_ADDR", tls=True) == ""
    assert service_exposure("ledger", "127.0.0.1:50056", "OPSUITE_LEDGER_ADDR", tls=False) == ""


def test_the_edge_warns_for_each_thing_it_lacks() -> None:
    both = edge_exposure("0.0.0.0:8080", tls=False, token=False)
    assert "with no API token, anyone who reaches it can inject faults" in both
    assert "Set OPSUITE_API_TOKEN" in both and "without TLS" in both and "OPSUITE_TLS_CERT" in both
    no_tls = edge_exposure("0.0.0.0:8080", tls=False, token=True)
    assert "without TLS" in no_tls and "OPSUITE_API_TOKEN" not in no_tls
    no_token = edge_exposure("0.0.0.0:8080", tls=True, token=False)
    assert "OPSUITE_API_TOKEN" in no_token and "without TLS" not in no_token
    assert edge_exposure("0.0.0.0:8080", tls=True, token=True) == ""
    assert edge_exposure("127.0.0.1:8080", tls=False, token=False) == ""


def test_warn_logs_one_warning_or_nothing(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("tests.exposure")
    with caplog.at_level(logging.INFO, logger="tests.exposure"):
        warn(logger, "", "127.0.0.1:1")
        warn(logger, "the edge listens on ...", "0.0.0.0:1")
    (record,) = caplog.records
    assert record.levelno == logging.WARNING and record.getMessage() == WARNING
    assert (
        record.__dict__["warning"] == "the edge listens on ..." and record.__dict__["address"] == "0.0.0.0:1"
    )


def _service_log(tmp_path: Path, address: str, **extra: str) -> list[dict[str, object]]:
    """serve_app's log records from its start until it stops on SIGTERM, listening on `address`."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("OTEL_", "OPSUITE_"))}
    env.update(OPSUITE_DATA_DIR=str(tmp_path), OPSUITE_MARKET_ADDR=address, PYTHONUNBUFFERED="1", **extra)
    process = subprocess.Popen([sys.executable, str(APP)], cwd=ROOT, env=env, stderr=subprocess.PIPE)
    try:
        logs = LogReader(process)
        logs.wait_for("started")  # after "listening" and whatever serve() said about it
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 0
        return [json.loads(line) for line in logs.rest() if line.startswith("{")]
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=30)


def test_a_grpc_service_beyond_loopback_without_tls_warns_on_stderr(tmp_path: Path) -> None:
    records = _service_log(tmp_path, "0.0.0.0:0")
    (warned,) = [r for r in records if r["message"] == WARNING]
    assert warned["level"] == "WARNING" and warned["address"] == "0.0.0.0:0"
    assert "market listens on 0.0.0.0:0" in str(warned["warning"])
    assert "OPSUITE_TLS_CERT" in str(warned["warning"]) and "OPSUITE_MARKET_ADDR" in str(warned["warning"])


@pytest.mark.parametrize("where", ["loopback", "TLS"])
def test_a_grpc_service_on_loopback_or_with_tls_says_nothing(tmp_path: Path, where: str) -> None:
    if where == "loopback":
        records = _service_log(tmp_path, "127.0.0.1:0")
    else:
        ca = authority(tmp_path, "exposure-ca")
        leaf = issue(ca, tmp_path, "market")
        records = _service_log(tmp_path, "0.0.0.0:0", **leaf.env(ca, client_auth=False))
    assert any(r["message"] == "listening" for r in records)
    assert [r for r in records if r["message"] == WARNING] == []


@pytest.mark.parametrize(
    ("token", "tls", "expected"),
    [
        (False, False, ("OPSUITE_API_TOKEN", "without TLS")),
        (True, False, ("without TLS",)),
        (True, True, ()),
    ],
)
def test_the_edge_beyond_loopback_warns_for_what_it_lacks(
    tmp_path: Path, token: bool, tls: bool, expected: tuple[str, ...]
) -> None:
    # Every service the edge could call at a port nothing listens on: it only starts and stops here.
    env = {
        f"OPSUITE_{name.upper()}_ADDR": f"127.0.0.1:{port}"
        for name, port in zip(
            ("market", "recon", "reporting", "dq", "documents", "ledger"), free_ports(6), strict=True
        )
    }
    if token:
        env["OPSUITE_API_TOKEN"] = TOKEN
    if tls:
        ca = authority(tmp_path, "exposure-ca")
        env.update(issue(ca, tmp_path, "edge").env(ca, client_auth=False))
    edge = start_service("edge", tmp_path / "edge", env, address="0.0.0.0:0")
    try:
        assert edge.wait_listening(60), edge.log_text()[-3000:]
    finally:
        assert edge.stop() == 0, edge.log_text()[-3000:]
    records = [json.loads(line) for line in edge.lines if line.startswith("{")]
    warned = [r for r in records if r["message"] == WARNING]
    if not expected:
        assert warned == []
    else:
        (one,) = warned
        assert one["level"] == "WARNING" and all(part in str(one["warning"]) for part in expected)
        assert (token and "OPSUITE_API_TOKEN" not in str(one["warning"])) or not token
    assert TOKEN not in edge.log_text()
