"""A simulated year (quick: 60 business days) of market, two ledgers (SQLite and PostgreSQL) and a
recon on each, asserting the suspense invariants at every day end on both backends.

Seed 7 from 2019-01-02 at the default fault rate (the custodian errs and corrects itself), and, in
both ledgers before the recons start, cash the bank never moved (services/scoring/recon_observe.py
planted_cash): fees booked and reversed later, a second fee while the first is held (an adjustment),
interest never paid, and fees never reversed, EQ-EUR's 750.25 written off at the end. At every day end, for every mandate (services/scoring/
recon_truth.py check_invariants, over the ledger's balances as of that day and the custodian's
statement): suspense never exceeds the open ledger-vs-custodian break it stands for, and no journal
recon posted moved the ledger's cash away from the custodian's. Both backends end with the same
breaks and the same journals.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import grpc
import pytest

from opsuite.ledger.v1 import ledger_pb2, ledger_pb2_grpc
from opsuite.recon.v1 import recon_pb2, recon_pb2_grpc
from services.scoring.recon_observe import book_planted_cash, observe_services, planted_cash, read_breaks
from services.scoring.recon_truth import Observed, check_invariants
from tests.recon.process.unexplained import business_days
from tests.support.processes import ServiceProcess, finished_market, start_service
from tests.support.suites import scaled

SEED, START = 7, dt.date(2019, 1, 2)
DAYS = scaled(250, 60)
BASE = {"BAL-USD": "USD", "FI-USD": "USD", "EQ-EUR": "EUR", "INC-GBP": "GBP", "EQ-JPY": "JPY"}


@pytest.mark.slow
def test_a_simulated_year_keeps_the_suspense_invariants_on_both_ledger_backends(
    tmp_path: Path, postgres_dsn: str
) -> None:
    env = {
        "OPSUITE_SEED": str(SEED),
        "OPSUITE_START": START.isoformat(),
        "OPSUITE_DAYS": str(DAYS),
        "OPSUITE_SPEED": "max",
    }
    processes: list[ServiceProcess] = []
    try:
        market = finished_market(tmp_path / "market", env)
        processes.append(market)
        days = business_days(START, DAYS)
        followed = {**env, "OPSUITE_MARKET_ADDR": market.address}
        ledgers = {
            "sqlite": start_service("ledger", tmp_path / "sqlite-ledger", followed),
            "postgres": start_service(
                "ledger", tmp_path / "postgres-ledger", {**followed, "OPSUITE_LEDGER_DSN": postgres_dsn}
            ),
        }
        processes += ledgers.values()
        recons = {}
        planted = planted_cash(days, BASE)
        for name, ledger in ledgers.items():
            ledger.wait_serving(timeout=300)
            book_planted_cash(ledger.address, planted)
            recons[name] = start_service(
                "recon", tmp_path / f"{name}-recon", {**followed, "OPSUITE_LEDGER_ADDR": ledger.address}
            )
            processes.append(recons[name])
        for recon in recons.values():
            recon.wait_serving(timeout=600)
        world = {
            name: {"market": market.address, "ledger": ledgers[name].address, "recon": recons[name].address}
            for name in ledgers
        }
        views = {}
        for backend, addresses in world.items():
            observed = observe_services(addresses, seed=SEED, fault_rate=1.0, ledger_backend=backend)
            invariants_hold(observed, backend)
            views[backend] = (
                sorted(
                    (b.break_id, b.status, b.first_seen, b.resolved_on, b.parent_break_id)
                    for b in observed.breaks
                ),
                sorted((j.idempotency_key, j.effective_date, j.cash) for j in observed.journals),
            )
        # both backends end with the same breaks and the same journals
        assert views["sqlite"] == views["postgres"]
        for backend, addresses in world.items():
            write_off(addresses, backend)
            invariants_hold(
                observe_services(addresses, seed=SEED, fault_rate=1.0, ledger_backend=backend), backend
            )
    finally:
        for process in reversed(processes):
            code = process.stop()
            assert code == 0, f"{process.name} exited {code}:\n{process.log_text()[-3000:]}"


def invariants_hold(observed: Observed, backend: str) -> None:
    assert len(observed.days) == DAYS
    checked = check_invariants(observed)
    print(f"\n{backend}: {checked}")
    assert checked["suspense_never_exceeds_its_break"], checked
    assert checked["suspense_never_moves_cash_away"], checked
    # the run did exercise suspense: postings, an adjustment and reversals
    keys = sorted(j.idempotency_key for j in observed.journals)
    assert checked["cash_items_holding_suspense"] > 0 and len(keys) >= 6, keys
    assert any(k.endswith(":v2") for k in keys)
    # where an unexplained break holds its whole difference, the ledger's cash is the custodian's
    for item in observed.cash:
        if item.suspense and item.custodian - (item.ledger_cash + item.suspense) == -item.suspense:
            assert item.ledger_cash == item.custodian, item


def write_off(addresses: dict[str, str], backend: str) -> None:
    """Write off EQ-EUR's fee, never reversed: 750.25 from suspense to Income:WriteOffs:EUR."""
    with grpc.insecure_channel(addresses["recon"]) as channel:
        recon = recon_pb2_grpc.ReconServiceStub(channel)
        (brk,) = [
            b for b in read_breaks(recon)
            if b.mandate_id == "EQ-EUR" and b.comparison == recon_pb2.COMPARISON_LEDGER_VS_CUSTODIAN
            and b.status in (recon_pb2.BREAK_STATUS_OPEN, recon_pb2.BREAK_STATUS_INVESTIGATING)
        ]  # fmt: skip
        detail = recon.UpdateBreak(
            recon_pb2.UpdateBreakRequest(
                break_id=brk.break_id, actor="ops", status=recon_pb2.BREAK_STATUS_WRITTEN_OFF
            )
        )
    assert detail.record.write_off_journal_id, backend
    with grpc.insecure_channel(addresses["ledger"]) as channel:
        balances = (
            ledger_pb2_grpc.LedgerServiceStub(channel)
            .GetBalances(
                ledger_pb2.GetBalancesRequest(
                    mandate_id="EQ-EUR", accounts=["Assets:Suspense:EUR", "Income:WriteOffs:EUR"]
                )
            )
            .balances
        )
    held = {b.account: Decimal(b.balance.amount.value) for b in balances}
    # the bank holds 750.25 more than the ledger's cash + suspense: suspense cleared, a gain of 750.25
    assert held.get("Assets:Suspense:EUR", Decimal(0)) == 0, (backend, held)
    assert held["Income:WriteOffs:EUR"] == Decimal("-750.25"), (backend, held)
