"""Run services as real processes for end-to-end tests, the way `opsuite up` does."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class ServiceProcess:
    name: str
    process: subprocess.Popen[bytes]
    log_path: Path
    address: str = ""
    lines: list[str] = field(default_factory=list)
    _listening: threading.Event = field(default_factory=threading.Event)

    def _pump(self) -> None:
        """Copy the service's log to a file, noting the 'listening' line's address."""
        assert self.process.stderr is not None
        with self.log_path.open("a", encoding="utf-8") as sink:
            for raw in self.process.stderr:
                line = raw.decode(errors="replace")
                sink.write(line)
                sink.flush()
                self.lines.append(line)
                if not self._listening.is_set() and '"listening"' in line:
                    self.address = json.loads(line)["address"]
                    self._listening.set()
        self._listening.set()

    def log_text(self) -> str:
        return "".join(self.lines)

    def wait_listening(self, timeout: float = 120.0) -> bool:
        """True once the service logged the address it listens on (it may not be serving yet)."""
        return self._listening.wait(timeout) and bool(self.address)

    def wait_serving(self, timeout: float = 120.0) -> None:
        if not self._listening.wait(timeout) or not self.address:
            raise AssertionError(f"{self.name} never listened:\n{self.log_text()[-3000:]}")
        with grpc.insecure_channel(self.address) as channel:
            grpc.channel_ready_future(channel).result(timeout=timeout)
            stub = health_pb2_grpc.HealthStub(channel)
            for reply in stub.Watch(health_pb2.HealthCheckRequest(), timeout=timeout):
                if reply.status == health_pb2.HealthCheckResponse.SERVING:
                    return
        raise AssertionError(f"{self.name} stopped before serving:\n{self.log_text()[-3000:]}")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30.0) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise AssertionError(
                f"{self.name} did not stop within {timeout} s:\n{self.log_text()[-3000:]}"
            ) from None


def start_service(
    name: str, data_dir: Path, env: Mapping[str, str] | None = None, *, address: str = "127.0.0.1:0"
) -> ServiceProcess:
    """Start `python -m services.<name>` with its own data dir; call wait_serving() next."""
    data_dir.mkdir(parents=True, exist_ok=True)
    # Telemetry export only where a test asks for it.
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    full_env = {
        **inherited,
        "OPSUITE_DATA_DIR": str(data_dir),
        f"OPSUITE_{name.upper()}_ADDR": address,
        "OPSUITE_SHUTDOWN_GRACE_S": "5",
        "PYTHONUNBUFFERED": "1",
        **(env or {}),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", f"services.{name}"],
        cwd=ROOT,
        env=full_env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    service = ServiceProcess(name, process, data_dir / f"{name}.test.log")
    threading.Thread(target=service._pump, daemon=True).start()
    return service


def finished_market(data_dir: Path, env: Mapping[str, str], *, timeout: float = 300) -> ServiceProcess:
    """A market started with `env` and run to the end of its days (its clock no longer running);
    the caller stops it."""
    from opsuite.market.v1 import market_pb2, market_pb2_grpc
    from tests.support.waiting import wait_until

    market = start_service("market", data_dir, env)
    try:
        market.wait_serving()
        with grpc.insecure_channel(market.address) as channel:
            clock = market_pb2_grpc.MarketServiceStub(channel)
            wait_until(
                lambda: not clock.GetClock(market_pb2.GetClockRequest()).running,
                timeout=timeout,
                what="market to simulate its days",
            )
    except BaseException:
        market.stop()
        raise
    return market
