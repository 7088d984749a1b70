"""A ledger started before its market: it listens, but answers UNAVAILABLE (retry) until it has
market's mandates, never NOT_FOUND for a mandate that exists nor an error from half-started state."""

from __future__ import annotations

from pathlib import Path

import grpc

from opsuite.ledger.v1 import ledger_pb2, ledger_pb2_grpc
from tests.ledger.process.conftest import world_env
from tests.support.ports import free_ports
from tests.support.processes import start_service


def test_a_ledger_waiting_for_market_answers_unavailable_then_serves(tmp_path: Path) -> None:
    [port] = free_ports(1)
    market_address = f"127.0.0.1:{port}"
    ledger = start_service(
        "ledger", tmp_path / "ledger", {**world_env(), "OPSUITE_MARKET_ADDR": market_address}
    )
    processes = [ledger]
    try:
        assert ledger.wait_listening(), ledger.log_text()
        with grpc.insecure_channel(ledger.address) as channel:
            stub = ledger_pb2_grpc.LedgerServiceStub(channel)
            calls = {
                "PostJournal": lambda: stub.PostJournal(
                    ledger_pb2.PostJournalRequest(mandate_id="INC-GBP", idempotency_key="k"), timeout=10
                ),
                "GetTrialBalance": lambda: stub.GetTrialBalance(
                    ledger_pb2.GetTrialBalanceRequest(mandate_id="INC-GBP"), timeout=10
                ),
                "GetLedger": lambda: stub.GetLedger(ledger_pb2.GetLedgerRequest(), timeout=10),
            }
            for name, call in calls.items():
                try:
                    call()
                except grpc.RpcError as error:
                    assert error.code() == grpc.StatusCode.UNAVAILABLE, (name, error.code(), error.details())
                    assert "fetching the mandates from market" in error.details()
                else:
                    raise AssertionError(f"{name} answered before the ledger knew the mandates")

            market = start_service("market", tmp_path / "market", world_env(), address=market_address)
            processes.append(market)
            ledger.wait_serving()
            balance = stub.GetTrialBalance(
                ledger_pb2.GetTrialBalanceRequest(mandate_id="INC-GBP"), timeout=10
            )
            assert balance.base_currency == "GBP"
    finally:
        for process in reversed(processes):
            process.stop()
