"""Restart recon in the middle of a live run: its breaks keep their ids and ages, nothing is
raised twice, and no suspense journal is posted twice (compared with a recon never interrupted).
The ledger is given unexplained cash to post (a fee the bank never charged on INC-GBP, booked on day
8 and reversed on day 20: no custodian fault of INC-GBP in GBP is open then; EQ-EUR, used before it
held GBP, has a price typo in EUR open from day 4 to day 23 since), so suspense is posted on day 11
and reversed on day 20 while the victim is killed and restarted.

Both recons wait for the ledger at every day end (a check never runs without it), so a ledger slow
to answer on a busy machine delays a check instead of changing it."""

from __future__ import annotations

import contextlib
import datetime as dt
import signal
from pathlib import Path

import grpc
import pytest

from opsuite.ledger.v1 import ledger_pb2, ledger_pb2_grpc
from opsuite.market.v1 import market_pb2, market_pb2_grpc
from opsuite.recon.v1 import recon_pb2, recon_pb2_grpc
from tests.recon.process.unexplained import book_unexplained_fee, business_days
from tests.support.processes import ServiceProcess, start_service
from tests.support.waiting import wait_until

DAYS = 40


def _breaks(recon: ServiceProcess) -> dict[str, tuple]:
    with grpc.insecure_channel(recon.address) as channel:
        stub = recon_pb2_grpc.ReconServiceStub(channel)
        found, token = {}, ""
        while True:
            page = stub.ListBreaks(recon_pb2.ListBreaksRequest(page_size=500, page_token=token))
            for b in page.breaks:
                found[b.break_id] = (
                    b.kind, b.status, b.first_seen_date.SerializeToString(), b.age_business_days,
                    b.aging_bucket, b.escalated, b.suspense_journal_id, tuple(b.caused_by),
                )  # fmt: skip
            if not (token := page.next_page_token):
                return found


@pytest.mark.slow
def test_a_recon_killed_mid_run_ends_like_one_never_interrupted(tmp_path: Path) -> None:
    env = {
        "OPSUITE_SEED": "7",
        "OPSUITE_START": "2020-02-03",
        "OPSUITE_DAYS": str(DAYS),
        # One business day a second: the processes start (side by side) and the victim is killed twice
        # within the first 20 or so of the 40 days, even on a busy machine.
        "OPSUITE_SPEED": "1",
    }
    market = start_service("market", tmp_path / "market", env)
    processes = [market]
    try:
        market.wait_serving()
        ledger = start_service("ledger", tmp_path / "ledger", {**env, "OPSUITE_MARKET_ADDR": market.address})
        processes.append(ledger)
        assert ledger.wait_listening(), ledger.log_text()[-3000:]
        days = business_days(dt.date.fromisoformat(env["OPSUITE_START"]), DAYS)
        book_unexplained_fee(ledger, "INC-GBP", "GBP", "2500.00", days[7], reversed_on=days[19])
        # The recons start with the ledger, as `opsuite up` could: they wait for it to book each day end.
        wired = {**env, "OPSUITE_MARKET_ADDR": market.address, "OPSUITE_LEDGER_ADDR": ledger.address}
        steady = start_service("recon", tmp_path / "steady", wired)
        processes.append(steady)
        victim_dir = tmp_path / "victim"
        victim = start_service("recon", victim_dir, wired)
        processes.append(victim)
        ledger.wait_serving()
        steady.wait_serving()

        with grpc.insecure_channel(market.address) as channel:
            clock = market_pb2_grpc.MarketServiceStub(channel)

            def day() -> int:
                return clock.GetClock(market_pb2.GetClockRequest()).business_days_elapsed

            # Kill the second recon twice while the market is still producing days, each time two
            # business days after it caught up (so it has checked day ends of its own by then).
            for kill in range(2):
                if kill:
                    victim = start_service("recon", victim_dir, wired)
                    processes.append(victim)
                victim.wait_serving()
                kill_at = day() + 2
                wait_until(lambda kill_at=kill_at: day() >= kill_at, what=f"day {kill_at}")
                victim.stop(signal.SIGKILL)
            assert day() < DAYS, "the market finished before recon could be killed mid-run"
            survivor = start_service("recon", victim_dir, wired)
            processes.append(survivor)
            survivor.wait_serving()
            wait_until(
                lambda: not clock.GetClock(market_pb2.GetClockRequest()).running,
                timeout=120,
                what="the last day",
            )

        def both_done() -> bool:
            # Both recons have checked the last day end of every mandate.
            return _breaks(steady) == _breaks(survivor) and bool(_breaks(steady))

        with contextlib.suppress(AssertionError):  # the assertion below shows the difference
            wait_until(both_done, timeout=180, what="both recons to check the last day end")
        expected, actual = _breaks(steady), _breaks(survivor)
        assert actual == expected
        posted = {b[6] for b in expected.values() if b[6]}
        assert len(expected) >= 3 and posted, (
            "the run should raise breaks and post unexplained cash to suspense"
        )
        with grpc.insecure_channel(ledger.address) as channel:
            journals = (
                ledger_pb2_grpc.LedgerServiceStub(channel)
                .GetLedger(ledger_pb2.GetLedgerRequest(kind=ledger_pb2.JOURNAL_KIND_SUSPENSE, page_size=1000))
                .journals
            )
        # Two recons and three recon processes, one journal per break and version: the posting and
        # its reversal, the latest of which each break records.
        keys = sorted(j.idempotency_key for j in journals)
        assert len(keys) == len(set(keys)) == 2 and keys[0].endswith(":v1") and keys[1].endswith(":v2"), keys
        assert posted <= {j.journal_id for j in journals}
    finally:
        for process in reversed(processes):
            process.stop()
