"""One run of the suite as real processes on fixed loopback ports, sharing one data directory (and
so one combined event log), the way `opsuite up` runs it; a killed service comes back on the same
address and data, so its peers reconnect to it."""

from __future__ import annotations

import contextlib
import functools
import json
import signal
import time
from collections import Counter
from collections.abc import Mapping
from pathlib import Path

import grpc

from opsuite.common.v1 import status_pb2, status_pb2_grpc
from opsuite.market.v1 import market_pb2, market_pb2_grpc
from tests.support.processes import ServiceProcess, start_service
from tests.support.run_state import channel, documents_owed
from tests.support.waiting import wait_until

# The followers of market's stream, in start order (services/cli/registry.py): each is killed and
# restarted like the others, and compared at the end.
FOLLOWERS = ("ledger", "dq", "recon", "reporting", "documents")
SERVICES = ("market", *FOLLOWERS)
# One service's own settings. documents runs without its embedding model: the chaos run tests the
# durable stream state and the breaks documents owes recon (market's own mismatched confirmations,
# the breaks of a run without uploads), not the model (which only Ask and IngestPolicy use), and
# each restart would otherwise spend 10-20 s and 0.5 GB loading it.
SERVICE_ENV: dict[str, dict[str, str]] = {"documents": {"OPSUITE_DOCUMENTS_USE_MODEL": "false"}}
RPC_TIMEOUT_S = 10.0
# How long documents may take, once caught up, to deliver what its last commits owe (it delivers
# after each commit, in the background).
DELIVERY_TIMEOUT_S = 15.0


class Cluster:
    """market and its followers as processes; `anomalies` collects what a service did on its own."""

    def __init__(
        self, label: str, data_dir: Path, sim_env: Mapping[str, str], ports: Mapping[str, int]
    ) -> None:
        self.label = label
        self.data_dir = data_dir
        self.addresses = {name: f"127.0.0.1:{ports[name]}" for name in SERVICES}
        self.env = {
            **sim_env,
            **{f"OPSUITE_{name.upper()}_ADDR": address for name, address in self.addresses.items()},
        }
        self.processes: dict[str, ServiceProcess] = {}
        self.every_process: list[ServiceProcess] = []
        self.anomalies: list[str] = []
        self._channels = {name: channel(address) for name, address in self.addresses.items()}
        self.started = time.monotonic()

    # ------------------------------------------------------------ processes

    def start(self, name: str) -> ServiceProcess:
        env = {**self.env, **SERVICE_ENV.get(name, {})}
        process = start_service(name, self.data_dir, env, address=self.addresses[name])
        self.processes[name] = process
        self.every_process.append(process)
        return process

    def start_all(self) -> None:
        for name in SERVICES:
            self.start(name).wait_serving()

    def kill(self, name: str) -> None:
        self.processes[name].stop(signal.SIGKILL)

    def restart(self, name: str) -> float:
        """Start `name` again on its address and data; the seconds until it listened."""
        started = time.monotonic()
        for attempt in range(3):
            process = self.start(name)
            if process.wait_listening(timeout=120):
                return time.monotonic() - started
            code = process.process.wait(30)
            self.anomalies.append(
                f"{self.label}: {name} did not listen after a restart (attempt {attempt + 1}, exit {code}): "
                f"{process.log_text()[-800:]}"
            )
        raise AssertionError(f"{name} cannot be restarted:\n" + "\n".join(self.anomalies[-3:]))

    def revive_crashed(self, expected_dead: str = "") -> None:
        """Restart any service that exited on its own (a defect, noted with the end of its log)."""
        for name, process in list(self.processes.items()):
            if name != expected_dead and process.process.poll() is not None:
                self.anomalies.append(
                    f"{self.label}: {name} exited on its own with code {process.process.returncode} at "
                    f"{time.monotonic() - self.started:.1f} s: {process.log_text()[-1500:]}"
                )
                self.restart(name)

    def stop_all(self) -> dict[str, int]:
        codes = {}
        for name in reversed(SERVICES):
            process = self.processes.get(name)
            if process is not None:
                try:
                    codes[name] = process.stop()
                except AssertionError as error:
                    self.anomalies.append(f"{self.label}: {error}")
                    codes[name] = -1
        for ch in self._channels.values():
            ch.close()
        return codes

    # ------------------------------------------------------------ asking the services

    def channel(self, name: str) -> grpc.Channel:
        return self._channels[name]

    def clock(self) -> market_pb2.Clock:
        stub = market_pb2_grpc.MarketServiceStub(self._channels["market"])
        clock: market_pb2.Clock = stub.GetClock(market_pb2.GetClockRequest(), timeout=RPC_TIMEOUT_S)
        return clock

    def status(self, name: str) -> status_pb2.ServiceStatus:
        stub = status_pb2_grpc.StatusServiceStub(self._channels[name])
        status: status_pb2.ServiceStatus = stub.GetStatus(
            status_pb2.GetStatusRequest(), timeout=RPC_TIMEOUT_S
        )
        return status

    def clock_or_none(self) -> market_pb2.Clock | None:
        """market's clock, None while market does not answer."""
        with contextlib.suppress(grpc.RpcError):
            return self.clock()
        return None

    def wait_finished(self, timeout: float) -> int:
        """Wait until market's clock reached its last day and every follower applied its head (each
        follower's GetStatus: applied seq at the head, serving), and documents delivered what it
        owes recon and the event log (or DELIVERY_TIMEOUT_S passed: the comparison then says what
        is missing); returns the head seq."""

        def clock_done() -> int:
            with contextlib.suppress(grpc.RpcError):
                clock = self.clock()
                if not clock.running and clock.head_seq:
                    return int(clock.head_seq)
            self.revive_crashed()
            return 0

        head = wait_until(clock_done, timeout=timeout, what=f"{self.label}: market's last day")

        def caught_up(name: str) -> bool:
            with contextlib.suppress(grpc.RpcError):
                status = self.status(name)
                return status.serving and status.applied_seq >= head
            self.revive_crashed()
            return False

        for name in FOLLOWERS:
            wait_until(
                functools.partial(caught_up, name),
                timeout=timeout,
                what=f"{self.label}: {name} to apply market's head {head}",
            )
        if "documents" in SERVICES:
            with contextlib.suppress(AssertionError):
                wait_until(
                    lambda: documents_owed(self.data_dir) == (0, 0),
                    timeout=DELIVERY_TIMEOUT_S,
                    what="documents to deliver what it owes",
                )
        return head

    # ------------------------------------------------------------ logs

    def log_digest(
        self, levels: tuple[str, ...] = ("ERROR", "CRITICAL", "WARNING")
    ) -> dict[str, Counter[str]]:
        """service -> count of each distinct warning or error message in its logs, every process included."""
        digest: dict[str, Counter[str]] = {}
        for process in self.every_process:
            counts = digest.setdefault(process.name, Counter())
            for line in process.lines:
                try:
                    record = json.loads(line)
                except ValueError:
                    counts[f"(not JSON) {line.strip()[:160]}"] += 1
                    continue
                if isinstance(record, dict) and record.get("level") in levels:
                    counts[f"{record['level']}: {record.get('message', '')}"] += 1
        return digest
