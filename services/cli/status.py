"""opsuite status: every service's health, and where it stands against market's stream (GetStatus)."""

from __future__ import annotations

import argparse
import asyncio
from dataclasses import dataclass

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from rich.console import Console
from rich.table import Table

from opsuite.common.v1 import status_pb2, status_pb2_grpc
from services.cli.registry import available_services
from services.common.settings import load_settings


@dataclass(frozen=True)
class Answer:
    health: str  # SERVING, NOT_SERVING, ... or UNREACHABLE
    status: status_pb2.ServiceStatus | None = None


def _unreachable(error: grpc.aio.AioRpcError) -> str:
    if error.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
        return "UNREACHABLE"
    return str(error.code().name)


async def check(address: str, timeout: float) -> Answer:
    async with grpc.aio.insecure_channel(address) as channel:
        try:
            reply = await health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(), timeout=timeout
            )
        except grpc.aio.AioRpcError as error:
            return Answer(_unreachable(error))
        health = str(health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status))
        try:
            status = await status_pb2_grpc.StatusServiceStub(channel).GetStatus(
                status_pb2.GetStatusRequest(), timeout=timeout
            )
        except grpc.aio.AioRpcError:
            return Answer(health)
        return Answer(health, status)


def _date(status: status_pb2.ServiceStatus) -> str:
    d = status.simulated_date
    return f"{d.year:04d}-{d.month:02d}-{d.day:02d}" if status.HasField("simulated_date") else "-"


def _uptime(status: status_pb2.ServiceStatus) -> str:
    seconds = status.uptime.seconds
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m{seconds % 60:02d}s"


async def _status(timeout: float) -> int:
    settings = load_settings()
    names = available_services()
    answers = await asyncio.gather(*(check(settings.addr(n), timeout) for n in names))
    table = Table(title="opsuite services")
    for column in (
        "service",
        "address",
        "health",
        "applied seq",
        "lag",
        "simulated date",
        "uptime",
        "why not serving",
    ):
        table.add_column(column)
    for name, answer in zip(names, answers, strict=True):
        colour = "green" if answer.health == "SERVING" else "red"
        status = answer.status
        cells = (
            [
                str(status.applied_seq),
                str(status.lag),
                _date(status),
                _uptime(status),
                status.not_serving_reason,
            ]
            if status is not None
            else ["-", "-", "-", "-", ""]
        )
        table.add_row(name, settings.addr(name), f"[{colour}]{answer.health}[/]", *cells)
    Console(width=200).print(table)
    return 0 if all(a.health == "SERVING" for a in answers) else 1


def status(args: argparse.Namespace) -> int:
    return asyncio.run(_status(args.timeout))
