"""Redis, holding the combined event log, cut away from market, ledger and recon mid-run.

Through a TCP proxy the test controls. While Redis is unreachable: market reports NOT_SERVING
with the reason and its clock waits (still running, not finished); a journal posted to the
ledger is committed and answered, its event-log record following once Redis is back. After the
outage everything resumes by itself, and the run ends as a run that never lost Redis (a second
suite on the embedded SQLite log, same seed): the same market events, each once, in order; the
same books; the same breaks; every journal posted through the API announced in the log.
SIGTERM then stops each service with exit code 0.
"""

from __future__ import annotations

from pathlib import Path

import grpc
import pytest

from opsuite.ledger.v1 import ledger_pb2_grpc
from opsuite.market.v1 import market_pb2, market_pb2_grpc
from services.common.eventlog import EventLog, open_event_log
from tests.outages.support import (
    NOT_SERVING,
    SERVING,
    a_manual_journal,
    breaks,
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
    "OPSUITE_SEED": "5",
    "OPSUITE_START": "2020-02-03",
    "OPSUITE_DAYS": "30",
    "OPSUITE_SPEED": "4",
}


def _suite(root: Path, env: dict[str, str]) -> list[ServiceProcess]:
    # A fault is injected during the outage (InjectFault), which market refuses unless it is allowed.
    market = start_service("market", root / "market", {**env, "OPSUITE_ALLOW_FAULT_INJECTION": "true"})
    market.wait_serving()
    ledger = start_service("ledger", root / "ledger", {**env, "OPSUITE_MARKET_ADDR": market.address})
    ledger.wait_serving()
    recon = start_service(
        "recon",
        root / "recon",
        {**env, "OPSUITE_MARKET_ADDR": market.address, "OPSUITE_LEDGER_ADDR": ledger.address},
    )
    recon.wait_serving()
    return [market, ledger, recon]


def _market_events(log: EventLog) -> list[tuple[int, str, str]]:
    events: list[tuple[int, str, str]] = []
    while batch := log.read("market", len(events) + 1, 5000):
        events += [(r.seq, r.event_id, r.kind) for r in batch]
    return events


def _finished(suite: list[ServiceProcess]) -> None:
    market, ledger, recon = suite
    final = wait_until(lambda: (c := clock(market)) and not c.running and c, timeout=180, what="the last day")
    for follower in (ledger, recon):
        wait_until(
            lambda f=follower: (s := status(f)) and s.serving and s.applied_seq >= final.head_seq,
            timeout=180,
            what=f"{follower.name} to follow the whole run",
        )


@pytest.mark.slow
def test_a_redis_outage_under_the_event_log_loses_nothing_and_changes_nothing(
    tmp_path: Path, redis_url: str
) -> None:
    server, _, prefix = redis_url.partition("#")
    host_port = server.split("//", 1)[1].split("/", 1)[0]
    host, _, port = host_port.partition(":")
    with proxy_to(host, int(port or 6379)) as proxy:
        proxied = f"redis://127.0.0.1:{proxy.port}/0#{prefix}"
        steady: list[ServiceProcess] = []
        cut: list[ServiceProcess] = []
        try:
            # At 2 business days a second, not 4: the clock must still run once the three services
            # have started one after another, which on a busy 2-core machine took over 7 s.
            cut = _suite(tmp_path / "cut", {**ENV, "OPSUITE_SPEED": "2", "OPSUITE_EVENTLOG_URL": proxied})
            market, ledger, recon = cut
            assert clock(market).running, "the market finished before the outage could start"

            proxy.cut()
            reason = wait_until(
                lambda: (s := status(market)) and not s.serving and s.not_serving_reason,
                what="market to report the outage",
            )
            assert "Redis" in reason and "unreachable" in reason, reason
            assert health(market) == NOT_SERVING
            stalled = clock(market)
            assert stalled.running, "market's clock must wait for the event log, not end the run"

            with grpc.insecure_channel(market.address) as channel:
                market_stub = market_pb2_grpc.MarketServiceStub(channel)
                faults_before = market_stub.ListInjectedFaults(
                    market_pb2.ListInjectedFaultsRequest(), timeout=10
                )
                # A fault request the log cannot record is refused and changes nothing: a restart
                # replays only what the log holds.
                with pytest.raises(grpc.RpcError) as refused:
                    market_stub.InjectFault(
                        market_pb2.InjectFaultRequest(kind=market_pb2.FAULT_KIND_CUSTODIAN_DROP_TRADE),
                        timeout=30,
                    )
                assert refused.value.code() == grpc.StatusCode.UNAVAILABLE, refused.value.details()
                assert "Redis" in refused.value.details()
                faults_after = market_stub.ListInjectedFaults(
                    market_pb2.ListInjectedFaultsRequest(), timeout=10
                )
                assert faults_after == faults_before

            with grpc.insecure_channel(ledger.address) as channel:
                stub = ledger_pb2_grpc.LedgerServiceStub(channel)
                journal = a_manual_journal(market, "outage:redis:1")
                # Committed in the ledger's own store; its record waits in the outbox.
                posted = stub.PostJournal(journal, timeout=30)
                assert not posted.replayed
                wait_until(lambda: health(ledger) == NOT_SERVING, what="the ledger to report the outage")
                assert "Redis" in status(ledger).not_serving_reason

                # Nothing moves while the log is away: market publishes no further day.
                assert clock(market).head_seq == stalled.head_seq

                proxy.restore()
                for service in cut:
                    wait_until(
                        lambda s=service: health(s) == SERVING or not clock(market).running,
                        timeout=60,
                        what=f"{service.name} to serve again",
                    )
                assert stub.PostJournal(journal, timeout=30).replayed

            _finished(cut)
            steady = _suite(tmp_path / "steady", ENV)
            with grpc.insecure_channel(steady[1].address) as channel:
                ledger_pb2_grpc.LedgerServiceStub(channel).PostJournal(journal, timeout=30)
            _finished(steady)

            redis_log = open_event_log(proxied, tmp_path / "unused")
            sqlite_log = open_event_log(None, tmp_path / "steady" / "market")
            try:
                events = _market_events(redis_log)
                assert events == _market_events(sqlite_log)
                assert [seq for seq, _, _ in events] == list(range(1, len(events) + 1))
                assert redis_log.get(f"ldg-{posted.journal.journal_id}") is not None, (
                    "the journal posted during the outage never reached the event log"
                )
            finally:
                redis_log.close()
                sqlite_log.close()

            mandates = mandate_ids(market)
            assert trial_balances(ledger, mandates) == trial_balances(steady[1], mandates)
            assert breaks(recon) == breaks(steady[2])
            for service in reversed(cut):
                assert service.stop() == 0, service.log_text()[-3000:]
        finally:
            for service in reversed([*cut, *steady]):
                service.stop()
