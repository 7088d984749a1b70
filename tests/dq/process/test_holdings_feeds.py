"""dq's holdings feeds end to end: real market (a finished 40-day run with custodian faults at three
times their seeded rates), ledger and dq. Where the custodian booked a fill wrong, dq compares the
three feeds on trade date and names the custodian (the ledger sides with the internal book); the
ledger's positions and market values agree with the book and with quantity x price every day."""

from __future__ import annotations

from pathlib import Path

import grpc

from opsuite.dq.v1 import dq_pb2, dq_pb2_grpc
from tests.support.processes import finished_market, start_service

ENV = {
    "OPSUITE_SEED": "11",
    "OPSUITE_START": "2020-06-01",
    "OPSUITE_DAYS": "40",
    "OPSUITE_SPEED": "max",
    "OPSUITE_FAULT_RATE": "3",
}


def test_the_custodian_is_named_where_it_booked_wrong_and_the_ledger_agrees_with_the_book(
    tmp_path: Path,
) -> None:
    market = finished_market(tmp_path / "market", ENV)
    processes = [market]
    try:
        peers = {**ENV, "OPSUITE_MARKET_ADDR": market.address}
        ledger = start_service("ledger", tmp_path / "ledger", peers)
        processes.append(ledger)
        ledger.wait_listening()
        dq = start_service("dq", tmp_path / "dq", {**peers, "OPSUITE_LEDGER_ADDR": ledger.address})
        processes.append(dq)
        dq.wait_serving(timeout=300)
        with grpc.insecure_channel(dq.address) as channel:
            stub = dq_pb2_grpc.DqServiceStub(channel)
            custodian = stub.ListIssues(
                dq_pb2.ListIssuesRequest(kinds=[dq_pb2.ISSUE_KIND_HOLDINGS_BOOK_VS_CUSTODIAN], page_size=1000)
            ).issues
            status = stub.GetStatus(dq_pb2.GetStatusRequest())
    finally:
        for process in reversed(processes):
            process.stop()
    assert custodian, "three times the seeded rates: the custodian mis-books some fills in 40 days"
    # Two feeds agree (book and ledger), so the third is the one that looks wrong.
    assert {i.vendor for i in custodian} == {"custodian"}, [i.message for i in custodian]
    assert all(i.mandate_id and i.unexpected_count >= 1 and i.unexpected_sample for i in custodian)
    checks = {c.check: c for c in status.checks}
    days = checks["holdings.weights"].checked_count
    for name in ("holdings.book_vs_ledger", "holdings.market_value"):
        assert checks[name].checked_count == days > 0, name  # every mandate, every day end
        assert checks[name].failed_count == 0, name
    assert checks["holdings.book_vs_custodian"].failed_count >= len(custodian)
