"""serve() in a real process: port 0, health, reflection, and graceful shutdown on SIGTERM."""

from __future__ import annotations

import json
import os
import pathlib
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import ProtoReflectionDescriptorDatabase

ROOT = pathlib.Path(__file__).resolve().parents[2]
APP = pathlib.Path(__file__).with_name("serve_app.py")
SLOW_SERVICE = "opsuite.test.v1.SlowService"


class LogReader:
    """Collects the child's stderr lines on a thread, so the test can wait for one with a deadline."""

    def __init__(self, process: subprocess.Popen[bytes]) -> None:
        self.lines: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._thread = threading.Thread(target=self._pump, args=(process,), daemon=True)
        self._thread.start()

    def _pump(self, process: subprocess.Popen[bytes]) -> None:
        assert process.stderr is not None
        for raw in process.stderr:
            self._queue.put(raw.decode(errors="replace").rstrip("\n"))
        self._queue.put(None)

    def wait_for(self, message: str, timeout: float = 30.0) -> dict[str, Any]:
        """The first JSON record (not seen before) whose message is `message`."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no {message!r} log line; got:\n" + "\n".join(self.lines[-30:]))
            try:
                line = self._queue.get(timeout=remaining)
            except queue.Empty:
                continue
            if line is None:
                raise AssertionError(
                    f"process ended before {message!r}; got:\n" + "\n".join(self.lines[-30:])
                )
            self.lines.append(line)
            record = json.loads(line)
            if record.get("message") == message:
                return record

    def rest(self) -> list[str]:
        self._thread.join(timeout=30)
        while True:
            line = self._queue.get_nowait() if not self._queue.empty() else None
            if line is None:
                return self.lines
            self.lines.append(line)


@pytest.fixture
def app(tmp_path: pathlib.Path) -> Iterator[tuple[subprocess.Popen[bytes], LogReader]]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("OTEL_", "OPSUITE_"))}
    env.update(
        OPSUITE_DATA_DIR=str(tmp_path),
        OPSUITE_MARKET_ADDR="127.0.0.1:0",
        OPSUITE_SHUTDOWN_GRACE_S="20",
        PYTHONUNBUFFERED="1",
    )
    process = subprocess.Popen([sys.executable, str(APP)], cwd=ROOT, env=env, stderr=subprocess.PIPE)
    try:
        yield process, LogReader(process)
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=30)


def test_serve_health_reflection_and_graceful_shutdown(
    app: tuple[subprocess.Popen[bytes], LogReader], tmp_path: pathlib.Path
) -> None:
    process, logs = app
    listening = logs.wait_for("listening")
    port = listening["port"]
    assert isinstance(port, int) and port > 0
    assert listening["address"] == f"127.0.0.1:{port}"
    assert listening["service"] == "market"
    assert {"time", "level", "logger"} <= listening.keys()

    with grpc.insecure_channel(listening["address"]) as channel:
        health = health_pb2_grpc.HealthStub(channel)
        watch = health.Watch(health_pb2.HealthCheckRequest(service=""), timeout=60)
        statuses = [next(watch).status]
        while statuses[-1] != health_pb2.HealthCheckResponse.SERVING:
            statuses.append(next(watch).status)
        service_health = health.Check(health_pb2.HealthCheckRequest(service=SLOW_SERVICE), timeout=10)
        assert service_health.status == health_pb2.HealthCheckResponse.SERVING

        services = set(ProtoReflectionDescriptorDatabase(channel).get_services())
        assert {SLOW_SERVICE, "grpc.health.v1.Health", "grpc.reflection.v1alpha.ServerReflection"} <= services

        slow_call = channel.unary_unary(f"/{SLOW_SERVICE}/Work").future(b"x", timeout=60)
        logs.wait_for("work started")
        process.send_signal(signal.SIGTERM)
        logs.wait_for("shutting down")
        # The slow call waits for shutdown to begin and then still works a second,
        # so this second signal arrives during the drain.
        process.send_signal(signal.SIGINT)

        # Health watchers hear NOT_SERVING, then their stream ends instead of holding the server.
        assert next(watch).status == health_pb2.HealthCheckResponse.NOT_SERVING
        assert list(watch) == []
        # The call that was in flight finished normally within the grace period.
        assert slow_call.result(timeout=60) == b"done:x"

    assert process.wait(timeout=60) == 0
    lines = logs.rest()
    records = [json.loads(line) for line in lines]  # every line of the process is one JSON record
    messages = [record["message"] for record in records]
    assert "already shutting down" in messages
    assert messages[-1] == "stopped"
    assert (tmp_path / "market" / "stopped").read_text() == "cursor saved\n"
