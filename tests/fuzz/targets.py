"""What the fuzz suite fuzzes, read from the descriptors: THE place to extend when a service lands.

`SERVED` lists the suite's service processes in start order, each with the generated contract
files whose services it serves; `PLATFORM` the files of the services every process serves (health
and `opsuite.common.v1.StatusService`, from services/common/serve.py). Every method of every
service of those files is fuzzed: nothing is listed per RPC, so a new RPC is fuzzed the day it is
in the contract. A new service (documents) is one entry in `SERVED` and, when it has writes, one
function in `STATE` that reads what its writes change (so the suite can show that a rejected write
changed nothing).

Reads and writes: a method whose name starts with one of `READ_VERBS` is a read (Get, List, Watch,
Stream, health's Check and dq's CheckPrices, which records nothing); any other (PostJournal,
ReverseJournal, UpdateBreak, RunCheck, InjectFault, AcknowledgeEvents, AcknowledgeIssue) is a
write. A read that changes state is caught all the same: the state must be the same before and
after a read's whole fuzz.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import grpc
from google.protobuf import descriptor as pb
from google.protobuf.message import Message
from grpc_health.v1 import health_pb2

from opsuite.common.v1 import status_pb2, status_pb2_grpc
from opsuite.dq.v1 import dq_pb2, dq_pb2_grpc
from opsuite.ledger.v1 import ledger_pb2, ledger_pb2_grpc
from opsuite.market.v1 import market_pb2, market_pb2_grpc
from opsuite.recon.v1 import recon_pb2, recon_pb2_grpc
from opsuite.reporting.v1 import reporting_pb2

# Process name (python -m services.<name>) -> the contract files it serves, in start order: each
# process is given the addresses of those started before it (OPSUITE_<NAME>_ADDR).
SERVED: dict[str, tuple[pb.FileDescriptor, ...]] = {
    "market": (market_pb2.DESCRIPTOR,),
    "ledger": (ledger_pb2.DESCRIPTOR,),
    "dq": (dq_pb2.DESCRIPTOR,),
    "recon": (recon_pb2.DESCRIPTOR,),
    "reporting": (reporting_pb2.DESCRIPTOR,),
}
# Served by every process (the platform): grpc.health.v1.Health and StatusService/GetStatus.
PLATFORM: tuple[pb.FileDescriptor, ...] = (health_pb2.DESCRIPTOR, status_pb2.DESCRIPTOR)

READ_VERBS = ("Get", "List", "Watch", "Stream", "Check")


@dataclass(frozen=True)
class Target:
    """One method of one service on one process."""

    process: str
    service: pb.ServiceDescriptor
    method: pb.MethodDescriptor

    @property
    def path(self) -> str:
        return f"/{self.service.full_name}/{self.method.name}"

    @property
    def id(self) -> str:
        return f"{self.process}:{self.service.name}.{self.method.name}"

    @property
    def writes(self) -> bool:
        return not self.method.name.startswith(READ_VERBS)


def targets() -> list[Target]:
    """Every method of every service each process serves: the reads first (so that the writes'
    plausible values, such as journal and break ids, were harvested from them), then the writes."""
    found = [
        Target(process, service, method)
        for process, files in SERVED.items()
        for file in (*files, *PLATFORM)
        for service in file.services_by_name.values()
        for method in service.methods
    ]
    streaming_requests = [t.id for t in found if t.method.client_streaming]
    assert not streaming_requests, f"client-streaming methods are not fuzzed yet: {streaming_requests}"
    return sorted(found, key=lambda t: t.writes)


# ------------------------------------------------------------------ state that writes change

Channels = Mapping[str, grpc.Channel]
TIMEOUT_S = 30.0


def _pages(call: Callable[[str], Message], items: str) -> list[Message]:
    """Every page of a list RPC."""
    pages, token = [], ""
    while True:
        page = call(token)
        pages.append(page)
        if not (token := getattr(page, "next_page_token")):  # noqa: B009  (any list reply)
            return pages
        assert len(pages) < 1_000, f"{items}: more than 1,000 pages"


def market_state(channels: Channels) -> list[Message]:
    """The faults injected (InjectFault), the head of the stream, and what retention keeps for the
    declared followers (AcknowledgeEvents)."""
    stub = market_pb2_grpc.MarketServiceStub(channels["market"])
    clock = stub.GetClock(market_pb2.GetClockRequest(), timeout=TIMEOUT_S)
    head = market_pb2.Clock(
        head_seq=clock.head_seq,
        running=clock.running,
        sim_date=clock.sim_date,
        oldest_seq=clock.oldest_seq,
        followers=clock.followers,
    )
    faults = _pages(
        lambda token: stub.ListInjectedFaults(
            market_pb2.ListInjectedFaultsRequest(page_size=1_000, page_token=token), timeout=TIMEOUT_S
        ),
        "injected faults",
    )
    return [head, *faults]


def ledger_state(channels: Channels) -> list[Message]:
    """Each mandate's trial balance: every line, the journal and posting counts, the ledger seq."""
    mandates = market_pb2_grpc.MarketServiceStub(channels["market"]).ListMandates(
        market_pb2.ListMandatesRequest(page_size=1_000), timeout=TIMEOUT_S
    )
    stub = ledger_pb2_grpc.LedgerServiceStub(channels["ledger"])
    return [
        stub.GetTrialBalance(ledger_pb2.GetTrialBalanceRequest(mandate_id=m.mandate_id), timeout=TIMEOUT_S)
        for m in mandates.mandates
    ]


