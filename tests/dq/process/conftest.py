"""One finished suite for the dq command-line tests: market and dq as real processes, sharing one
data directory (so dq's issues are in the combined event log, as under `opsuite up`), started once
for the package.

market runs seed 7 from 2020-01-02 with the seeded faults: in its first 40 business days vendor_b
repeats and spikes prices often enough for a dozen issues, each resolved the next day. So that one
is still open when the run ends, market is restarted for one day more at a fifth of a day a second
and asked at once (InjectFault) for a vendor_b spike of an equity: the request is taken seconds
before that last day is simulated, so the spike lands on it whatever the machine's speed. dq then
checks the finished stream from the start. The tests read dq's figures back over gRPC; nothing
below names an issue, a price or a count.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest

from opsuite.common.v1 import common_pb2, status_pb2, status_pb2_grpc
from opsuite.dq.v1 import dq_pb2, dq_pb2_grpc
from opsuite.market.v1 import market_pb2, market_pb2_grpc
from tests.cli.conftest import run_opsuite
from tests.support.processes import ServiceProcess, finished_market, start_service
from tests.support.waiting import wait_until

WORLD = {"OPSUITE_SEED": "7", "OPSUITE_START": "2020-01-02", "OPSUITE_FAULT_RATE": "1"}
DAYS = 40
LAST_DAY_SPEED = "0.2"  # business days a second: five seconds to take the fault before the last day


@dataclass
class DqSuite:
    market: ServiceProcess
    dq: ServiceProcess
    data_dir: Path
    spiked: market_pb2.InjectedFault  # the vendor spike asked for the last day, as market applied it
    env: dict[str, str]  # what points a command at this suite

    def stub(self, channel: grpc.Channel) -> dq_pb2_grpc.DqServiceStub:
        return dq_pb2_grpc.DqServiceStub(channel)

    def status(self) -> dq_pb2.DqStatus:
        with grpc.insecure_channel(self.dq.address) as channel:
            status: dq_pb2.DqStatus = self.stub(channel).GetStatus(dq_pb2.GetStatusRequest(), timeout=30)
        return status

    def issues(self, **filters: object) -> list[dq_pb2.Issue]:
        """Every issue ListIssues gives for the filters, newest first."""
        found: list[dq_pb2.Issue] = []
        request = dq_pb2.ListIssuesRequest(page_size=1000, **filters)  # type: ignore[arg-type]
        with grpc.insecure_channel(self.dq.address) as channel:
            while True:
                reply = self.stub(channel).ListIssues(request, timeout=30)
                found.extend(reply.issues)
                if not reply.next_page_token:
                    return found
                request.page_token = reply.next_page_token

    def opsuite(self, *args: str) -> subprocess.CompletedProcess[str]:
        return run_opsuite(*args, env=self.env)


def _spike_the_last_day(data_dir: Path) -> tuple[ServiceProcess, market_pb2.InjectedFault]:
    """market resumed for one day more, slowly, with a vendor_b spike of an equity asked for at once;
    returned once that day is simulated (its clock stopped), still serving."""
    # The spike is asked for with InjectFault, which market refuses unless it is allowed.
    market = start_service(
        "market",
        data_dir,
        {
            **WORLD,
            "OPSUITE_DAYS": str(DAYS + 1),
            "OPSUITE_SPEED": LAST_DAY_SPEED,
            "OPSUITE_ALLOW_FAULT_INJECTION": "true",
        },
    )
    try:
        market.wait_serving()
        with grpc.insecure_channel(market.address) as channel:
            stub = market_pb2_grpc.MarketServiceStub(channel)
            equity = next(
                i.instrument_id
                for i in stub.ListInstruments(market_pb2.ListInstrumentsRequest()).instruments
                if i.asset_class == common_pb2.ASSET_CLASS_EQUITY
            )
            asked = stub.InjectFault(
                market_pb2.InjectFaultRequest(
                    kind=market_pb2.FAULT_KIND_VENDOR_PRICE_SPIKE, instrument_id=equity
                )
            )
            wait_until(
                lambda: not stub.GetClock(market_pb2.GetClockRequest()).running,
                timeout=120,
                what="market to simulate its last day",
            )
            [applied] = [
                f
                for f in stub.ListInjectedFaults(market_pb2.ListInjectedFaultsRequest()).faults
                if f.fault_id == asked.fault_id
            ]
        assert applied.status == market_pb2.FAULT_STATUS_APPLIED, applied
    except BaseException:
        market.stop()
        raise
    return market, applied


def _caught_up(dq: ServiceProcess, market: ServiceProcess) -> None:
    with grpc.insecure_channel(market.address) as channel:
        head = market_pb2_grpc.MarketServiceStub(channel).GetClock(market_pb2.GetClockRequest()).head_seq
    with grpc.insecure_channel(dq.address) as channel:
        stub = status_pb2_grpc.StatusServiceStub(channel)
        wait_until(
            lambda: stub.GetStatus(status_pb2.GetStatusRequest(), timeout=5).applied_seq >= head,
            timeout=300,
            what="dq to check market's whole stream",
        )


@pytest.fixture(scope="package")
def dq_suite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DqSuite]:
    data_dir = tmp_path_factory.mktemp("dq-suite")
    first = finished_market(data_dir, {**WORLD, "OPSUITE_DAYS": str(DAYS), "OPSUITE_SPEED": "max"})
    assert first.stop() == 0
    market, spiked = _spike_the_last_day(data_dir)
    processes = [market]
    try:
        # No ledger in this suite: dq compares the book with the custodian only.
        dq = start_service(
            "dq", data_dir, {**WORLD, "OPSUITE_MARKET_ADDR": market.address, "OPSUITE_DQ_USE_LEDGER": "false"}
        )
        processes.append(dq)
        dq.wait_serving()
        _caught_up(dq, market)
        env = {
            "OPSUITE_DATA_DIR": str(data_dir),
            "OPSUITE_MARKET_ADDR": market.address,
            "OPSUITE_DQ_ADDR": dq.address,
        }
        yield DqSuite(market, dq, data_dir, spiked, env)
    finally:
        for process in reversed(processes):
            process.stop()
