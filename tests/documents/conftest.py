"""One running documents service for every documents test that needs one (the model loads once):
real market, recon and documents processes sharing one combined event log.

The world: seed 5 from 2020-02-03, 20 business days at 4 a second, with one of each custodian
error that a broker's confirmation carries (a quantity typo, a price typo, a late settlement)
injected as the clock starts, so market's own confirmations of those fills disagree with the book.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest

from opsuite.common.v1 import status_pb2, status_pb2_grpc
from opsuite.documents.v1 import documents_pb2_grpc
from opsuite.market.v1 import market_pb2, market_pb2_grpc
from opsuite.recon.v1 import recon_pb2_grpc
from services.common.eventlog import EventLog, open_event_log
from tests.support.processes import ServiceProcess, start_service
from tests.support.run_state import documents_owed
from tests.support.waiting import wait_until

# The custodian's errors a broker confirmation carries (the custodian booked from it).
CONFIRMED_ERRORS = (
    market_pb2.FAULT_KIND_CUSTODIAN_QUANTITY_TYPO,
    market_pb2.FAULT_KIND_CUSTODIAN_PRICE_TYPO,
)
# Injected too: a late settlement, which no confirmation shows (the broker confirms the contract).
INJECTED = (*CONFIRMED_ERRORS, market_pb2.FAULT_KIND_SETTLEMENT_DELAY)


@dataclass
class DocumentsWorld:
    market: ServiceProcess
    recon: ServiceProcess
    documents: ServiceProcess
    market_stub: market_pb2_grpc.MarketServiceStub
    recon_stub: recon_pb2_grpc.ReconServiceStub
    documents_stub: documents_pb2_grpc.DocumentsServiceStub
    event_log: EventLog
    clock: market_pb2.Clock
    eventlog_url: str
    recon_data_dir: Path


def _caught_up(process: ServiceProcess, head: int) -> bool:
    with grpc.insecure_channel(process.address) as channel:
        status = status_pb2_grpc.StatusServiceStub(channel).GetStatus(status_pb2.GetStatusRequest())
    return status.applied_seq >= head


@pytest.fixture(scope="session")
def documents_world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DocumentsWorld]:
    root = tmp_path_factory.mktemp("documents-world")
    eventlog_url = f"sqlite:///{root}/eventlog.sqlite3"
    env = {
        "OPSUITE_SEED": "5",
        "OPSUITE_START": "2020-02-03",
        "OPSUITE_DAYS": "20",
        "OPSUITE_SPEED": "4",
        "OPSUITE_EVENTLOG_URL": eventlog_url,
        "OPSUITE_MARKET_FOLLOWERS": "recon,documents",
    }
    processes: list[ServiceProcess] = []
    try:
        # The custodian errors are injected with InjectFault, which market refuses unless allowed.
        market = start_service("market", root / "market", {**env, "OPSUITE_ALLOW_FAULT_INJECTION": "true"})
        processes.append(market)
        market.wait_serving()
        followers = {**env, "OPSUITE_MARKET_ADDR": market.address}
        with grpc.insecure_channel(market.address) as mc:
            market_stub = market_pb2_grpc.MarketServiceStub(mc)
            for kind in INJECTED:  # as the clock starts, so they hit the first fills
                market_stub.InjectFault(market_pb2.InjectFaultRequest(kind=kind))
        recon = start_service("recon", root / "recon", {**followers, "OPSUITE_RECON_USE_LEDGER": "false"})
        processes.append(recon)
        recon.wait_serving()
        documents_env = {**followers, "OPSUITE_RECON_ADDR": recon.address}
        documents = start_service("documents", root / "documents", documents_env)
        processes.append(documents)
        assert documents.wait_listening(), documents.log_text()[-3000:]
        with (
            grpc.insecure_channel(market.address) as mc,
            grpc.insecure_channel(recon.address) as rc,
            grpc.insecure_channel(documents.address) as dc,
        ):
            market_stub = market_pb2_grpc.MarketServiceStub(mc)
            clock = wait_until(
                lambda: (c := market_stub.GetClock(market_pb2.GetClockRequest())) and not c.running and c,
                what="the market to finish its days",
                timeout=120,
            )
            recon.wait_serving()
            documents.wait_serving()
            # Both applied market's last event, and documents delivered every break it owes recon.
            for follower in (recon, documents):
                wait_until(
                    functools.partial(_caught_up, follower, clock.head_seq),
                    what=f"{follower.name} to apply market's head {clock.head_seq}",
                    timeout=120,
                )
            wait_until(
                lambda: documents_owed(root / "documents") == (0, 0),
                what="documents to deliver its breaks and records",
                timeout=60,
            )
            event_log = open_event_log(eventlog_url, root)
            yield DocumentsWorld(
                market,
                recon,
                documents,
                market_stub,
                recon_pb2_grpc.ReconServiceStub(rc),
                documents_pb2_grpc.DocumentsServiceStub(dc),
                event_log,
                clock,
                eventlog_url,
                root / "recon",
            )
            event_log.close()
    finally:
        for process in reversed(processes):
            code = process.stop()
            assert code == 0, f"{process.name} exited {code}:\n{process.log_text()[-3000:]}"
