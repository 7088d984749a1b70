"""The processes behind `opsuite up`: start one, wait until it serves, restart it with backoff, stop all.

Each service runs as `python -m services.<name>` in its own session (a terminal's Ctrl-C reaches
only the supervisor, which then stops the services in order with SIGTERM) and names the supervisor
in OPSUITE_SUPERVISOR_PID, so it ends with the supervisor even when the supervisor is SIGKILLed
(services/common/lifeline.py). Output goes to <data dir>/logs/<service>.log, appended across runs;
a child remembers where this run's lines begin, so a failure is explained from them alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from opsuite.common.v1 import status_pb2, status_pb2_grpc
from services.common.channels import Security, open_channel
from services.common.lifeline import SUPERVISOR_PID_VARIABLE


class StartupFailed(RuntimeError):
    """A service did not reach SERVING; the message is one sentence a person can act on."""

    def __init__(self, child: Child, reason: str):
        super().__init__(f"{child.name} could not start: {reason}")
        self.child = child
        self.reason = reason


class GaveUp(RuntimeError):
    """A service kept failing after restarts; the suite stops."""


@dataclass
class RestartPolicy:
    """Restart a crashed service after 1, 2, 4, ... seconds (capped), as compose and Kubernetes do.

    `limit` failures in a row end the suite; a service that stayed up for `stable_after_s` has
    recovered, and its count starts again.
    """

    limit: int = 5
    first_delay_s: float = 1.0
    max_delay_s: float = 30.0
    stable_after_s: float = 60.0

    def delay(self, failures: int) -> float:
        return float(min(self.max_delay_s, self.first_delay_s * 2 ** max(0, failures - 1)))


@dataclass
class Child:
    name: str
    address: str
    log_path: Path
    process: asyncio.subprocess.Process | None = None
    state: str = "waiting"
    restarts: int = 0
    failures_in_a_row: int = 0
    started_at: float = field(default_factory=time.monotonic)
    log_offset: int = 0  # where this process's lines start in log_path
    # True for the HTTP/JSON edge: serving means answering GET /healthz, not gRPC health.
    http: bool = False

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.returncode is None


async def launch(child: Child, env: dict[str, str]) -> None:
    child.log_path.parent.mkdir(parents=True, exist_ok=True)
    child.log_offset = child.log_path.stat().st_size if child.log_path.exists() else 0
    child.started_at = time.monotonic()
    child.state = "starting"
    with child.log_path.open("ab") as log_file:
        child.process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            f"services.{child.name}",
            env={**env, SUPERVISOR_PID_VARIABLE: str(os.getpid())},
            stdin=asyncio.subprocess.DEVNULL,
            stdout=log_file,
            stderr=log_file,
            start_new_session=True,
        )


def failure_reason(child: Child) -> str:
    """Why the child failed, from its own last error line of this run (not earlier runs' lines)."""
    lines: list[str] = []
    with contextlib.suppress(OSError), child.log_path.open("rb") as log_file:
        log_file.seek(child.log_offset)
        lines = log_file.read().decode(errors="replace").splitlines()
    code = child.process.returncode if child.process else None
    for line in reversed(lines):
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict) and record.get("level") in ("ERROR", "CRITICAL"):
            why = str(record.get("error") or record.get("message") or "").strip()
            address = record.get("address")
            return f"{why} ({address})" if record.get("message") == "cannot listen" and address else why
    plain = [line for line in lines if line.strip() and not line.startswith("{")]
    if plain:  # a traceback or a message printed before logging was set up: its last line says most
        return plain[-1].strip()
    return f"exited with code {code}" if code is not None else "no reason in its log"


async def wait_serving(child: Child, timeout: float, security: Security) -> None:
    """Follow the service's health until SERVING; StartupFailed if it dies, or if `timeout` seconds
    pass with no progress.

    A follower is not ready until it has caught up with market, which on a long run takes minutes:
    once it answers GetStatus, and while its applied_seq keeps moving, it is working, not stuck, so
    the wait goes on (a fixed limit on the whole catch-up failed healthy start-ups of a decade on a
    busy machine).
    Asked on the service's own port, with the TLS the suite is configured for (the children read the
    same variables), so a certificate that does not fit fails the start-up instead of the first call.
    """
    assert child.process is not None

    async def serving() -> None:
        async with open_channel(security, child.address) as channel:
            stub = health_pb2_grpc.HealthStub(channel)
            while True:
                await channel.channel_ready()
                try:
                    async for reply in stub.Watch(health_pb2.HealthCheckRequest()):
                        if reply.status == health_pb2.HealthCheckResponse.SERVING:
                            return
                except grpc.aio.AioRpcError as error:
                    if error.code() != grpc.StatusCode.UNAVAILABLE:
                        raise

    waiter = asyncio.ensure_future(_http_serving(child.address) if child.http else serving())
    died = asyncio.ensure_future(child.process.wait())
    progress = _Progress()
    try:
        while True:
            done, _ = await asyncio.wait(
                {waiter, died}, timeout=min(timeout, PROGRESS_CHECK_S), return_when=asyncio.FIRST_COMPLETED
            )
            if done:
                break
            moved = not child.http and await progress.moved(security, child.address)
            if not moved and progress.still_for() >= timeout:
                break
    finally:
        for task in (waiter, died):
            task.cancel()
    if waiter in done and not died.done():
        waiter.result()
        child.state = "running"
        return
    if died in done:
        raise StartupFailed(child, failure_reason(child))
    stuck = f" (applied_seq stayed at {progress.applied_seq:,})" if progress.applied_seq else ""
    raise StartupFailed(child, f"not serving, and no progress for {timeout:.0f} s{stuck}")


