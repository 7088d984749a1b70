"""The audit's run through real processes: seed 5 from 2019-03-01, where the custodian dropped
FIL-0000077 (39,583,000 face of a Treasury). recon used to post the book-vs-custodian cash difference
to suspense, taking the ledger 40.0 M away from the custodian. The simulated custodian now books the
dropped trade late (on 2019-03-04, the settle date, so both books settle it that day) and the
40 M posting can no longer be reproduced end to end; tests/recon/domain/test_audit_cases.py replays
the never-booked case with the audit's figures. Here: the drop is one break, opened at the trade
date's day end and closed by the late booking; nothing reaches suspense; at every day end the
ledger's cash + suspense and the custodian's agree wherever no break of the custodian's explains a
difference, and the suspense invariants hold.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import grpc
import pytest

from opsuite.market.v1 import market_pb2, market_pb2_grpc
from services.scoring.recon_observe import observe_services
from services.scoring.recon_truth import check_invariants
from tests.support.processes import ServiceProcess, start_service
from tests.support.waiting import wait_until

WORLD = {"OPSUITE_SEED": "5", "OPSUITE_START": "2019-03-01", "OPSUITE_DAYS": "12", "OPSUITE_SPEED": "max"}


@pytest.mark.slow
def test_the_audited_drop_is_one_item_closed_by_the_late_booking_and_never_in_suspense(
    tmp_path: Path,
) -> None:
    processes: list[ServiceProcess] = []
    try:
        market = start_service("market", tmp_path / "market", WORLD)
        processes.append(market)
        market.wait_serving()
        with grpc.insecure_channel(market.address) as channel:
            stub = market_pb2_grpc.MarketServiceStub(channel)
            wait_until(lambda: not stub.GetClock(market_pb2.GetClockRequest()).running, what="the days")
        followed = {**WORLD, "OPSUITE_MARKET_ADDR": market.address}
        ledger = start_service("ledger", tmp_path / "ledger", followed)
        processes.append(ledger)
        ledger.wait_serving()
        recon = start_service(
            "recon", tmp_path / "recon", {**followed, "OPSUITE_LEDGER_ADDR": ledger.address}
        )
        processes.append(recon)
        recon.wait_serving()
        observed = observe_services(
            {"market": market.address, "ledger": ledger.address, "recon": recon.address},
            seed=5,
            fault_rate=1.0,
        )
    finally:
        for process in reversed(processes):
            assert process.stop() == 0, process.log_text()[-3000:]
    (drop,) = [f for f in observed.faults if f.fill_id == "FIL-0000077"]
    assert (drop.kind, drop.applied_date, drop.corrected_date) == (
        "CUSTODIAN_DROP_TRADE",
        dt.date(2019, 3, 1),
        dt.date(2019, 3, 4),
    )
    on_fill = [b for b in observed.breaks if b.fill_id == "FIL-0000077"]
    (missing,) = on_fill
    assert (missing.kind, missing.scope, missing.first_seen, missing.resolved_on) == (
        "MISSING_AT_CUSTODIAN",
        "TRADE",
        dt.date(2019, 3, 1),
        dt.date(2019, 3, 4),
    )
    assert missing.resolved_by in drop.correction_event_ids  # the custodian's late booking
    assert "booking deadline" in missing.description
    assert not any(b.parent_break_id == missing.break_id for b in observed.breaks)  # settled in time
    # nothing in suspense: every ledger-vs-custodian difference is explained by a break of the custodian's
    assert observed.journals == []
    assert all(b.comparison != "LEDGER_VS_CUSTODIAN" or b.parent_break_id for b in observed.breaks)
    fi = [c for c in observed.cash if c.mandate_id == "FI-USD"]
    assert len(fi) == 12 and all(c.ledger_cash + c.suspense == c.custodian for c in fi)
    checked = check_invariants(observed)
    assert checked["suspense_never_exceeds_its_break"] and checked["suspense_never_moves_cash_away"]
