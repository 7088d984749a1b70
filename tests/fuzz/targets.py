"""What the fuzz suite fuzzes, read from the descriptors: THE place to extend when a service lands.

`SERVED` lists the suite's service processes in start order, each with the generated contract
files whose services it serves; `PLATFORM` the files of the services every process serves (health
and `opsuite.common.v1.StatusService`, from services/common/serve.py). Every method of every
service of those files is fuzzed: nothing is listed per RPC, so a new RPC is fuzzed the day it is
in the contract. A new service is one entry in `SERVED` and, when it has writes, one function in
`STATE` that reads what its writes change (so the suite can show that a rejected write changed
nothing); and, when it accepts content that no reply hands out (documents' uploads), one function
in `SAMPLES` giving a few real requests, so that accepted paths are fuzzed too.

Reads and writes: a method whose name starts with one of `READ_VERBS` is a read (Get, List, Watch,
Stream, health's Check, dq's CheckPrices and documents' Ask, which record nothing); any other
(PostJournal, ReverseJournal, UpdateBreak, RunCheck, RaiseBreak, InjectFault, AcknowledgeEvents,
AcknowledgeIssue, ExtractConfirmation, IngestPolicy) is a write. A read that changes state is
caught all the same: the state must be the same before and after a read's whole fuzz.
"""

from __future__ import annotations

import json
import time
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal

import grpc
from google.protobuf import descriptor as pb
from google.protobuf.message import Message
from grpc_health.v1 import health_pb2

from opsuite.common.v1 import status_pb2, status_pb2_grpc
from opsuite.documents.v1 import documents_pb2, documents_pb2_grpc
from opsuite.dq.v1 import dq_pb2, dq_pb2_grpc
from opsuite.ledger.v1 import ledger_pb2, ledger_pb2_grpc
from opsuite.market.v1 import market_pb2, market_pb2_grpc
from opsuite.recon.v1 import recon_pb2, recon_pb2_grpc
from opsuite.reporting.v1 import reporting_pb2
from tests.support.processes import ROOT

# Process name (python -m services.<name>) -> the contract files it serves, in start order: each
# process is given the addresses of those started before it (OPSUITE_<NAME>_ADDR), and is serving
# before the next one starts.
SERVED: dict[str, tuple[pb.FileDescriptor, ...]] = {
    "market": (market_pb2.DESCRIPTOR,),
    "ledger": (ledger_pb2.DESCRIPTOR,),
    "dq": (dq_pb2.DESCRIPTOR,),
    "recon": (recon_pb2.DESCRIPTOR,),
    "reporting": (reporting_pb2.DESCRIPTOR,),
    "documents": (documents_pb2.DESCRIPTOR,),
}
# Processes that are slow to serve, last in SERVED (so their targets come last among the reads and
# among the writes): the fuzz starts once they have applied market's stream to its head, and waits
# for them to serve before their first target; the state their writes change is read from then on.
# documents runs with its embedding model (the default), so that Ask and IngestPolicy are fuzzed for
# real: it serves once the model is loaded (10-20 s), which it does while the others are fuzzed.
SLOW_TO_SERVE = frozenset({"documents"})
# Served by every process (the platform): grpc.health.v1.Health and StatusService/GetStatus.
PLATFORM: tuple[pb.FileDescriptor, ...] = (health_pb2.DESCRIPTOR, status_pb2.DESCRIPTOR)

READ_VERBS = ("Get", "List", "Watch", "Stream", "Check", "Ask")


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
    asked = [  # all at once
        stub.GetTrialBalance.future(
            ledger_pb2.GetTrialBalanceRequest(mandate_id=m.mandate_id), timeout=TIMEOUT_S
        )
        for m in mandates.mandates
    ]
    return [future.result() for future in asked]


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


def documents_state(channels: Channels) -> list[Message]:
    """Every policy version (IngestPolicy), the superseded ones too.

    ExtractConfirmation's extraction records are not readable by RPC: an ExtractConfirmation that
    is refused must change nothing visible, that is neither the policies nor recon's breaks (a
    mismatch raises a CONFIRMATION_MISMATCH break through recon's RaiseBreak), which recon_state
    reads already."""
    stub = documents_pb2_grpc.DocumentsServiceStub(channels["documents"])
    return _pages(
        lambda token: stub.ListPolicies(
            documents_pb2.ListPoliciesRequest(page_size=1_000, page_token=token, include_superseded=True),
            timeout=TIMEOUT_S,
        ),
        "policies",
    )


# Process name -> what its writes change, as messages (compared serialized; shown as text on a change).
STATE: dict[str, Callable[[Channels], list[Message]]] = {
    "market": market_state,
    "ledger": ledger_state,
    "dq": dq_state,
    "recon": recon_state,
    "documents": documents_state,
}


# ------------------------------------------------------------------ requests no reply hands out

CORPUS = ROOT / "bench" / "documents" / "corpus"
# Broker confirmations of six layouts, text and PDF, and the two standard messages (their trade
# dates are not the run's, so they are read and stored UNMATCHED).
CORPUS_SAMPLES = (
    "templated/altmark/altmark-01.txt",
    "templated/halvorsen/halvorsen-02.pdf",
    "templated/thamesgate/thamesgate-01.pdf",
    "templated/rigi/rigi-01.txt",
    "templated/sakura/sakura-03.txt",
    "templated/lacroix/lacroix-01.pdf",
    "formats/mt515/mt515-01.txt",
    "formats/fix44/fix44-01.fix",
)
QUESTIONS = ROOT / "bench" / "documents" / "questions" / "calibration.toml"
POLICIES = (
    (
        "fuzz-cash-breaks",
        "Cash Break Triage",
        "# Cash Break Triage\n\n## Who looks first\n\nThe cash desk looks at a cash break the morning "
        "after it opens and assigns it before noon.\n\n## Escalation\n\nA cash break open for three "
        "business days goes to the head of operations.\n",
    ),
    (
        "fuzz-vendor-prices",
        "Second Vendor Prices",
        "# Second Vendor Prices\n\n## When the vendors disagree\n\nA price that differs from the second "
        "vendor's by more than two percent is held until a person confirms it.\n",
    ),
)


