"""How long `opsuite up` waits for a service to start (services/cli/suite/supervisor.py,
wait_serving): OPSUITE_START_TIMEOUT_S bounds a start-up that makes no progress, not a long
catch-up. A follower on a decade's run is not SERVING for minutes while its applied_seq moves; a
fixed limit on the whole wait failed such healthy start-ups on a busy machine.

Each test serves grpc.health.v1 and opsuite's StatusService from a real server in this process,
the way a follower does while it catches up, for a child process that stays alive meanwhile."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import grpc.aio
import pytest
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from opsuite.common.v1 import status_pb2, status_pb2_grpc
from services.cli.suite.supervisor import Child, StartupFailed, wait_serving
from services.common.channels import TransportSecurity

TIMEOUT_S = 1.0


class CatchingUp(status_pb2_grpc.StatusServiceServicer):
    def __init__(self) -> None:
        self.applied_seq = 0

    async def GetStatus(
        self, request: status_pb2.GetStatusRequest, context: grpc.aio.ServicerContext
    ) -> status_pb2.ServiceStatus:
        return status_pb2.ServiceStatus(applied_seq=self.applied_seq)


@pytest.fixture
async def follower() -> AsyncIterator[tuple[str, CatchingUp, health.aio.HealthServicer]]:
    server = grpc.aio.server()
    status = CatchingUp()
    health_servicer = health.aio.HealthServicer()
    await health_servicer.set("", health_pb2.HealthCheckResponse.NOT_SERVING)
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    status_pb2_grpc.add_StatusServiceServicer_to_server(status, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        yield f"127.0.0.1:{port}", status, health_servicer
    finally:
        await server.stop(None)


async def _child(address: str, tmp_path: Path) -> Child:
    child = Child("dq", address, tmp_path / "dq.log")
    child.process = await asyncio.create_subprocess_exec("sleep", "60")
    return child


async def test_a_service_whose_applied_seq_keeps_moving_is_waited_for_past_the_timeout(
    follower: tuple[str, CatchingUp, health.aio.HealthServicer], tmp_path: Path
) -> None:
    address, status, health_servicer = follower
    child = await _child(address, tmp_path)
    applied_all = asyncio.Event()

    async def catch_up() -> None:
        # Four times the timeout in all, moving every half of it.
        for _ in range(8):
            await asyncio.sleep(TIMEOUT_S / 2)  # the simulated work, not a wait for readiness
            status.applied_seq += 1_000
        applied_all.set()
        await health_servicer.set("", health_pb2.HealthCheckResponse.SERVING)

    working = asyncio.create_task(catch_up())
    try:
        await wait_serving(child, TIMEOUT_S, TransportSecurity())
        assert applied_all.is_set() and status.applied_seq == 8_000
        assert child.state == "running"
    finally:
        working.cancel()
        assert child.process is not None
        child.process.kill()
        await child.process.wait()


async def test_a_service_that_stops_making_progress_fails_its_start_naming_where_it_stuck(
    follower: tuple[str, CatchingUp, health.aio.HealthServicer], tmp_path: Path
) -> None:
    address, status, _ = follower
    status.applied_seq = 4_321
    child = await _child(address, tmp_path)
    try:
        with pytest.raises(StartupFailed) as failed:
            await wait_serving(child, TIMEOUT_S, TransportSecurity())
        assert (
            failed.value.reason
            == f"not serving, and no progress for {TIMEOUT_S:.0f} s (applied_seq stayed at 4,321)"
        )
    finally:
        assert child.process is not None
        child.process.kill()
        await child.process.wait()