def recon_state(channels: Channels) -> list[Message]:
    """Every break (status, assignee, age, updated_at...) and the latest runs of every mandate."""
    stub = recon_pb2_grpc.ReconServiceStub(channels["recon"])
    breaks = _pages(
        lambda token: stub.ListBreaks(
            recon_pb2.ListBreaksRequest(page_size=1_000, page_token=token), timeout=TIMEOUT_S
        ),
        "breaks",
    )
    overview = stub.GetReconciliation(recon_pb2.GetReconciliationRequest(), timeout=TIMEOUT_S)
    return [*breaks, overview]


def dq_state(channels: Channels) -> list[Message]:
    """Every issue as ListIssues shows it (an acknowledged one reads ACKNOWLEDGED at once), what is
    quarantined, and the status (open issues by severity)."""
    stub = dq_pb2_grpc.DqServiceStub(channels["dq"])
    issues = _pages(
        lambda token: stub.ListIssues(
            dq_pb2.ListIssuesRequest(page_size=1_000, page_token=token), timeout=TIMEOUT_S
        ),
        "issues",
    )
    quarantine = _pages(
        lambda token: stub.GetQuarantine(
            dq_pb2.GetQuarantineRequest(page_size=1_000, page_token=token), timeout=TIMEOUT_S
        ),
        "quarantined values",
    )
    status = stub.GetStatus(dq_pb2.GetStatusRequest(), timeout=TIMEOUT_S)
    return [*issues, *quarantine, status]


# Process name -> what its writes change, as messages (compared serialized; shown as text on a change).
STATE: dict[str, Callable[[Channels], list[Message]]] = {
    "market": market_state,
    "ledger": ledger_state,
    "dq": dq_state,
    "recon": recon_state,
}


def settle(channels: Channels, timeout: float = 120.0) -> None:
    """Wait until the run is frozen: market has produced its last day, and every process has
    applied the stream up to market's head (so from now on only accepted writes change state)."""
    deadline = time.monotonic() + timeout
    market = market_pb2_grpc.MarketServiceStub(channels["market"])
    while True:
        clock = market.GetClock(market_pb2.GetClockRequest(), timeout=TIMEOUT_S)
        statuses = {
            name: status_pb2_grpc.StatusServiceStub(channel).GetStatus(
                status_pb2.GetStatusRequest(), timeout=TIMEOUT_S
            )
            for name, channel in channels.items()
        }
        if not clock.running and all(
            s.serving and s.applied_seq == clock.head_seq for s in statuses.values()
        ):
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"the run did not settle within {timeout} s: {clock} {statuses}")
        time.sleep(0.1)
