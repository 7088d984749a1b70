"""PostgreSQL cut away from the ledger mid-run (through a TCP proxy the test controls).

While the database is unreachable the ledger says so (NOT_SERVING, the reason in GetStatus),
answers UNAVAILABLE, and keeps retrying; once it answers again the ledger resumes by itself and
ends with the same book as a ledger that was never cut (one on SQLite following the same
market). A journal refused during the outage is posted once on retry; SIGTERM exits 0.
"""

from __future__ import annotations

from pathlib import Path

import grpc
import pytest
from psycopg.conninfo import conninfo_to_dict

from opsuite.ledger.v1 import ledger_pb2, ledger_pb2_grpc
from services.common.serve import LIVENESS
from tests.outages.support import (
    NOT_SERVING,
    SERVING,
    a_manual_journal,
    clock,
    health,
    mandate_ids,
    status,
    trial_balances,
)
from tests.support.processes import ServiceProcess, start_service
from tests.support.tcp_proxy import proxy_to
from tests.support.waiting import wait_until

ENV = {
    "OPSUITE_SEED": "11",
    "OPSUITE_START": "2020-02-03",
    "OPSUITE_DAYS": "40",
    # Live, so the ledger is booking while the database goes away.
    "OPSUITE_SPEED": "4",
}


def _caught_up(ledger: ServiceProcess, head: int) -> bool:
    reply = status(ledger)
    return reply.serving and reply.applied_seq >= head


@pytest.mark.slow
def test_the_ledger_rides_out_a_postgresql_outage_and_ends_with_the_same_book(
    tmp_path: Path, postgres_dsn: str
) -> None:
    target = conninfo_to_dict(postgres_dsn)
    with proxy_to(str(target.get("host") or "127.0.0.1"), int(target.get("port") or 5432)) as proxy:
        user, database = target.get("user") or "postgres", target["dbname"]
        proxied = f"postgresql://{user}@127.0.0.1:{proxy.port}/{database}"
        market = start_service("market", tmp_path / "market", ENV)
        processes = [market]
        try:
            market.wait_serving()
            wired = {**ENV, "OPSUITE_MARKET_ADDR": market.address}
            ledger = start_service("ledger", tmp_path / "ledger", {**wired, "OPSUITE_LEDGER_DSN": proxied})
            steady = start_service("ledger", tmp_path / "steady", wired)
            processes += [ledger, steady]
            ledger.wait_serving()
            steady.wait_serving()
            assert clock(market).running, "the market finished before the outage could start"

            proxy.cut()
            cut_at_day = clock(market).business_days_elapsed
            reason = wait_until(
                lambda: (s := status(ledger)) and not s.serving and s.not_serving_reason,
                what="the ledger to report the outage",
            )
            assert "PostgreSQL" in reason and "unreachable" in reason, reason
            assert health(ledger) == NOT_SERVING
            # Out of rotation, not dead: a liveness probe must not restart it for an outage.
            assert health(ledger, LIVENESS) == SERVING

            with grpc.insecure_channel(ledger.address) as channel:
                stub = ledger_pb2_grpc.LedgerServiceStub(channel)
                journal = a_manual_journal(market, "outage:postgres:1")
                with pytest.raises(grpc.RpcError) as refused:
                    stub.PostJournal(journal, timeout=30)
                assert refused.value.code() == grpc.StatusCode.UNAVAILABLE, refused.value.details()
                assert "PostgreSQL" in refused.value.details()
                with pytest.raises(grpc.RpcError) as unread:
                    stub.GetTrialBalance(
                        ledger_pb2.GetTrialBalanceRequest(mandate_id=journal.mandate_id), timeout=30
                    )
                assert unread.value.code() == grpc.StatusCode.UNAVAILABLE, unread.value.details()

                # The outage lasts while market moves on by three business days.
                wait_until(
                    lambda: (
                        clock(market).business_days_elapsed >= cut_at_day + 3 or not clock(market).running
                    ),
                    what="market to move on during the outage",
                )
                proxy.restore()
                wait_until(lambda: health(ledger) == SERVING, timeout=60, what="the ledger to serve again")

                # The refused journal, retried, is posted once.
                posted = stub.PostJournal(journal, timeout=30)
                assert not posted.replayed
                again = stub.PostJournal(journal, timeout=30)
                assert again.replayed and again.journal.journal_id == posted.journal.journal_id
                with grpc.insecure_channel(steady.address) as steady_channel:
                    ledger_pb2_grpc.LedgerServiceStub(steady_channel).PostJournal(journal, timeout=30)

            final = wait_until(
                lambda: (c := clock(market)) and not c.running and c, timeout=120, what="the end"
            )
            for follower in (ledger, steady):
                wait_until(
                    lambda f=follower: _caught_up(f, final.head_seq),
                    timeout=120,
                    what=f"{follower.name} to book the whole run",
                )
            mandates = mandate_ids(market)
            assert trial_balances(ledger, mandates) == trial_balances(steady, mandates)
            assert ledger.stop() == 0, ledger.log_text()[-3000:]
        finally:
            for process in reversed(processes):
                process.stop()
