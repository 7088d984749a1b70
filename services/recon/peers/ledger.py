"""The ledger, as recon asks it: balances once it has booked a day end, and suspense journals."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence

import grpc
import grpc.aio

from opsuite.ledger.v1 import ledger_pb2, ledger_pb2_grpc
from services.common import telemetry
from services.common.convert import date_to_proto
from services.common.status import details_of, status_from_error
from services.recon.domain.followed import DayEnd
from services.recon.domain.records import Break
from services.recon.peers.stopping import check_running, pause
from services.recon.peers.wire import suspense_request

log = logging.getLogger(__name__)
RPC_TIMEOUT_S = 10.0
_tracer = telemetry.tracer("opsuite.recon")


class LedgerPeer:
    """wait_s: how long one GetBalances may wait for the ledger to book a day end."""

    def __init__(
        self, stub: ledger_pb2_grpc.LedgerServiceStub, stopping: asyncio.Event, *, wait_s: float = 30.0
    ) -> None:
        self._stub = stub
        self._stopping = stopping
        self.wait_s = wait_s
        self._seen = ""  # how the ledger last behaved: "answers", "unreachable" or "stuck"

    async def balances(
        self, day_end: DayEnd, mandates: Sequence[str]
    ) -> dict[str, Sequence[ledger_pb2.AccountBalance]] | None:
        """Each mandate's balances as of the day end once the ledger has booked it; None if it cannot."""
        if not mandates:
            return None
        first = await self._booked(day_end, mandates[0])
        if first is None:
            return None
        balances: dict[str, Sequence[ledger_pb2.AccountBalance]] = {mandates[0]: list(first.balances)}
        try:
            for mandate in mandates[1:]:
                reply = await self._stub.GetBalances(
                    ledger_pb2.GetBalancesRequest(mandate_id=mandate, as_of=date_to_proto(day_end.date)),
                    timeout=RPC_TIMEOUT_S,
                )
                balances[mandate] = list(reply.balances)
        except grpc.aio.AioRpcError as error:
            log.warning(
                "could not read the ledger's balances: book vs custodian only",
                extra={"code": error.code().name, "error": error.details()},
            )
            return None
        return balances

    async def _booked(self, day_end: DayEnd, mandate_id: str) -> ledger_pb2.GetBalancesResponse | None:
        """The mandate's balances once the ledger has booked market seq `day_end.seq`; None if it cannot.

        One GetBalances with min_market_seq: the ledger answers as soon as it has booked the day
        end. A ledger that answers but is behind is asked again as long as it makes progress
        (each call waits at most wait_s). An unreachable one is not waited for: that check runs
        book vs custodian only (`opsuite up` starts recon before the ledger, and a recon with no
        ledger must still catch up); the next day end asks again.
        """
        seq = day_end.seq
        request = ledger_pb2.GetBalancesRequest(
            mandate_id=mandate_id, as_of=date_to_proto(day_end.date), min_market_seq=seq
        )
        last_seen = -1
        started = time.monotonic()
        while True:
            check_running(self._stopping)
            try:
                reply: ledger_pb2.GetBalancesResponse = await self._stub.GetBalances(
                    request, timeout=self.wait_s
                )
            except grpc.aio.AioRpcError as error:
                reason = f"the ledger answered {error.code().name}: {error.details()}"
                if error.code() == grpc.StatusCode.NOT_FOUND and time.monotonic() - started < self.wait_s:
                    # A ledger still fetching the mandates from market: it knows them in a moment.
                    await pause(self._stopping, 0.5)
                    continue
                self._saw(
                    "unreachable"
                    if error.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.UNIMPLEMENTED)
                    else "stuck",
                    seq,
                    reason,
                )
                return None
            if reply.market_seq >= seq:
                self._saw("answers", seq, "")
                return reply
            if reply.market_seq <= last_seen:
                self._saw("stuck", seq, f"the ledger is at market seq {reply.market_seq}")
                return None
            last_seen = reply.market_seq

    def _saw(self, behaviour: str, seq: int, reason: str) -> None:
        """Log when the ledger's availability changes (not at every day end)."""
        if behaviour == self._seen:
            return
        self._seen = behaviour
        if behaviour == "answers":
            log.info("the ledger has the day end: book vs ledger runs", extra={"seq": seq})
        else:
            log.warning(
                "the ledger cannot be compared: book vs custodian only until it can",
                extra={"seq": seq, "ledger": behaviour, "reason": reason},
            )

    async def post_suspense(self, brk: Break, break_traceparent: str, threshold: int) -> str:
        """PostJournal inside a span that is the child of the break's; the journal id, "" on failure."""
        request = suspense_request(brk, threshold)
        if request is None:
            log.warning("an aged cash break has no postable amount", extra={"break_id": brk.break_id})
            return ""
        parent = telemetry.context_from_traceparent(break_traceparent) if break_traceparent else None
        with _tracer.start_as_current_span(
            "recon.suspense",
            context=parent,
            attributes={"break.id": brk.break_id, "journal.key": request.idempotency_key},
        ):
            try:
                reply = await self._stub.PostJournal(request, timeout=RPC_TIMEOUT_S)
            except grpc.aio.AioRpcError as error:
                if error.code() == grpc.StatusCode.ALREADY_EXISTS:
                    # Posted before with the figures of an earlier day: that journal is the break's.
                    status = status_from_error(error)
                    info = details_of(status)[1] if status is not None else None
                    journal_id = info.metadata.get("journal_id", "") if info is not None else ""
                    if journal_id:
                        return journal_id
                log.warning(
                    "could not post an aged cash break to suspense; retried at the next check",
                    extra={"break_id": brk.break_id, "code": error.code().name, "error": error.details()},
                )
                return ""
        log.info(
            "posted an aged cash break to suspense",
            extra={
                "break_id": brk.break_id,
                "journal_id": reply.journal.journal_id,
                "replayed": reply.replayed,
            },
        )
        return str(reply.journal.journal_id)
