"""Every service says NOT_SERVING when it starts to shut down, before it stops listening.

A load balancer or Kubernetes watching health must hear "draining", not find the service gone:
an open health Watch on each service receives NOT_SERVING after SIGTERM, then ends, and the
service exits 0.
"""

from __future__ import annotations

import signal
import threading
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from tests.support.processes import ServiceProcess, start_service

ENV = {"OPSUITE_SEED": "3", "OPSUITE_START": "2020-02-03", "OPSUITE_DAYS": "5", "OPSUITE_SPEED": "max"}


def _watch_then_terminate(service: ServiceProcess) -> list[int]:
    """Open a health Watch, SIGTERM the service once it answered SERVING; every status heard."""
    heard: list[int] = []
    with grpc.insecure_channel(service.address) as channel:
        watch = health_pb2_grpc.HealthStub(channel).Watch(health_pb2.HealthCheckRequest(), timeout=60)
        for reply in watch:
            heard.append(reply.status)
            if reply.status == health_pb2.HealthCheckResponse.SERVING and len(heard) == 1:
                threading.Thread(target=service.process.send_signal, args=(signal.SIGTERM,)).start()
    return heard


@pytest.mark.slow
def test_every_service_reports_not_serving_while_it_drains(tmp_path: Path) -> None:
    market = start_service("market", tmp_path / "market", ENV)
    services = [market]
    try:
        market.wait_serving()
        ledger = start_service("ledger", tmp_path / "ledger", {**ENV, "OPSUITE_MARKET_ADDR": market.address})
        services.append(ledger)
        ledger.wait_serving()
        dq = start_service(
            "dq",
            tmp_path / "dq",
            {**ENV, "OPSUITE_MARKET_ADDR": market.address, "OPSUITE_LEDGER_ADDR": ledger.address},
        )
        services.append(dq)
        dq.wait_serving()
        recon = start_service(
            "recon",
            tmp_path / "recon",
            {**ENV, "OPSUITE_MARKET_ADDR": market.address, "OPSUITE_LEDGER_ADDR": ledger.address},
        )
        services.append(recon)
        recon.wait_serving()
        # Followers first, so each one's peers are still there while it drains.
        for service in (recon, dq, ledger, market):
            heard = _watch_then_terminate(service)
            assert heard == [
                health_pb2.HealthCheckResponse.SERVING,
                health_pb2.HealthCheckResponse.NOT_SERVING,
            ], f"{service.name} said {heard}"
            assert service.process.wait(30) == 0, service.log_text()[-3000:]
    finally:
        for service in reversed(services):
            service.stop()
