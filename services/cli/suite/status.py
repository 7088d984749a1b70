"""opsuite status: every service of the suite, its health, and where it stands against market's stream.

Health comes from grpc.health.v1, the rest from GetStatus. Services this release does not
build are listed as such (they are not failures, so they never make the exit code 1).
"""

from __future__ import annotations

import argparse
import asyncio
from dataclasses import dataclass
from typing import Any

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from rich.table import Table

from opsuite.common.v1 import status_pb2, status_pb2_grpc
from services.cli.output import grouped, numeric_column, print_json, print_tables
from services.cli.registry import START_ORDER, available_services
from services.cli.view.model import date_text, uptime_text
from services.common.channels import Security, open_channel
from services.common.settings import load_settings

NOT_BUILT = "NOT_BUILT"
NOT_BUILT_TEXT = "not built in this release"


@dataclass(frozen=True)
class Answer:
    health: str  # SERVING, NOT_SERVING, ... or UNREACHABLE
    status: status_pb2.ServiceStatus | None = None


def _unreachable(error: grpc.aio.AioRpcError) -> str:
    if error.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
        return "UNREACHABLE"
    return str(error.code().name)


async def probe(channel: grpc.aio.Channel, timeout: float) -> Answer:
    """Health, then GetStatus, over an open channel (the live view keeps one per service)."""
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


async def check(security: Security, address: str, timeout: float) -> Answer:
    async with open_channel(security, address) as channel:
        return await probe(channel, timeout)


def service_record(name: str, address: str, answer: Answer | None) -> dict[str, Any]:
    """One service's row, as JSON fields; `answer` None means the service is not built."""
    status = answer.status if answer is not None else None
    return {
        "service": name,
        "address": address,
        "health": answer.health if answer is not None else NOT_BUILT,
        "applied_seq": status.applied_seq if status is not None else None,
        "lag": status.lag if status is not None else None,
        "simulated_date": (
            date_text(status.simulated_date)
            if status is not None and status.HasField("simulated_date")
            else None
        ),
        "uptime_seconds": status.uptime.seconds if status is not None else None,
        "not_serving_reason": (
            NOT_BUILT_TEXT if answer is None else status.not_serving_reason if status is not None else ""
        ),
    }


def _health_cell(health: str) -> str:
    if health == NOT_BUILT:
        return f"[dim]{NOT_BUILT_TEXT}[/]"
    return f"[{'green' if health == 'SERVING' else 'red'}]{health}[/]"


def _optional(value: int | None) -> str:
    return "-" if value is None else grouped(value)


def status_table(records: list[dict[str, Any]]) -> Table:
    table = Table(title="opsuite services")
    table.add_column("service")
    table.add_column("address")
    table.add_column("health")
    numeric_column(table, "applied seq")
    numeric_column(table, "lag (events)")
    table.add_column("simulated date")
    numeric_column(table, "uptime")
    table.add_column("why not serving")
    for record in records:
        built = record["health"] != NOT_BUILT
        uptime = record["uptime_seconds"]
        table.add_row(
            record["service"],
            record["address"],
            _health_cell(record["health"]),
            _optional(record["applied_seq"]),
            _optional(record["lag"]),
            record["simulated_date"] or "-",
            "-" if uptime is None else uptime_text(uptime),
            record["not_serving_reason"] if built else "",
        )
    return table


async def _records(timeout: float) -> list[dict[str, Any]]:
    settings = load_settings()
    built = available_services()
    answers = await asyncio.gather(*(check(settings, settings.addr(n), timeout) for n in built))
    records = [
        service_record(name, settings.addr(name), answer) for name, answer in zip(built, answers, strict=True)
    ]
    records += [service_record(n, settings.addr(n), None) for n in START_ORDER if n not in built]
    return records


def status(args: argparse.Namespace) -> int:
    records = asyncio.run(_records(args.timeout))
    # Until the parser has -o for status, a namespace without it means the table.
    if getattr(args, "output", "table") == "json":
        print_json(records)
    else:
        print_tables(status_table(records))
    built = [r for r in records if r["health"] != NOT_BUILT]
    return 0 if all(r["health"] == "SERVING" for r in built) else 1
