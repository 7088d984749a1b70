"""The replay dq's truth bench scores (services/scoring/dq_replay.py) raises exactly the issues the
real dq service raises: market and dq run as processes on a short world with raised fault rates
(its own processes, not the package's suite), every issue is read back through ListIssues and
compared, field by field, with the replay's issue in the form the service stores it (each issue's
last change, through the service's own codec). The trace id is the service's alone."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import grpc

from opsuite.common.v1 import status_pb2, status_pb2_grpc
from opsuite.dq.v1 import dq_pb2, dq_pb2_grpc
from opsuite.market.v1 import market_pb2, market_pb2_grpc
from services.dq.codec import issue_to_proto
from services.scoring.dq_replay import final_issues, replay, simulation
from tests.support.processes import finished_market, start_service
from tests.support.waiting import wait_until

SEED, START, DAYS, FAULT_RATE = 13, dt.date(2020, 2, 3), 45, 5.0  # 45 days: spike scores start after 20


def _service_issues(dq_address: str, market_address: str) -> list[dq_pb2.Issue]:
    with grpc.insecure_channel(market_address) as channel:
        head = market_pb2_grpc.MarketServiceStub(channel).GetClock(market_pb2.GetClockRequest()).head_seq
    found: list[dq_pb2.Issue] = []
    with grpc.insecure_channel(dq_address) as channel:
        status = status_pb2_grpc.StatusServiceStub(channel)
        wait_until(
            lambda: status.GetStatus(status_pb2.GetStatusRequest(), timeout=5).applied_seq >= head,
            timeout=300,
            what="dq to check market's whole stream",
        )
        stub = dq_pb2_grpc.DqServiceStub(channel)
        request = dq_pb2.ListIssuesRequest(page_size=1000)
        while True:
            reply = stub.ListIssues(request, timeout=30)
            found.extend(reply.issues)
            if not reply.next_page_token:
                return found
            request.page_token = reply.next_page_token


def test_the_replay_raises_the_issues_the_real_service_raises(tmp_path: Path) -> None:
    env = {
        "OPSUITE_SEED": str(SEED),
        "OPSUITE_START": START.isoformat(),
        "OPSUITE_DAYS": str(DAYS),
        "OPSUITE_SPEED": "max",
        "OPSUITE_FAULT_RATE": f"{FAULT_RATE:g}",
    }
    market = finished_market(tmp_path / "market", env)
    try:
        # The replay has no ledger: neither has this dq (book against custodian only).
        dq = start_service(
            "dq",
            tmp_path / "dq",
            {**env, "OPSUITE_MARKET_ADDR": market.address, "OPSUITE_DQ_USE_LEDGER": "false"},
        )
        try:
            dq.wait_serving(timeout=300)
            served = _service_issues(dq.address, market.address)
        finally:
            assert dq.stop() == 0
    finally:
        assert market.stop() == 0

    replayed = final_issues(list(replay(simulation(SEED, START, DAYS, FAULT_RATE))))
    assert len(replayed) > 10  # faults enough for the comparison to mean something
    for issue in served:
        issue.ClearField("trace_id")
    by_id = {i.issue_id: i for i in served}
    assert sorted(by_id) == sorted(replayed)
    for issue_id, change in replayed.items():
        assert by_id[issue_id] == issue_to_proto(change.issue), issue_id
