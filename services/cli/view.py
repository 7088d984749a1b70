"""The live view of `opsuite up`: the world's clock, prices, fills and the services.

It is an ordinary market client: GetClock once a second and a filtered
StreamEvents subscription from the head. Later services add their panels
here.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Sequence
from typing import Any, Protocol

import grpc
from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.panel import Panel
from rich.table import Table

from opsuite.ledger.v1 import ledger_pb2, ledger_pb2_grpc
from opsuite.market.v1 import market_pb2, market_pb2_grpc

VIEW_KINDS = ("market.regime", "price.tick", "trade.fill")
WATCHED_PRICES = 10
RECENT_FILLS = 8


class ChildLike(Protocol):
    name: str
    address: str
    process: Any


def _date(d: Any) -> str:
    return f"{d.year:04d}-{d.month:02d}-{d.day:02d}" if d.year else "-"


class LiveView:
    def __init__(
        self, addresses: dict[str, str], children: Sequence[ChildLike], *, plain: bool, console: Console
    ):
        self.addresses = addresses
        self.children = children
        self.plain = plain
        self.console = console
        self.clock: market_pb2.Clock | None = None
        self.symbols: dict[str, str] = {}
        self.prices: dict[str, tuple[str, str]] = {}
        self.fills: deque[market_pb2.Fill] = deque(maxlen=RECENT_FILLS)
        self.fill_count = 0
        self._rate_window: deque[tuple[float, int]] = deque(maxlen=10)
        self.mandate_ids: list[str] = []
        self.trial_balances: dict[str, ledger_pb2.TrialBalance] = {}

    @property
    def events_per_second(self) -> float:
        if len(self._rate_window) < 2:
            return 0.0
        (t0, s0), (t1, s1) = self._rate_window[0], self._rate_window[-1]
        return (s1 - s0) / (t1 - t0) if t1 > t0 else 0.0

    async def run(self) -> None:
        async with grpc.aio.insecure_channel(self.addresses["market"]) as channel:
            stub = market_pb2_grpc.MarketServiceStub(channel)
            instruments = await stub.ListInstruments(market_pb2.ListInstrumentsRequest(page_size=1000))
            self.symbols = {i.instrument_id: i.symbol for i in instruments.instruments}
            mandates = await stub.ListMandates(market_pb2.ListMandatesRequest())
            self.mandate_ids = [m.mandate_id for m in mandates.mandates]
            self.clock = await stub.GetClock(market_pb2.GetClockRequest())
            stream = asyncio.create_task(self._follow(stub, self.clock.head_seq + 1))
            try:
                if self.plain:
                    await self._print_lines(stub)
                else:
                    with Live(self._render(), console=self.console, refresh_per_second=4) as live:
                        while True:
                            await self._poll_clock(stub)
                            await self._poll_ledger()
                            live.update(self._render())
                            await asyncio.sleep(1.0)  # the view's refresh period
            finally:
                stream.cancel()
                with contextlib.suppress(asyncio.CancelledError, grpc.aio.AioRpcError):
                    await stream

    async def _poll_clock(self, stub: market_pb2_grpc.MarketServiceStub) -> None:
        with contextlib.suppress(grpc.aio.AioRpcError):
            self.clock = await stub.GetClock(market_pb2.GetClockRequest(), timeout=2)
            self._rate_window.append((time.monotonic(), self.clock.head_seq))

    async def _poll_ledger(self) -> None:
        """The ledger's panel: each mandate's trial balance (when the ledger runs)."""
        address = self.addresses.get("ledger")
        if address is None or not any(c.name == "ledger" for c in self.children):
            return
        async with grpc.aio.insecure_channel(address) as channel:
            stub = ledger_pb2_grpc.LedgerServiceStub(channel)
            for mandate_id in self.mandate_ids:
                with contextlib.suppress(grpc.aio.AioRpcError):
                    self.trial_balances[mandate_id] = await stub.GetTrialBalance(
                        ledger_pb2.GetTrialBalanceRequest(mandate_id=mandate_id), timeout=2
                    )

    async def _print_lines(self, stub: market_pb2_grpc.MarketServiceStub) -> None:
        while True:
            await self._poll_clock(stub)
            clock = self.clock
            if clock is not None:
                self.console.print(
                    f"{_date(clock.sim_date)} regime={clock.regime or '-'} seq={clock.head_seq} "
                    f"events/s={self.events_per_second:,.0f} fills={self.fill_count}"
                )
            await asyncio.sleep(2.0)  # the plain view's print period

    async def _follow(self, stub: market_pb2_grpc.MarketServiceStub, from_seq: int) -> None:
        request = market_pb2.StreamEventsRequest(
            from_seq=from_seq, filter=market_pb2.EventFilter(kinds=VIEW_KINDS)
        )
        async for batch in stub.StreamEvents(request):
            for event in batch.events:
                which = event.WhichOneof("payload")
                if which == "price" and (
                    event.price.instrument_id in self.prices or len(self.prices) < WATCHED_PRICES
                ):
                    self.prices[event.price.instrument_id] = (event.price.price.value, event.price.currency)
                elif which == "fill":
                    self.fills.append(event.fill)
                    self.fill_count += 1

    def _render(self) -> Group:
        clock = self.clock
        header = Table.grid(padding=(0, 2))
        if clock is not None:
            mode = (
                "max"
                if clock.mode == market_pb2.CLOCK_MODE_MAX
                else f"{clock.business_days_per_second:g} days/s"
            )
            header.add_row(
                f"[bold]{_date(clock.sim_date)}[/]",
                f"regime [bold]{clock.regime or '-'}[/]",
                f"clock {mode}{'' if clock.running else ' (stopped)'}",
                f"seq {clock.head_seq:,}",
                f"{self.events_per_second:,.0f} events/s",
                f"data {clock.data_source}",
            )
        prices = Table("instrument", "price", "ccy", title="last prices", expand=True)
        for instrument_id, (price, currency) in sorted(self.prices.items()):
            prices.add_row(self.symbols.get(instrument_id, instrument_id), price, currency)
        fills = Table(
            "date",
            "mandate",
            "side",
            "qty",
            "instrument",
            "price",
            title=f"fills ({self.fill_count})",
            expand=True,
        )
        for fill in reversed(self.fills):
            fills.add_row(
                _date(fill.trade_date),
                fill.mandate_id,
                market_pb2.Side.Name(fill.side).removeprefix("SIDE_"),
                fill.quantity.value,
                self.symbols.get(fill.instrument_id, fill.instrument_id),
                fill.price.value,
            )
        ledger = Table(
            "mandate", "journals", "postings", "cash", "trial balance", title="ledger", expand=True
        )
        for mandate_id, balance in self.trial_balances.items():
            cash = next(
                (
                    f"{line.balance.amount.value} {line.currency}"
                    for line in balance.lines
                    if line.account.startswith("Assets:Cash:")
                ),
                "-",
            )
            ledger.add_row(
                mandate_id,
                f"{balance.journal_count:,}",
                f"{balance.posting_count:,}",
                cash,
                "[green]balanced[/]" if balance.balanced else "[red]OUT OF BALANCE[/]",
            )
        services = Table("service", "address", "pid", "state", title="services", expand=True)
        for child in self.children:
            process = child.process
            alive = process is not None and process.returncode is None
            services.add_row(
                child.name,
                child.address,
                str(process.pid if process else "-"),
                "[green]running[/]" if alive else f"[red]exited {process.returncode if process else ''}[/]",
            )
        panels: list[RenderableType] = [Panel(header, title="opsuite market"), prices, fills]
        if self.trial_balances:
            panels.append(ledger)
        return Group(*panels, services)
