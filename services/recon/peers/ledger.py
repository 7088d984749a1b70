"""The ledger, as recon asks it: balances once it has booked a day end, and suspense and write-off
journals.

A recon with a ledger never compares without it. A day-end check asks for the ledger's balances
with min_market_seq (the ledger answers once it has booked the day end) and, when the ledger
cannot answer (down, restarting, stuck, behind), asks again with exponential backoff for as long
as it takes, and at once when its channel connects again. The check and the stream wait meanwhile,
and health says NOT_SERVING with what recon waits for and what the ledger answered, until it
answers. A suspense journal is posted the same way, at the day end that found it due, so its
effective date is the one an uninterrupted run gives it. Only shutting down ends a wait (Stopped:
nothing of the check is committed; the restarted recon checks that day end again). An on-demand
check does not wait: it asks once, and LedgerUnavailable says why the ledger cannot answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

import grpc
import grpc.aio

from opsuite.ledger.v1 import ledger_pb2, ledger_pb2_grpc
from services.common import telemetry
from services.common.convert import date_to_proto
from services.common.status import details_of, status_from_error
from services.common.stopping import check_running, pause, unless_stopped
from services.recon.domain.followed import DayEnd
from services.recon.domain.records import Break
from services.recon.domain.suspense import LedgerJournal
from services.recon.peers.wire import journal_request

log = logging.getLogger(__name__)
RPC_TIMEOUT_S = 10.0
BACKEND = "ledger"  # how health names what recon waits for
# The ledger's answers that refuse the journal itself: asking again with the same journal cannot help.
REFUSALS = frozenset(
    {
        grpc.StatusCode.INVALID_ARGUMENT,
        grpc.StatusCode.FAILED_PRECONDITION,
        grpc.StatusCode.OUT_OF_RANGE,
        grpc.StatusCode.ALREADY_EXISTS,
        grpc.StatusCode.PERMISSION_DENIED,
        grpc.StatusCode.UNAUTHENTICATED,
    }
)
_tracer = telemetry.tracer("opsuite.recon")

T = TypeVar("T")


class PeerHealth(Protocol):
    """The part of the service's health (serve.HealthControl) that a wait for the ledger uses: NOT_SERVING
    with the reason while it lasts, then back to what the service said last."""

    async def backend_down(self, backend: str, reason: str) -> None: ...

    async def backend_up(self, backend: str) -> None: ...


@dataclass(frozen=True)
class NotNow:
    """Why the ledger cannot answer now: what it answered, and its status code ("" when it answered
    but has not booked the day end yet)."""

    reason: str
    code: str = ""


class LedgerUnavailable(Exception):
    """The ledger cannot answer an on-demand check now; `reason` says what it answered."""

    def __init__(self, reason: str, code: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code


def _not_now(error: grpc.aio.AioRpcError) -> NotNow:
    return NotNow(f"the ledger answered {error.code().name}: {error.details()}", error.code().name)


def reconnection(channel: grpc.aio.Channel) -> Callable[[], Awaitable[None]]:
    """What a pause also ends on: the channel, not connected when the pause starts, connecting again
    (a ledger back from a restart is asked at once, not after the rest of a pause of up to 10 s)."""

    async def reconnected() -> None:
        state = channel.get_state(try_to_connect=True)
        if state == grpc.ChannelConnectivity.READY:
            await asyncio.Event().wait()  # connected: the pause is the backoff's alone
        while state != grpc.ChannelConnectivity.READY:
            await channel.wait_for_state_change(state)
            state = channel.get_state(try_to_connect=True)

    return reconnected


class LedgerPeer:
    """wait_s: how long one GetBalances may wait for the ledger to book a day end. A wait asks again
    after retry_initial_s, doubling up to retry_max_s, or as soon as `reconnected()` returns (see
    reconnection; None: after the pause only). health: where a wait is reported (None: only logged)."""

    def __init__(
        self,
        stub: ledger_pb2_grpc.LedgerServiceStub,
        stopping: asyncio.Event,
        *,
        health: PeerHealth | None = None,
        wait_s: float = 30.0,
        retry_initial_s: float = 0.5,
        retry_max_s: float = 10.0,
        reconnected: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self._stub = stub
        self._stopping = stopping
        self._health = health
        self._reconnected = reconnected
        self.wait_s = wait_s
        self.retry_initial_s = retry_initial_s
        self.retry_max_s = retry_max_s
        # Set while a check waits for the ledger; waiting_for says for what, and what the ledger answered.
        self.waiting = asyncio.Event()
        self.waiting_for = ""
        self._waiting_code = ""

    # ------------------------------------------------------------ balances

    async def balances(
        self, day_end: DayEnd, mandates: Sequence[str]
    ) -> dict[str, Sequence[ledger_pb2.AccountBalance]]:
        """Each mandate's balances as of the day end once the ledger has booked it, however long it takes."""
        return await self._until_answered(
            f"waiting for the ledger to book market seq {day_end.seq}",
            functools.partial(self._all_booked, day_end, mandates, self.wait_s),
        )

    async def balances_now(
        self, day_end: DayEnd, mandates: Sequence[str]
    ) -> dict[str, Sequence[ledger_pb2.AccountBalance]]:
        """The same for an on-demand check: one try, LedgerUnavailable when the ledger cannot answer now."""
        check_running(self._stopping)
        if self.waiting.is_set():
            raise self.unavailable()
        outcome = await self._all_booked(day_end, mandates, RPC_TIMEOUT_S)
        if isinstance(outcome, NotNow):
            raise LedgerUnavailable(
                f"the ledger cannot answer for market seq {day_end.seq}: {outcome.reason}", outcome.code
            )
        return outcome

    async def _all_booked(
        self, day_end: DayEnd, mandates: Sequence[str], timeout: float
    ) -> dict[str, Sequence[ledger_pb2.AccountBalance]] | NotNow:
        """Every mandate's GetBalances at once (the ledger answers them side by side, so a check waits
        for the slowest, not for the sum); NotNow when any cannot answer, and the whole is asked again."""
        outcomes = await asyncio.gather(*(self._booked(day_end, mandate, timeout) for mandate in mandates))
        found: dict[str, Sequence[ledger_pb2.AccountBalance]] = {}
        for mandate, outcome in zip(mandates, outcomes, strict=True):
            if isinstance(outcome, NotNow):
                return outcome
            found[mandate] = list(outcome.balances)
        return found

    async def _booked(
        self, day_end: DayEnd, mandate_id: str, timeout: float
    ) -> ledger_pb2.GetBalancesResponse | NotNow:
        """One GetBalances with min_market_seq: the ledger answers as soon as it has booked the day end
        (or, still behind, a little before `timeout`)."""
        request = ledger_pb2.GetBalancesRequest(
            mandate_id=mandate_id, as_of=date_to_proto(day_end.date), min_market_seq=day_end.seq
        )
        try:
            reply: ledger_pb2.GetBalancesResponse = await unless_stopped(
                self._stopping, lambda: self._stub.GetBalances(request, timeout=timeout)
            )
        except grpc.aio.AioRpcError as error:
            return _not_now(error)
        if reply.market_seq < day_end.seq:
            return NotNow(f"the ledger has booked market seq {reply.market_seq} so far")
        return reply

    # ------------------------------------------------------------ suspense

    async def post_journal(
        self, brk: Break, journal: LedgerJournal, break_traceparent: str, *, wait: bool = True
    ) -> str:
        """PostJournal of a suspense or write-off journal, inside a span that is the child of the
        break's; the journal id.

        wait: ask until the ledger answers (a day-end check); otherwise one try. "" when the journal was
        not posted (the ledger refused it, or could not answer the one try): the next check tries again.
        """
        request = journal_request(journal, brk)
        parent = telemetry.context_from_traceparent(break_traceparent) if break_traceparent else None
        with _tracer.start_as_current_span(
            "recon.suspense",
            context=parent,
            attributes={
                "break.id": brk.break_id,
                "journal.key": request.idempotency_key,
                "journal.action": journal.action.value,
            },
        ):
            if wait:
                return await self._until_answered(
                    f"waiting for the ledger to post {journal.idempotency_key}",
                    lambda: self._post(brk, request),
                )
            outcome = await self._post(brk, request)
        if isinstance(outcome, NotNow):
            log.warning(
                "could not post a break's journal; tried again at the next check",
                extra={"break_id": brk.break_id, "key": request.idempotency_key, "reason": outcome.reason},
            )
            return ""
        return outcome

    async def _post(self, brk: Break, request: ledger_pb2.PostJournalRequest) -> str | NotNow:
        try:
            reply: ledger_pb2.PostJournalResponse = await unless_stopped(
                self._stopping, lambda: self._stub.PostJournal(request, timeout=RPC_TIMEOUT_S)
            )
        except grpc.aio.AioRpcError as error:
            if error.code() == grpc.StatusCode.ALREADY_EXISTS:
                # The key was posted before with other content: that journal is this version's.
                status = status_from_error(error)
                info = details_of(status)[1] if status is not None else None
                journal_id = info.metadata.get("journal_id", "") if info is not None else ""
                if journal_id:
                    return journal_id
            if error.code() in REFUSALS:
                log.error(
                    "the ledger refused a break's journal; tried again at the next check",
                    extra={
                        "break_id": brk.break_id,
                        "key": request.idempotency_key,
                        "code": error.code().name,
                        "error": error.details(),
                    },
                )
                return ""
            return _not_now(error)
        log.info(
            "posted a break's journal",
            extra={
                "break_id": brk.break_id,
                "key": request.idempotency_key,
                "journal_id": reply.journal.journal_id,
                "replayed": reply.replayed,
            },
        )
        return str(reply.journal.journal_id)

    # ------------------------------------------------------------ waiting

    def unavailable(self) -> LedgerUnavailable:
        """What an on-demand check answers while a check waits for the ledger."""
        return LedgerUnavailable(self.waiting_for, self._waiting_code)

    async def _until_answered(self, waiting_for: str, attempt: Callable[[], Awaitable[T | NotNow]]) -> T:
        """attempt() until it is not NotNow, pausing with exponential backoff; Stopped when recon stops."""
        delay = self.retry_initial_s
        while True:
            outcome = await attempt()
            if not isinstance(outcome, NotNow):
                await self._answered()
                return outcome
            await self._wait(f"{waiting_for}: {outcome.reason}", outcome.code)
            await self._pause(delay)
            delay = min(self.retry_max_s, delay * 2)

    async def _pause(self, seconds: float) -> None:
        reconnected = self._reconnected
        if reconnected is None:
            await pause(self._stopping, seconds)
            return
        with contextlib.suppress(TimeoutError):
            await unless_stopped(self._stopping, lambda: asyncio.wait_for(reconnected(), seconds))

    async def _wait(self, reason: str, code: str) -> None:
        if self.waiting.is_set() and reason == self.waiting_for:
            return
        if not self.waiting.is_set() or code != self._waiting_code:
            log.warning(
                "a check waits for the ledger: not serving until it answers", extra={"reason": reason}
            )
        self.waiting_for, self._waiting_code = reason, code
        self.waiting.set()
        if self._health is not None:
            await self._health.backend_down(BACKEND, reason)

    async def _answered(self) -> None:
        if not self.waiting.is_set():
            return
        log.info("the ledger answers again: the check goes on", extra={"waited": self.waiting_for})
        self.waiting.clear()
        self.waiting_for, self._waiting_code = "", ""
        if self._health is not None:
            await self._health.backend_up(BACKEND)