# How often a service that is not serving yet is asked whether it is catching up.
PROGRESS_CHECK_S = 5.0


class _Progress:
    """A starting service's applied_seq, from GetStatus, and since when it has not moved. Its first
    answer counts as progress too: it is listening, past its imports and its store's migrations."""

    def __init__(self) -> None:
        self.answered = False
        self.applied_seq = 0
        self.since = time.monotonic()

    async def moved(self, security: Security, address: str) -> bool:
        with contextlib.suppress(grpc.aio.AioRpcError):
            async with open_channel(security, address) as channel:
                status = await status_pb2_grpc.StatusServiceStub(channel).GetStatus(
                    status_pb2.GetStatusRequest(), timeout=PROGRESS_CHECK_S
                )
            if status.applied_seq > self.applied_seq or not self.answered:
                self.answered = True
                self.applied_seq, self.since = status.applied_seq, time.monotonic()
                return True
        return False

    def still_for(self) -> float:
        return time.monotonic() - self.since


async def _http_serving(address: str) -> None:
    """Ask GET /healthz until it answers 200 (the edge listens a moment after it starts)."""
    host, _, port = address.rpartition(":")
    while True:
        with contextlib.suppress(OSError, asyncio.IncompleteReadError):
            reader, writer = await asyncio.open_connection(host.strip("[]"), int(port))
            try:
                writer.write(
                    f"GET /healthz HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n".encode()
                )
                await writer.drain()
                status_line = await reader.readline()
            finally:
                writer.close()
            if status_line.split()[1:2] == [b"200"]:
                return
        await asyncio.sleep(0.1)  # the interval between asks, not a stand-in for readiness


async def stop_child(child: Child, grace_s: float) -> int | None:
    """SIGTERM, then SIGKILL once the grace period (and a margin for the exit itself) has passed."""
    process = child.process
    if process is None:
        return None
    if process.returncode is None:
        child.state = "stopping"
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), timeout=grace_s + 5)
        except TimeoutError:
            process.kill()
            await process.wait()
    child.state = "stopped"
    return process.returncode


def kill_now(children: list[Child]) -> None:
    """A second Ctrl-C: no more waiting for graceful shutdowns."""
    for child in children:
        if child.alive and child.process is not None:
            with contextlib.suppress(ProcessLookupError):
                child.process.kill()


async def keep_alive(
    child: Child,
    env: dict[str, str],
    policy: RestartPolicy,
    start_timeout_s: float,
    say: Callable[[str], None],
    security: Security,
) -> None:
    """Restart the child whenever it exits, with backoff; GaveUp after policy.limit failures in a row.

    Cancelled when the suite stops (the stopping code then stops the child itself).
    """
    while True:
        assert child.process is not None
        code = await child.process.wait()
        if time.monotonic() - child.started_at >= policy.stable_after_s:
            child.failures_in_a_row = 0
        child.failures_in_a_row += 1
        reason = failure_reason(child)
        if child.failures_in_a_row > policy.limit:
            child.state = "failed"
            raise GaveUp(
                f"{child.name} failed {child.failures_in_a_row} times in a row (last: {reason}); "
                f"giving up. Its log: {child.log_path}"
            )
        delay = policy.delay(child.failures_in_a_row)
        child.state = f"restarting in {delay:g} s"
        say(
            f"{child.name} exited with code {code} ({reason}); restarting in {delay:g} s "
            f"(failure {child.failures_in_a_row} of {policy.limit} allowed in a row)"
        )
        await asyncio.sleep(delay)  # the backoff itself, not a wait for readiness
        child.restarts += 1
        await launch(child, env)
        try:
            await wait_serving(child, start_timeout_s, security)
        except StartupFailed as failed:
            say(f"{child.name} did not come back: {failed.reason}")
            if child.alive and child.process is not None:  # stuck in start-up: count it as a failure
                child.process.kill()
            continue
        say(f"{child.name} serving again (restart {child.restarts})")
