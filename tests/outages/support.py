"""What the outage tests share: reading a service's status and health, and the ledger's book."""

from __future__ import annotations

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from opsuite.common.v1 import common_pb2, status_pb2, status_pb2_grpc
from opsuite.ledger.v1 import ledger_pb2, ledger_pb2_grpc
from opsuite.market.v1 import market_pb2, market_pb2_grpc
from opsuite.recon.v1 import recon_pb2_grpc
from services.scoring.recon_observe import read_breaks
from tests.support.processes import ServiceProcess

MANDATES_PAGE = 100


def status(service: ServiceProcess) -> status_pb2.ServiceStatus:
    with grpc.insecure_channel(service.address) as channel:
        return status_pb2_grpc.StatusServiceStub(channel).GetStatus(status_pb2.GetStatusRequest(), timeout=10)


def health(service: ServiceProcess, name: str = "") -> int:
    """The health status of the whole server ("", readiness) or of one name ("liveness")."""
    with grpc.insecure_channel(service.address) as channel:
        reply = health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(service=name), timeout=10
        )
        return int(reply.status)


SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


def clock(market: ServiceProcess) -> market_pb2.Clock:
    with grpc.insecure_channel(market.address) as channel:
        return market_pb2_grpc.MarketServiceStub(channel).GetClock(market_pb2.GetClockRequest(), timeout=10)


def mandate_ids(market: ServiceProcess) -> list[str]:
    with grpc.insecure_channel(market.address) as channel:
        reply = market_pb2_grpc.MarketServiceStub(channel).ListMandates(
            market_pb2.ListMandatesRequest(page_size=MANDATES_PAGE), timeout=10
        )
        return [m.mandate_id for m in reply.mandates]


def trial_balances(ledger: ServiceProcess, mandates: list[str]) -> dict[str, ledger_pb2.TrialBalance]:
    """Each mandate's trial balance, without the ledger_seq (storage order differs between stores)."""
    with grpc.insecure_channel(ledger.address) as channel:
        stub = ledger_pb2_grpc.LedgerServiceStub(channel)
        found = {}
        for mandate in mandates:
            balance = stub.GetTrialBalance(ledger_pb2.GetTrialBalanceRequest(mandate_id=mandate), timeout=30)
            balance.ClearField("as_of_ledger_seq")
            found[mandate] = balance
        return found


def a_manual_journal(market: ServiceProcess, key: str) -> ledger_pb2.PostJournalRequest:
    """A small balanced journal in the first mandate's base currency, dated at the run's start."""
    with grpc.insecure_channel(market.address) as channel:
        stub = market_pb2_grpc.MarketServiceStub(channel)
        mandate = stub.ListMandates(market_pb2.ListMandatesRequest(page_size=1), timeout=10).mandates[0]
        start = stub.GetClock(market_pb2.GetClockRequest(), timeout=10).start_date
    ccy = mandate.base_currency

    def money(amount: str) -> common_pb2.Money:
        return common_pb2.Money(amount=common_pb2.Decimal(value=amount), currency=ccy)

    return ledger_pb2.PostJournalRequest(
        idempotency_key=key,
        mandate_id=mandate.mandate_id,
        kind=ledger_pb2.JOURNAL_KIND_SUSPENSE,
        effective_date=start,
        memo="posted during an outage test",
        postings=[
            ledger_pb2.Posting(account=f"Assets:Suspense:{ccy}", amount=money("12.34")),
            ledger_pb2.Posting(account=f"Assets:Cash:{ccy}", amount=money("-12.34")),
        ],
        posted_by="outage-test",
    )


def breaks(recon: ServiceProcess) -> dict[str, tuple[object, ...]]:
    """Every break by id: what an operator sees of it (kind, status, dates, age, escalation, suspense)."""
    with grpc.insecure_channel(recon.address) as channel:
        return {
            b.break_id: (
                b.kind,
                b.status,
                b.first_seen_date.SerializeToString(),
                b.age_business_days,
                b.aging_bucket,
                b.escalated,
                bool(b.suspense_journal_id),
                tuple(b.caused_by),
            )
            for b in read_breaks(recon_pb2_grpc.ReconServiceStub(channel))
        }
