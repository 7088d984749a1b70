"""One finished suite shared by every test folder (the command line's, the edge's): `opsuite up` as a
user runs it. tests/conftest.py registers the fixture once, so a whole run starts one such suite (one
per pytest-xdist worker that reaches a test using it: each worker is its own session).

`finished_suite` starts `opsuite up --speed max` on free loopback ports in a temporary data
directory, waits until market's clock has ended and every service has applied market's whole
stream, and leaves it serving for the tests of commands that read it (breaks, recon, trace,
status, the live view). It is stopped with SIGINT, as a person's Ctrl-C, at the end.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest

from opsuite.common.v1 import status_pb2, status_pb2_grpc
from opsuite.market.v1 import market_pb2, market_pb2_grpc
from services.cli.registry import available_services
from services.common.settings import SERVICES
from tests.support.ports import free_ports
from tests.support.processes import ROOT
from tests.support.waiting import wait_until

# Seed 7 from 2020-01-02 for 40 business days: with the default fault rates the custodian drops,
# duplicates and mis-books enough trades for about twenty breaks, with children, escalations and
# aging; by the last day-end the custodian's corrections and late settlements have closed them all
# (so `opsuite breaks`, which lists open ones, prints none; the tests ask for --status all).
SUITE_SEED = "7"
SUITE_START = "2020-01-02"
SUITE_DAYS = "40"


def clean_environment() -> dict[str, str]:
    """This process's environment without any OPSUITE_ or OTEL_ setting of the person running pytest."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("OPSUITE_", "OTEL_"))}


def run_opsuite(
    *args: str, env: dict[str, str], timeout: float = 120, input_text: str | None = None
) -> subprocess.CompletedProcess[str]:
    """`opsuite <args>` in a subprocess, as a user types it; its output captured as text."""
    return subprocess.run(
        [sys.executable, "-m", "services.cli", *args],
        cwd=ROOT,
        env={**clean_environment(), **env},
        capture_output=True,
        text=True,
        timeout=timeout,
        input=input_text,
    )


@dataclass
class RunningSuite:
    data_dir: Path
    addresses: dict[str, str]
    env: dict[str, str]  # the OPSUITE_* variables that point a command at this suite
    process: subprocess.Popen[str]
    log_path: Path  # the supervisor's own output

    def opsuite(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return run_opsuite(*args, env=self.env, timeout=timeout)

    def supervisor_output(self) -> str:
        return self.log_path.read_text(errors="replace")

    @property
    def edge_url(self) -> str:
        """Where the suite's HTTP/JSON edge (services/edge/) answers."""
        return f"http://{self.env['OPSUITE_EDGE_ADDR']}"


def _finished(addresses: dict[str, str]) -> bool:
    """Market's clock has ended and every other service has applied its whole stream."""
    try:
        with grpc.insecure_channel(addresses["market"]) as channel:
            clock = market_pb2_grpc.MarketServiceStub(channel).GetClock(
                market_pb2.GetClockRequest(), timeout=2
            )
        if clock.running or clock.head_seq == 0:
            return False
        for name in available_services():
            if name == "market":
                continue
            with grpc.insecure_channel(addresses[name]) as channel:
                status = status_pb2_grpc.StatusServiceStub(channel).GetStatus(
                    status_pb2.GetStatusRequest(), timeout=2
                )
            if not status.serving or status.applied_seq < clock.head_seq:
                return False
    except grpc.RpcError:
        return False
    return True


@pytest.fixture(scope="session")
def finished_suite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSuite]:
    data_dir = tmp_path_factory.mktemp("suite")
    *ports, edge_port = free_ports(len(SERVICES) + 1)
    addresses = {name: f"127.0.0.1:{port}" for name, port in zip(SERVICES, ports, strict=True)}
    env = {
        "OPSUITE_DATA_DIR": str(data_dir),
        "OPSUITE_SHUTDOWN_GRACE_S": "5",
        **{f"OPSUITE_{name.upper()}_ADDR": address for name, address in addresses.items()},
        "OPSUITE_EDGE_ADDR": f"127.0.0.1:{edge_port}",  # the HTTP/JSON edge opsuite up starts last
    }
    log_path = data_dir / "supervisor.out"
    with log_path.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "services.cli", "up", "--speed", "max", "--seed", SUITE_SEED,
             "--start", SUITE_START, "--days", SUITE_DAYS, "--no-view"],
            cwd=ROOT,
            env={**clean_environment(), **env},
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
        )  # fmt: skip
    suite = RunningSuite(data_dir, addresses, env, process, log_path)
    try:
        wait_until(
            lambda: process.poll() is not None or _finished(addresses),
            timeout=240,
            what="the suite to simulate its days and every service to catch up",
        )
        assert process.poll() is None, f"opsuite up exited early:\n{suite.supervisor_output()}"
        yield suite
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
