"""opsuite status: the health of every service at its configured address."""

from __future__ import annotations

import argparse
import asyncio

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from rich.console import Console
from rich.table import Table

from services.cli.registry import available_services
from services.common.settings import load_settings


async def check(address: str, timeout: float) -> str:
    """SERVING, NOT_SERVING, ... or UNREACHABLE."""
    async with grpc.aio.insecure_channel(address) as channel:
        try:
            reply = await health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(), timeout=timeout
            )
        except grpc.aio.AioRpcError as error:
            return (
                "UNREACHABLE"
                if error.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED)
                else error.code().name
            )
        return str(health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status))


async def _status(timeout: float) -> int:
    settings = load_settings()
    names = available_services()
    results = await asyncio.gather(*(check(settings.addr(n), timeout) for n in names))
    table = Table(title="opsuite services")
    for column in ("service", "address", "health"):
        table.add_column(column)
    for name, health in zip(names, results, strict=True):
        colour = "green" if health == "SERVING" else "red"
        table.add_row(name, settings.addr(name), f"[{colour}]{health}[/]")
    Console().print(table)
    return 0 if all(r == "SERVING" for r in results) else 1


def status(args: argparse.Namespace) -> int:
    return asyncio.run(_status(args.timeout))
