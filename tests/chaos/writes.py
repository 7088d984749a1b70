"""The writes the chaos suite makes through the real APIs, planned from the seed so that the
reference run gets exactly the same ones, and a call that retries one until it has landed.

- ledger `PostJournal`: manual journals, Dr Expenses:Fees / Cr Equity:Capital in the mandate's
  base currency (so no FX rate of the moment enters the base amounts), with an explicit effective
  date drawn from the run's business days and a deterministic idempotency key. recon compares
  cash and securities only, so these journals change no break, whenever they land.
- recon `UpdateBreak`: assigning a break that the reference run shows open at its end (so the
  assignment is allowed whenever it lands), each to its own break (so the order they land in does
  not matter). UpdateBreak has no idempotency key; assigning the same assignee again is answered
  INVALID_ARGUMENT "nothing to change", which is how a retry learns the first call had landed.
  Comments are left out: a retried comment would be recorded twice, and the contract gives a
  client no way to avoid that.
- market `InjectFault` is left out: a fault is scheduled for the next simulated day after the
  call arrives (so the world would depend on wall-clock timing, and the reference at full speed
  cannot be made to get it on the same day), and it has no idempotency key (a retry after a kill
  that had logged the first request would inject a second fault).
"""

from __future__ import annotations

import datetime as dt
import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

import grpc
from google.protobuf.message import Message

from opsuite.common.v1 import common_pb2
from opsuite.ledger.v1 import ledger_pb2, ledger_pb2_grpc
from opsuite.recon.v1 import recon_pb2, recon_pb2_grpc

ACTOR = "chaos-suite"
RETRYABLE = (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED)


@dataclass
class Write:
    """One planned write: which service, which RPC, the request; `landed` once it has succeeded."""

    service: str
    method: str
    request: Message
    label: str
    landed: bool = False
    answers: list[str] = field(default_factory=list)  # what each attempt was answered

    def send(self, channel: grpc.Channel, timeout: float) -> grpc.Future:
        return self._callable(channel).future(self.request, timeout=timeout)

    def _callable(self, channel: grpc.Channel) -> grpc.UnaryUnaryMultiCallable:
        if self.service == "ledger":
            return ledger_pb2_grpc.LedgerServiceStub(channel).PostJournal
        return recon_pb2_grpc.ReconServiceStub(channel).UpdateBreak

    def outcome(self, reply: Message) -> str:
        if isinstance(reply, ledger_pb2.PostJournalResponse):
            return "replayed (it had landed before)" if reply.replayed else "posted"
        return "assigned"

    def already_done(self, error: grpc.RpcError) -> bool:
        """recon: assigning the assignee a break already has is 'nothing to change': it had landed."""
        return (
            self.service == "recon"
            and error.code() == grpc.StatusCode.INVALID_ARGUMENT
            and "nothing to change" in (error.details() or "")
        )


def manual_journals(
    seed: int, mandates: Mapping[str, str], business_days: Sequence[str], count: int
) -> list[Write]:
    rng = random.Random(f"{seed}:manual-journals")
    writes = []
    for n in range(count):
        mandate = rng.choice(sorted(mandates))
        base = mandates[mandate]
        day = dt.date.fromisoformat(rng.choice(list(business_days)))
        cents = rng.randint(100, 500_000)
        amount = Decimal(cents // 100) if base == "JPY" else Decimal(cents).scaleb(-2)
        memo = f"chaos manual journal {n}"
        request = ledger_pb2.PostJournalRequest(
            idempotency_key=f"chaos:{seed}:manual:{n}",
            mandate_id=mandate,
            kind=ledger_pb2.JOURNAL_KIND_MANUAL,
            effective_date=common_pb2.Date(year=day.year, month=day.month, day=day.day),
            memo=memo,
            postings=[
                ledger_pb2.Posting(
                    account=f"Expenses:Fees:{base}",
                    amount=common_pb2.Money(amount=common_pb2.Decimal(value=str(amount)), currency=base),
                ),
                ledger_pb2.Posting(
                    account=f"Equity:Capital:{base}",
                    amount=common_pb2.Money(amount=common_pb2.Decimal(value=str(-amount)), currency=base),
                ),
            ],
            posted_by=ACTOR,
        )
        writes.append(
            Write(
                "ledger",
                "PostJournal",
                request,
                f"PostJournal {request.idempotency_key} {amount} {base} {day}",
            )
        )
    return writes


def assignments(seed: int, open_at_end: Sequence[str], count: int) -> list[Write]:
    rng = random.Random(f"{seed}:assignments")
    chosen = rng.sample(sorted(open_at_end), min(count, len(open_at_end)))
    return [
        Write(
            "recon",
            "UpdateBreak",
            recon_pb2.UpdateBreakRequest(break_id=break_id, actor=ACTOR, assignee=f"ops-{n}"),
            f"UpdateBreak {break_id} assignee=ops-{n}",
        )
        for n, break_id in enumerate(chosen)
    ]


def land(
    write: Write,
    channel: grpc.Channel,
    *,
    timeout: float,
    anomaly: Callable[[str], None],
    give_up_after: float = 120.0,
) -> str:
    """Send `write` until it has landed (retrying what a client retries: UNAVAILABLE and
    DEADLINE_EXCEEDED); any other refusal is an anomaly, noted once per kind, and retried too until
    `give_up_after`. Returns how it ended."""
    deadline = time.monotonic() + give_up_after
    noted: set[str] = set()
    while True:
        try:
            reply = write.send(channel, timeout).result()
        except grpc.RpcError as error:
            answer = f"{error.code().name}: {error.details()}"
            write.answers.append(answer)
            if write.already_done(error):
                write.landed = True
                return "nothing to change (it had landed before)"
            if error.code() not in RETRYABLE and answer not in noted:
                noted.add(answer)
                anomaly(f"{write.label}: answered {answer}")
            if time.monotonic() > deadline:
                raise AssertionError(f"{write.label} never landed; answers: {write.answers[-5:]}") from error
            time.sleep(0.1)
            continue
        write.landed = True
        outcome = write.outcome(reply)
        write.answers.append(outcome)
        return outcome
