"""The HTTP/JSON edge's cost: each annotated RPC through the edge and directly over gRPC, in one run.

`python -m bench --only edge` (or `python -m bench.edge [--quick]`) starts `opsuite up --speed max`
(seed 7, 40 business days from 2020-01-02, documents without its embedding model), waits until
every service has applied market's whole stream, and then, for each route:

- latency: one request at a time on a kept-alive connection (httpx, parsing the JSON) against the
  same request message over one gRPC channel (a generated stub, parsing the protobuf), in
  alternating blocks so that drift on the machine falls on both alike; p50 and p99 of each, and
  the edge's overhead per request (the difference of the p50s);
- throughput: requests per second with 16 in flight from one asyncio client (httpx.AsyncClient
  against grpc.aio), which is what a dashboard with many panels or a script in a loop does.

The client runs in this process, the edge and the services in theirs: on a 2-core machine they
share the cores, as they would on a laptop.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import datetime as dt
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import httpx
from google.protobuf import json_format
from google.protobuf.message import Message

from opsuite.common.v1 import status_pb2, status_pb2_grpc
from opsuite.documents.v1 import documents_pb2, documents_pb2_grpc
from opsuite.dq.v1 import dq_pb2, dq_pb2_grpc
from opsuite.ledger.v1 import ledger_pb2, ledger_pb2_grpc
from opsuite.market.v1 import market_pb2, market_pb2_grpc
from opsuite.recon.v1 import recon_pb2, recon_pb2_grpc
from opsuite.reporting.v1 import reporting_pb2, reporting_pb2_grpc
from services.cli.registry import MARKET_FOLLOWERS, free_port
from services.common.settings import EDGE, SERVICES

ROOT = Path(__file__).resolve().parent.parent
CONFIRMATION = ROOT / "examples" / "confirmation-halvorsen.txt"
IN_FLIGHT = 16


@dataclass(frozen=True)
class Route:
    """One annotated RPC: the HTTP request the edge transcodes, and the same call over gRPC."""

    name: str
    service: str
    method: str
    path: str
    body: dict[str, Any] | None
    stub: Callable[[Any], Any]
    rpc: str
    request: Message
    varying: tuple[str, ...] = ()  # fields each call sets afresh (an extraction's ids), not compared

    def bind(self, channel: grpc.Channel | grpc.aio.Channel) -> Callable[[], Any]:
        """The RPC's callable on `channel`, made once: calls it with the route's request."""
        method = getattr(self.stub(channel), self.rpc)
        return lambda: method(self.request)


def _routes(mandate_id: str) -> list[Route]:
    content = CONFIRMATION.read_bytes()
    reporting = reporting_pb2_grpc.ReportingServiceStub
    return [
        Route("ListMandates", "reporting", "GET", "/api/reporting/mandates", None,
              reporting, "ListMandates", reporting_pb2.ListMandatesRequest()),
        Route("GetReport", "reporting", "GET", f"/api/reporting/report/{mandate_id}", None,
              reporting, "GetReport", reporting_pb2.GetReportRequest(mandate_id=mandate_id)),
        Route("GetLedger", "ledger", "GET", f"/api/ledger?mandate_id={mandate_id}&page_size=20", None,
              ledger_pb2_grpc.LedgerServiceStub, "GetLedger",
              ledger_pb2.GetLedgerRequest(mandate_id=mandate_id, page_size=20)),
        Route("GetReconciliation", "recon", "GET", "/api/recon", None,
              recon_pb2_grpc.ReconServiceStub, "GetReconciliation", recon_pb2.GetReconciliationRequest()),
        Route("dq GetStatus", "dq", "GET", "/api/dataquality", None,
              dq_pb2_grpc.DqServiceStub, "GetStatus", dq_pb2.GetStatusRequest()),
        Route("ExtractConfirmation", "documents", "POST", "/api/documents/extract",
              {"content": base64.b64encode(content).decode()},
              documents_pb2_grpc.DocumentsServiceStub, "ExtractConfirmation",
              documents_pb2.ExtractConfirmationRequest(content=content),
              varying=("extraction_id", "event_id", "trace_id", "break_id")),
    ]  # fmt: skip


def _finished(addresses: dict[str, str]) -> bool:
    try:
        with grpc.insecure_channel(addresses["market"]) as channel:
            clock = market_pb2_grpc.MarketServiceStub(channel).GetClock(
                market_pb2.GetClockRequest(), timeout=2
            )
        if clock.running or clock.head_seq == 0:
            return False
        for name in MARKET_FOLLOWERS:
            with grpc.insecure_channel(addresses[name]) as channel:
                status = status_pb2_grpc.StatusServiceStub(channel).GetStatus(
                    status_pb2.GetStatusRequest(), timeout=2
                )
            if not status.serving or status.applied_seq < clock.head_seq:
                return False
        return httpx.get(f"http://{addresses[EDGE]}/readyz", timeout=2).status_code == 200
    except (grpc.RpcError, httpx.HTTPError):
        return False


def _start_suite(data_dir: Path) -> tuple[subprocess.Popen[bytes], dict[str, str]]:
    addresses = {name: f"127.0.0.1:{free_port('127.0.0.1')}" for name in (*SERVICES, EDGE)}
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("OPSUITE_", "OTEL_"))},
        "OPSUITE_DATA_DIR": str(data_dir),
        "OPSUITE_DOCUMENTS_USE_MODEL": "false",  # extraction needs no model; Ask is not measured
        **{f"OPSUITE_{name.upper()}_ADDR": address for name, address in addresses.items()},
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "services.cli", "up", "--speed", "max", "--seed", "7",
         "--start", "2020-01-02", "--days", "40", "--no-view"],
        cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
        stdout=(data_dir / "supervisor.out").open("wb"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    deadline = time.monotonic() + 300
    while not _finished(addresses):
        if process.poll() is not None:
            raise RuntimeError(f"opsuite up exited: {(data_dir / 'supervisor.out').read_text()}")
        if time.monotonic() > deadline:
            raise RuntimeError("the suite did not catch up within 300 s")
        time.sleep(0.5)  # waiting for a simulation that takes seconds; each check is a few RPCs
    return process, addresses


def _percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def _latency(route: Route, edge_url: str, address: str, requests: int) -> dict[str, float]:
    edge_ms: list[float] = []
    grpc_ms: list[float] = []
    block = 25
    with httpx.Client(base_url=edge_url, timeout=30) as client, grpc.insecure_channel(address) as channel:
        call = route.bind(channel)
        for _ in range(10):  # warm both paths: connections, the edge's route table, caches
            client.request(route.method, route.path, json=route.body).raise_for_status()
            call()
        # The edge must answer what the service answers, or its speed means nothing.
        direct = call()
        over_edge = json_format.ParseDict(
            client.request(route.method, route.path, json=route.body).json(), type(direct)()
        )
        for name in route.varying:
            over_edge.ClearField(name)
            direct.ClearField(name)
        if over_edge != direct:
            raise RuntimeError(f"{route.path}: the edge's answer differs from the service's")
        while len(edge_ms) < requests:
            for _ in range(block):
                started = time.perf_counter()
                response = client.request(route.method, route.path, json=route.body)
                response.json()
                edge_ms.append((time.perf_counter() - started) * 1000)
                if response.status_code != 200:
                    raise RuntimeError(f"{route.path}: {response.status_code} {response.text[:300]}")
            for _ in range(block):
                started = time.perf_counter()
                call()
                grpc_ms.append((time.perf_counter() - started) * 1000)
        json_bytes = len(client.request(route.method, route.path, json=route.body).content)
        proto_bytes = call().ByteSize()
    edge_p50, grpc_p50 = statistics.median(edge_ms), statistics.median(grpc_ms)
    return {
        "requests": len(edge_ms),
        "edge_p50_ms": edge_p50,
        "edge_p99_ms": _percentile(edge_ms, 0.99),
        "grpc_p50_ms": grpc_p50,
        "grpc_p99_ms": _percentile(grpc_ms, 0.99),
        "overhead_p50_ms": edge_p50 - grpc_p50,
        "edge_vs_grpc_p50": edge_p50 / grpc_p50,
        "json_bytes": json_bytes,
        "protobuf_bytes": proto_bytes,
    }


async def _throughput(route: Route, edge_url: str, address: str, seconds: float) -> dict[str, float]:
    async def drive(one: Callable[[], Awaitable[object]]) -> float:
        done = 0
        stop = time.perf_counter() + seconds

        async def worker() -> None:
            nonlocal done
            while time.perf_counter() < stop:
                await one()
                done += 1

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(IN_FLIGHT)))
        return done / (time.perf_counter() - started)

    limits = httpx.Limits(max_connections=IN_FLIGHT, max_keepalive_connections=IN_FLIGHT)
    async with httpx.AsyncClient(base_url=edge_url, timeout=30, limits=limits) as client:

        async def over_edge() -> None:
            response = await client.request(route.method, route.path, json=route.body)
            response.raise_for_status()
            response.json()

        await drive(over_edge)  # warm: IN_FLIGHT connections opened
        edge_rps = await drive(over_edge)
    async with grpc.aio.insecure_channel(address) as channel:
        grpc_rps = await drive(route.bind(channel))
    return {
        "in_flight": IN_FLIGHT,
        "edge_rps": edge_rps,
        "grpc_rps": grpc_rps,
        "edge_vs_grpc": edge_rps / grpc_rps,
    }


def main_section(args: argparse.Namespace) -> dict[str, object]:
    quick = bool(getattr(args, "quick", False))
    requests, seconds = (100, 1.0) if quick else (1000, 3.0)
    with tempfile.TemporaryDirectory() as tmp:
        print("edge: opsuite up --speed max, 40 business days (seed 7) ...", flush=True)
        process, addresses = _start_suite(Path(tmp))
        try:
            edge_url = f"http://{addresses[EDGE]}"
            with grpc.insecure_channel(addresses["reporting"]) as channel:
                mandates = reporting_pb2_grpc.ReportingServiceStub(channel).ListMandates(
                    reporting_pb2.ListMandatesRequest()
                )
            rows = []
            for route in _routes(mandates.mandates[0].mandate_id):
                address = addresses[route.service]
                latency = _latency(route, edge_url, address, requests)
                throughput = asyncio.run(_throughput(route, edge_url, address, seconds))
                row = {"route": f"{route.method} {route.path}", "rpc": route.name, **latency, **throughput}
                rows.append(row)
                print(
                    f"  {row['route']:<52} p50 edge {latency['edge_p50_ms']:6.2f} ms  grpc {latency['grpc_p50_ms']:6.2f} ms"
                    f"  (+{latency['overhead_p50_ms']:.2f} ms, x{latency['edge_vs_grpc_p50']:.1f})"
                    f"  p99 {latency['edge_p99_ms']:6.2f} / {latency['grpc_p99_ms']:6.2f} ms"
                    f"  | {IN_FLIGHT} in flight: edge {throughput['edge_rps']:7,.0f}/s  grpc {throughput['grpc_rps']:7,.0f}/s"
                    f"  = {throughput['edge_vs_grpc']:.2f}",
                    flush=True,
                )
        finally:
            process.send_signal(signal.SIGINT)
            process.wait(timeout=120)
    return {
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "quick": quick,
        "requests_per_route": requests,
        "throughput_seconds": seconds,
        "rows": rows,
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--quick", action="store_true", help="100 requests a route and 1 s of throughput each"
    )
    main_section(parser.parse_args())
