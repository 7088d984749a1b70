"""One finished suite for the reporting tests that only read: market (its 30 days run to the end,
no faults), the ledger, dq and reporting as real processes, started once for the package. A test
that changes the books (test_nav_differences.py) starts its own."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest

from opsuite.common.v1 import common_pb2
from opsuite.reporting.v1 import reporting_pb2, reporting_pb2_grpc
from tests.support.processes import ServiceProcess, finished_market, start_service

ENV = {
    "OPSUITE_SEED": "21",
    "OPSUITE_START": "2020-02-03",
    "OPSUITE_DAYS": "30",
    "OPSUITE_SPEED": "max",
    "OPSUITE_FAULT_RATE": "0",
}


@dataclass
class Suite:
    market: ServiceProcess
    ledger: ServiceProcess
    dq: ServiceProcess
    reporting: ServiceProcess
    env: dict[str, str]  # the run's settings with every service's address, for a command pointed at it

    def report(self, mandate_id: str, as_of: common_pb2.Date | None = None) -> reporting_pb2.Report:
        with grpc.insecure_channel(self.reporting.address) as channel:
            request = reporting_pb2.GetReportRequest(mandate_id=mandate_id, as_of=as_of)
            report: reporting_pb2.Report = reporting_pb2_grpc.ReportingServiceStub(channel).GetReport(request)
        return report

    def history(self, mandate_id: str) -> list[reporting_pb2.NavPoint]:
        with grpc.insecure_channel(self.reporting.address) as channel:
            request = reporting_pb2.GetNavHistoryRequest(mandate_id=mandate_id, page_size=1000)
            return list(reporting_pb2_grpc.ReportingServiceStub(channel).GetNavHistory(request).points)


@contextmanager
def running_suite(root: Path, env: Mapping[str, str]) -> Iterator[Suite]:
    """market run to its end, then the ledger, dq and reporting following it; all stopped on exit."""
    market = finished_market(root / "market", env)
    processes = [market]
    try:
        peers = {**env, "OPSUITE_MARKET_ADDR": market.address}
        ledger = start_service("ledger", root / "ledger", peers)
        processes.append(ledger)
        ledger.wait_listening()
        dq = start_service("dq", root / "dq", {**peers, "OPSUITE_LEDGER_ADDR": ledger.address})
        processes.append(dq)
        ledger.wait_serving()
        dq.wait_serving()
        reporting = start_service(
            "reporting",
            root / "reporting",
            {**peers, "OPSUITE_LEDGER_ADDR": ledger.address, "OPSUITE_DQ_ADDR": dq.address},
        )
        processes.append(reporting)
        reporting.wait_serving()
        addresses = {f"OPSUITE_{p.name.upper()}_ADDR": p.address for p in processes}
        yield Suite(market, ledger, dq, reporting, {**env, **addresses})
    finally:
        for process in reversed(processes):
            process.stop()


@pytest.fixture(scope="package")
def suite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Suite]:
    with running_suite(tmp_path_factory.mktemp("reporting-suite"), ENV) as running:
        yield running
