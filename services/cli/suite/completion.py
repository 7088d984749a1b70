"""When a run with an end is done: market's clock has stopped and every service has applied its stream.

`opsuite up --speed max --days 250` says so once, with what the run produced, and keeps serving.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import grpc

from opsuite.common.v1 import status_pb2, status_pb2_grpc
from opsuite.ledger.v1 import ledger_pb2, ledger_pb2_grpc
from opsuite.market.v1 import market_pb2, market_pb2_grpc
from opsuite.recon.v1 import recon_pb2, recon_pb2_grpc
from services.cli.output import grouped
from services.common.channels import Security, open_channel

POLL_S = 1.0
RPC_TIMEOUT_S = 10.0
_OPEN = (recon_pb2.BREAK_STATUS_OPEN, recon_pb2.BREAK_STATUS_INVESTIGATING)


@dataclass(frozen=True)
class RunSummary:
    first_day: dt.date
    last_day: dt.date
    business_days: int
    events: int
    journals: int | None  # None: no ledger in this suite
    breaks_open: int | None  # None: no recon in this suite
    breaks_closed: int | None
    seconds: float

    def sentence(self) -> str:
        parts = [
            f"done: {grouped(self.business_days)} business days simulated "
            f"({self.first_day} .. {self.last_day}), {grouped(self.events)} market events"
        ]
        if self.journals is not None:
            parts.append(f"{grouped(self.journals)} journals posted")
        if self.breaks_open is not None and self.breaks_closed is not None:
            parts.append(f"breaks: {grouped(self.breaks_open)} open, {grouped(self.breaks_closed)} closed")
        took = f"in {self.seconds:,.1f} s"
        return f"{', '.join(parts)}; {took}. Still serving; Ctrl-C stops."


def _date(value: object) -> dt.date:
    return dt.date(value.year, value.month, value.day)  # type: ignore[attr-defined]


async def _caught_up(
    addresses: dict[str, str], names: Sequence[str], security: Security
) -> market_pb2.Clock | None:
    """Market's clock when it has ended and every follower applied its head; None otherwise."""
    async with open_channel(security, addresses["market"]) as channel:
        clock: market_pb2.Clock = await market_pb2_grpc.MarketServiceStub(channel).GetClock(
            market_pb2.GetClockRequest(), timeout=RPC_TIMEOUT_S
        )
    if clock.running or clock.head_seq == 0:
        return None
    for name in names:
        if name == "market":
            continue
        async with open_channel(security, addresses[name]) as channel:
            status = await status_pb2_grpc.StatusServiceStub(channel).GetStatus(
                status_pb2.GetStatusRequest(), timeout=RPC_TIMEOUT_S
            )
        if not status.serving or status.applied_seq < clock.head_seq:
            return None
    return clock


async def _journals(addresses: dict[str, str], security: Security) -> int:
    """Journals posted across the market's mandates, from each mandate's trial balance."""
    async with open_channel(security, addresses["market"]) as channel:
        mandates = await market_pb2_grpc.MarketServiceStub(channel).ListMandates(
            market_pb2.ListMandatesRequest(), timeout=RPC_TIMEOUT_S
        )
    total = 0
    async with open_channel(security, addresses["ledger"]) as channel:
        stub = ledger_pb2_grpc.LedgerServiceStub(channel)
        for mandate in mandates.mandates:
            balance = await stub.GetTrialBalance(
                ledger_pb2.GetTrialBalanceRequest(mandate_id=mandate.mandate_id), timeout=RPC_TIMEOUT_S
            )
            total += balance.journal_count
    return total


async def _breaks(address: str, security: Security) -> tuple[int, int]:
    """(open, closed) among the breaks to work (those without a parent)."""
    opened = closed = 0
    token = ""
    async with open_channel(security, address) as channel:
        stub = recon_pb2_grpc.ReconServiceStub(channel)
        while True:
            page = await stub.ListBreaks(
                recon_pb2.ListBreaksRequest(top_level_only=True, page_size=1000, page_token=token),
                timeout=RPC_TIMEOUT_S,
            )
            for item in page.breaks:
                if item.status in _OPEN:
                    opened += 1
                else:
                    closed += 1
            token = page.next_page_token
            if not token:
                return opened, closed


async def wait_until_done(
    addresses: dict[str, str], names: Sequence[str], started: float, security: Security
) -> RunSummary:
    """Poll until the run is done (a clock without an end never is), then read its summary."""
    loop = asyncio.get_running_loop()
    while True:
        try:
            clock = await _caught_up(addresses, names, security)
        except grpc.aio.AioRpcError:
            clock = None  # a service restarting or busy: ask again
        if clock is not None:
            break
        await asyncio.sleep(POLL_S)  # polling period of a status question, not a readiness stand-in
    journals = await _journals(addresses, security) if "ledger" in names else None
    breaks = await _breaks(addresses["recon"], security) if "recon" in names else None
    return RunSummary(
        first_day=_date(clock.start_date),
        last_day=_date(clock.sim_date),
        business_days=clock.business_days_elapsed,
        events=clock.head_seq,
        journals=journals,
        breaks_open=breaks[0] if breaks else None,
        breaks_closed=breaks[1] if breaks else None,
        seconds=loop.time() - started,
    )
