"""The live view's reporting side: each mandate's latest NAV, its day return and its year-to-date return.

An ordinary reporting client. On every refresh, ListMandates (every mandate's latest NAV and YTD
return); the day return is not in that reply, so for each mandate whose NAV date is new since the
last refresh, one GetNavHistory of that single date (its point's daily_return). A day end's return
does not change once valued, so a suite that has stopped costs one ListMandates per refresh, and
one at full speed one small call per mandate besides.

reporting answering UNAVAILABLE (not started, restarting, or not ready yet) clears the figures and
the panel says so; any other failure (a deadline on a busy machine) keeps the last figures on
screen, as the view's other sources do, and with none to keep the panel names the error.
"""

from __future__ import annotations

import asyncio

import grpc

from opsuite.common.v1 import common_pb2
from opsuite.reporting.v1 import reporting_pb2, reporting_pb2_grpc
from services.cli.view.model import NavBoard, date_text, nav_row

RPC_TIMEOUT_S = 2.0  # for the whole poll: the list and the day returns share it
MIN_TIMEOUT_S = 0.1
MAX_PAGES = 100  # a guard against a service that never stops handing out page tokens
NOT_BUILT = "not built in this release"


class ReportingFeed:
    def __init__(self, channel: grpc.aio.Channel | None, address: str):
        """`channel` None: reporting is not in this installation, and the panel says so."""
        self.stub = reporting_pb2_grpc.ReportingServiceStub(channel) if channel is not None else None
        self.address = address
        self.summaries: list[reporting_pb2.MandateSummary] | None = None  # None: no answer yet
        self.unavailable = False
        self.failure = ""  # the last error other than UNAVAILABLE, shown while there are no figures
        # mandate id -> (the NAV date, its daily return): fetched once per mandate and day end.
        self.day_returns: dict[str, tuple[str, float]] = {}

    def board(self) -> NavBoard:
        if self.stub is None:
            return NavBoard(absent=NOT_BUILT)
        if self.unavailable:
            return NavBoard(absent=f"not answering at {self.address}")
        if self.summaries is None:
            return NavBoard(absent=f"no figures from {self.address}: {self.failure or 'no answer yet'}")
        return NavBoard(rows=tuple(nav_row(s, self._day_return(s)) for s in self.summaries))

    def _day_return(self, summary: reporting_pb2.MandateSummary) -> float | None:
        known = self.day_returns.get(summary.mandate_id)
        # Only the return of the date the row shows: a stale one would be another day's.
        return known[1] if known is not None and known[0] == date_text(summary.nav_date) else None

    async def poll(self) -> None:
        if self.stub is None:
            return
        deadline = asyncio.get_running_loop().time() + RPC_TIMEOUT_S
        try:
            summaries = await self._list(self.stub, deadline)
        except grpc.aio.AioRpcError as error:
            if error.code() == grpc.StatusCode.UNAVAILABLE:
                self.unavailable, self.summaries = True, None
            else:
                self.unavailable, self.failure = False, failure_text(error)
            return
        self.unavailable, self.failure, self.summaries = False, "", summaries
        missing = [s for s in summaries if s.HasField("nav_date") and self._day_return(s) is None]
        await asyncio.gather(*(self._fetch_day_return(self.stub, s, deadline) for s in missing))

    async def _list(
        self, stub: reporting_pb2_grpc.ReportingServiceStub, deadline: float
    ) -> list[reporting_pb2.MandateSummary]:
        summaries: list[reporting_pb2.MandateSummary] = []
        token = ""
        for _ in range(MAX_PAGES):
            page = await stub.ListMandates(
                reporting_pb2.ListMandatesRequest(page_token=token), timeout=_left(deadline)
            )
            summaries.extend(page.mandates)
            token = page.next_page_token
            if not token:
                break
        return summaries

    async def _fetch_day_return(
        self,
        stub: reporting_pb2_grpc.ReportingServiceStub,
        summary: reporting_pb2.MandateSummary,
        deadline: float,
    ) -> None:
        day = summary.nav_date
        request = reporting_pb2.GetNavHistoryRequest(
            mandate_id=summary.mandate_id, dates=common_pb2.DateRange(start=day, end=day), page_size=1
        )
        try:
            history = await stub.GetNavHistory(request, timeout=_left(deadline))
        except grpc.aio.AioRpcError:
            return  # the row shows "-" for the day, and the next refresh asks again
        if history.points:
            self.day_returns[summary.mandate_id] = (date_text(day), history.points[-1].daily_return)


def failure_text(error: grpc.aio.AioRpcError) -> str:
    details = " ".join(str(error.details() or "").split())  # one line, whatever the service sent
    return f"{error.code().name}: {details}" if details else error.code().name


def _left(deadline: float) -> float:
    """Seconds left before the poll's deadline, at least MIN_TIMEOUT_S so a late call still goes out."""
    return max(deadline - asyncio.get_running_loop().time(), MIN_TIMEOUT_S)
