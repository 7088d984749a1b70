"""The stream client and a unary call in a process whose grpc.aio is instrumented by init_telemetry.

Prints one JSON object on stdout: what was applied, how often it reconnected,
and the names of the spans the process finished. Run by test_instrumented.py
in a subprocess, because the instrumentation patches grpc.aio for the whole
process. With an argument (a directory), everything goes over mutual TLS with certificates made
there: the instrumentation patches grpc.aio.secure_channel as it patches insecure_channel.
"""

from __future__ import annotations

import asyncio
import json
import pathlib
import sys

import grpc.aio
from opentelemetry import trace
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from opsuite.market.v1 import market_pb2, market_pb2_grpc
from services.common.channels import PLAINTEXT, TransportSecurity, open_channel
from services.common.cursor import MemoryCursorStore
from services.common.stream_client import EventStreamClient
from services.common.telemetry import init_telemetry

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
from common.fake_market import FakeMarket, make_event, start_server
from support.certs import authority, issue


def mutual_tls(directory: pathlib.Path) -> TransportSecurity:
    ca = authority(directory, "suite")
    leaf = issue(ca, directory, "suite")
    return TransportSecurity(
        leaf.cert.read_bytes(), leaf.key.read_bytes(), ca.pem.read_bytes(), client_auth=True
    )


async def main(security: TransportSecurity) -> dict[str, object]:
    init_telemetry("recon")  # before any server or channel exists, as run() does
    exporter = InMemorySpanExporter()
    trace.get_tracer_provider().add_span_processor(SimpleSpanProcessor(exporter))  # type: ignore[attr-defined]
    market = FakeMarket([make_event(seq) for seq in range(1, 50)])
    server, port = await start_server(market, security=security)
    applied: list[int] = []
    client = EventStreamClient(
        f"127.0.0.1:{port}",
        MemoryCursorStore(),
        lambda events: applied.extend(e.envelope.seq for e in events),
        service="recon",
        security=security,
        backoff_initial_s=0.05,
    )
    task = asyncio.create_task(client.run())
    await client.wait_for_seq(49, 20)
    await server.stop(None)
    server, _ = await start_server(market, f"127.0.0.1:{port}", security)
    await market.append(*(make_event(seq) for seq in range(50, 60)))
    await client.wait_for_seq(59, 20)
    code = ""
    async with open_channel(security, f"127.0.0.1:{port}") as channel:
        try:
            await market_pb2_grpc.MarketServiceStub(channel).GetClock(
                market_pb2.GetClockRequest(), timeout=10
            )
        except grpc.aio.AioRpcError as error:
            code = error.code().name
    await client.stop()
    await task
    await server.stop(None)
    spans = exporter.get_finished_spans()
    return {
        "applied": applied,
        "reconnects": client.reconnects,
        "get_clock_code": code,
        "spans": sorted({span.name for span in spans}),
        "span_kinds": sorted({f"{span.name}:{span.kind.name}" for span in spans}),
        # The server's span of GetClock is a child of the client's: the trace crossed the connection.
        "get_clock_traces": len({span.context.trace_id for span in spans if span.name.endswith("/GetClock")}),
    }


if __name__ == "__main__":
    security = mutual_tls(pathlib.Path(sys.argv[1])) if len(sys.argv) > 1 else PLAINTEXT
    print(json.dumps(asyncio.run(main(security))))
