"""dq's quarantine, as reporting asks it at each day end: which of the day's primary prices it rejected.

Reporting values a day end only once dq has checked that day (GetQuarantine as of the date answers
OUT_OF_RANGE until then), so every valuation sees the same quarantine whatever the timing: a
restarted or slower dq makes reporting wait (services/common/peer_wait.py), never value with less.
"""

from __future__ import annotations

import datetime as dt

import grpc

from opsuite.dq.v1 import dq_pb2, dq_pb2_grpc
from services.common.convert import date_from_proto, date_to_proto, decimal_from_proto
from services.common.peer_wait import PeerWait
from services.common.stopping import unless_stopped
from services.reporting.domain.quarantine import RejectedPrice

PRIMARY = "primary"
# dq answers OUT_OF_RANGE for a day it has not checked yet: behind, so waited for.
WAIT_ALSO_ON = (grpc.StatusCode.OUT_OF_RANGE,)
RPC_TIMEOUT_S = 10.0
PAGE = 1000


class DqQuarantine:
    def __init__(self, stub: dq_pb2_grpc.DqServiceStub, wait: PeerWait) -> None:
        self._stub = stub
        self._wait = wait

    async def rejected_on(self, day: dt.date) -> list[RejectedPrice]:
        """The day's primary prices dq rejected, once dq has checked the day."""
        return await self._wait.until_answered(f"waiting for dq to check {day}", lambda: self._ask(day))

    async def _ask(self, day: dt.date) -> list[RejectedPrice]:
        request = dq_pb2.GetQuarantineRequest(
            subject_kind=dq_pb2.SUBJECT_KIND_PRICE, page_size=PAGE, as_of_date=date_to_proto(day)
        )
        found: list[RejectedPrice] = []
        while True:
            page = await unless_stopped(
                self._wait.stopping, lambda: self._stub.GetQuarantine(request, timeout=RPC_TIMEOUT_S)
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