def _confirmations(
    market: market_pb2_grpc.MarketServiceStub, count: int
) -> list[tuple[market_pb2.Confirmation, market_pb2.Fill]]:
    """market's first `count` confirmations, each with the fill it confirms."""
    found: list[tuple[market_pb2.Confirmation, market_pb2.Fill]] = []
    fills: dict[str, market_pb2.Fill] = {}
    call = market.StreamEvents(
        market_pb2.StreamEventsRequest(
            from_seq=1, filter=market_pb2.EventFilter(kinds=["trade."]), max_batch_size=1_000
        ),
        timeout=TIMEOUT_S,
    )
    try:
        for batch in call:
            for event in batch.events:
                if event.HasField("fill"):
                    fills[event.fill.fill_id] = event.fill
                elif event.HasField("confirmation") and event.confirmation.fill_id in fills:
                    found.append((event.confirmation, fills[event.confirmation.fill_id]))
                    if len(found) >= count:
                        return found
            if batch.last_seq >= batch.head_seq:
                return found
    finally:
        call.cancel()
    return found


def _other_quantity(text: str, quantity: Decimal) -> str:
    """The confirmation with another quantity printed ("" when the quantity is not found as printed)."""
    normal = quantity.normalize() if quantity == quantity.to_integral_value() else quantity
    other = normal + 100
    for printed, replacement in ((f"{normal:,f}", f"{other:,f}"), (f"{normal:f}", f"{other:f}")):
        if printed in text:
            return text.replace(printed, replacement)
    return ""


def documents_samples(channels: Channels) -> list[Message]:
    """Confirmations as a user uploads them: corpus documents (their trade dates are not the run's:
    read, and stored unmatched), market's own confirmations as text and one as PDF (matched to
    their fills), and one with another quantity (it disagrees with its fill, so it raises a recon
    break); small Markdown policies; questions the shipped policies answer and one they do not."""
    samples: list[Message] = []
    for name in CORPUS_SAMPLES:
        path = CORPUS / name
        truth = json.loads(path.with_name(f"{path.stem}.truth.json").read_text(encoding="utf-8"))
        samples.append(
            documents_pb2.ExtractConfirmationRequest(
                content=path.read_bytes(), content_type=truth["content_type"], filename=path.name
            )
        )
    market = market_pb2_grpc.MarketServiceStub(channels["market"])
    found = _confirmations(market, 3)
    for confirmation, _ in found:
        samples.append(
            documents_pb2.ExtractConfirmationRequest(
                content=confirmation.text.encode(),
                content_type="text/plain",
                filename=f"{confirmation.confirmation_id}.txt",
                mandate_id=confirmation.mandate_id,
            )
        )
    for confirmation, fill in found[:1]:
        document = market.GetConfirmation(
            market_pb2.GetConfirmationRequest(confirmation_id=confirmation.confirmation_id), timeout=TIMEOUT_S
        )
        samples.append(
            documents_pb2.ExtractConfirmationRequest(
                content=document.pdf,
                content_type="application/pdf",
                filename=f"{confirmation.confirmation_id}.pdf",
            )
        )
        if changed := _other_quantity(confirmation.text, Decimal(fill.quantity.value)):
            samples.append(
                documents_pb2.ExtractConfirmationRequest(
                    content=changed.encode(), filename=f"{confirmation.confirmation_id}-amended.txt"
                )
            )
    for policy_id, title, text in POLICIES:
        samples.append(
            documents_pb2.IngestPolicyRequest(
                policy_id=policy_id, title=title, content_type="text/markdown", content=text.encode()
            )
        )
    questions = tomllib.loads(QUESTIONS.read_text(encoding="utf-8"))["question"]
    covered = [q for q in questions if q.get("policy_id")][:4]
    uncovered = [q for q in questions if not q.get("policy_id")][:1]
    for n, question in enumerate(covered + uncovered):
        samples.append(
            documents_pb2.AskRequest(
                question=question["text"],
                max_citations=3,
                policy_ids=[question["policy_id"]] if n == 0 and question.get("policy_id") else [],
            )
        )
    return samples


# Process name -> requests it accepts that no reply hands out, offered to the fuzz as templates and
# plausible values for their own request type (tests/fuzz/requests.py: Plausible.offer).
SAMPLES: dict[str, Callable[[Channels], list[Message]]] = {
    "documents": documents_samples,
}


def settle(channels: Channels, timeout: float = 120.0, loading: frozenset[str] = frozenset()) -> None:
    """Wait until the run is frozen: market has produced its last day, and every process has
    applied the stream up to market's head (so from now on only accepted writes change state), and
    serves (those `loading` need not serve yet)."""
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
            (s.serving or name in loading) and s.applied_seq == clock.head_seq for name, s in statuses.items()
        ):
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"the run did not settle within {timeout} s: {clock} {statuses}")
        time.sleep(0.1)
