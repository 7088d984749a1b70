"""dq's quarantine, as reporting asks it at each day end: which of the day's primary prices it rejected.

Reporting values a day end only once dq has checked that day (GetQuarantine as of the date answers
OUT_OF_RANGE until then), so every valuation sees the same quarantine whatever the timing: a
restarted or slower dq makes reporting wait, never value with less. While it waits, health says
NOT_SERVING with what dq answered, and the wait asks again with backoff; only shutting down ends
it (Stopped: nothing of the day end is committed, and the restarted reporting values it again).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from typing import Protocol

import grpc
import grpc.aio

from opsuite.dq.v1 import dq_pb2, dq_pb2_grpc
from services.common.convert import date_from_proto, date_to_proto, decimal_from_proto
from services.common.stopping import pause, unless_stopped
from services.reporting.domain.quarantine import RejectedPrice

log = logging.getLogger(__name__)
BACKEND = "dq"
PRIMARY = "primary"
RPC_TIMEOUT_S = 10.0
PAGE = 1000
# What a wait for dq asks again on: dq is behind, restarting, or not up yet.
WAIT_ON = frozenset(
    {grpc.StatusCode.OUT_OF_RANGE, grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED}
)


class Health(Protocol):
    async def backend_down(self, backend: str, reason: str) -> None: ...

    async def backend_up(self, backend: str) -> None: ...


class DqQuarantine:
    def __init__(
        self,
        stub: dq_pb2_grpc.DqServiceStub,
        stopping: asyncio.Event,
        health: Health | None = None,
        *,
        retry_initial_s: float = 0.05,
        retry_max_s: float = 2.0,
    ) -> None:
        self._stub = stub
        self._stopping = stopping
        self._health = health
        self._retry_initial_s = retry_initial_s
        self._retry_max_s = retry_max_s
        self._waiting = False

    async def rejected_on(self, day: dt.date) -> list[RejectedPrice]:
        """The day's primary prices dq rejected, once dq has checked the day."""
        delay = self._retry_initial_s
        while True:
            try:
                rejected = await self._ask(day)
            except grpc.aio.AioRpcError as error:
                if error.code() not in WAIT_ON:
                    raise
                reason = f"waiting for dq to check {day}: dq answered {error.code().name}: {error.details()}"
                if not self._waiting:
                    log.warning(
                        "a valuation waits for dq: not serving until it answers", extra={"reason": reason}
                    )
                    self._waiting = True
                if self._health is not None:
                    await self._health.backend_down(BACKEND, reason)
                await pause(self._stopping, delay)
                delay = min(self._retry_max_s, delay * 2)
                continue
            if self._waiting:
                self._waiting = False
                log.info("dq answered; valuing again", extra={"day": day.isoformat()})
                if self._health is not None:
                    await self._health.backend_up(BACKEND)
            return rejected

    async def _ask(self, day: dt.date) -> list[RejectedPrice]:
        request = dq_pb2.GetQuarantineRequest(
            subject_kind=dq_pb2.SUBJECT_KIND_PRICE, page_size=PAGE, as_of_date=date_to_proto(day)
        )
        found: list[RejectedPrice] = []
        while True:
            page = await unless_stopped(
                self._stopping, lambda: self._stub.GetQuarantine(request, timeout=RPC_TIMEOUT_S)
            )
            for entry in page.entries:
                if entry.vendor != PRIMARY:
                    continue
                found.append(
                    RejectedPrice(
                        entry.instrument_id,
                        entry.issue_id,
                        decimal_from_proto(entry.rejected_value, "rejected_value"),
                        decimal_from_proto(entry.last_good_value, "last_good_value")
                        if entry.HasField("last_good_value")
                        else None,
                        date_from_proto(entry.last_good_date, "last_good_date")
                        if entry.HasField("last_good_date")
                        else None,
                    )
                )
            if not page.next_page_token:
                return found
            request.page_token = page.next_page_token
