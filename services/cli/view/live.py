"""The live view: the world's clock, prices and fills, the ledger's cash and suspense, recon's open
breaks, dq's open issues and the values it holds back, reporting's NAVs and returns, and the
services; under `opsuite up` (with its children) or attached to a running suite by `opsuite view`.

Data comes from the services over gRPC like any client's (view_market.py, view_sources.py);
what a frame shows is view_model.py, how it is drawn view_panels.py and how it fits the
console view_layout.py. Without a terminal (or with --plain) it prints a line every few seconds
instead, only when something changed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
from collections.abc import Sequence
from typing import Any, Protocol

import grpc
from rich.console import Console
from rich.live import Live

from services.cli.output import grouped
from services.cli.registry import START_ORDER, available_services
from services.cli.view.layout import Screen
from services.cli.view.market import RECONNECT_S, MarketFeed
from services.cli.view.model import ServiceRow, ViewState, date_text, drawn_from, service_row
from services.cli.view.sources import Sources
from services.common.channels import Security
from services.common.settings import SERVICES, load_settings

REFRESH_S = 1.0
PLAIN_PERIOD_S = 2.0


class ChildLike(Protocol):
    """A service process as `opsuite up` supervises it (services/cli/suite/supervisor.py Child)."""

    @property
    def name(self) -> str: ...
    @property
    def address(self) -> str: ...
    @property
    def process(self) -> Any: ...
    @property
    def restarts(self) -> int: ...
    @property
    def state(self) -> str: ...  # "starting", "running", "restarting in 4 s", "failed", ...


class MarketUnreachable(RuntimeError):
    pass


def _process_state(child: ChildLike) -> str:
    """The state of a child from its process alone, for a supervisor that does not say one."""
    process = getattr(child, "process", None)
    if process is None:
        return "waiting"
    return "running" if process.returncode is None else f"exited {process.returncode}"


def _day_origin_words(clock: Any) -> list[str]:
    """The plain line's words after the date: `real`, or `synthetic drawn_from=FIRST..LAST` (the real
    block the day was drawn from); none before market's first day."""
    if not clock.HasField("sim_date"):
        return []
    block = drawn_from(clock)
    return ["real"] if block is None else ["synthetic", f"drawn_from={block[0]}..{block[1]}"]


class LiveView:
    def __init__(
        self,
        addresses: dict[str, str],
        children: Sequence[ChildLike] | None,
        *,
        plain: bool,
        console: Console,
        security: Security,
    ):
        """`children` None: attached to a suite someone else runs; the states come from GetStatus."""
        self.addresses = addresses
        self.children = children
        self.security = security
        self.plain = plain
        self.console = console
        self.done = False  # set by `opsuite up` once the run has reached its end
        self.names = available_services()
        self.not_built = tuple(name for name in START_ORDER if name not in self.names)

    async def run(self) -> None:
        sources = Sources(self.addresses, self.names, self.security)
        market = MarketFeed(sources.channels["market"])
        try:
            await self._connect(market)
            stream = asyncio.ensure_future(market.follow())
            try:
                if self.plain:
                    await self._print_lines(market, sources)
                else:
                    await self._show(market, sources)
            finally:
                stream.cancel()
                with contextlib.suppress(asyncio.CancelledError, grpc.aio.AioRpcError):
                    await stream
        finally:
            await sources.close()

    async def _connect(self, market: MarketFeed) -> None:
        while True:
            try:
                await market.connect()
                return
            except grpc.aio.AioRpcError as error:
                if self.children is None:  # nothing here will bring market back
                    raise MarketUnreachable(
                        f"market does not answer at {self.addresses['market']} ({error.code().name})"
                    ) from error
            await asyncio.sleep(RECONNECT_S)  # under `opsuite up`, the supervisor restarts it

    async def _refresh(self, market: MarketFeed, sources: Sources) -> None:
        await asyncio.gather(market.poll_clock(), sources.poll(market.mandate_ids))

    async def _show(self, market: MarketFeed, sources: Sources) -> None:
        await self._refresh(market, sources)
        with Live(Screen(self.state(market, sources)), console=self.console, auto_refresh=False) as live:
            while True:
                await asyncio.sleep(REFRESH_S)
                await self._refresh(market, sources)
                live.update(Screen(self.state(market, sources)), refresh=True)

    async def _print_lines(self, market: MarketFeed, sources: Sources) -> None:
        last = ""
        while True:
            await self._refresh(market, sources)
            line = self.plain_line(market, sources)
            if line and line != last:
                self.console.print(line, highlight=False, soft_wrap=True)
                last = line
            await asyncio.sleep(PLAIN_PERIOD_S)

    def plain_line(self, market: MarketFeed, sources: Sources) -> str:
        clock = market.clock
        if clock is None:
            return ""
        parts = [
            date_text(clock.sim_date),
            *_day_origin_words(clock),
            f"regime={clock.regime or '-'}",
            f"seq={grouped(clock.head_seq)}",
            f"events/s={grouped(round(market.events_per_second))}",
            f"fills={grouped(market.fill_count)}",
        ]
        if sources.recon is not None:
            parts.append(f"breaks_open={grouped(sources.recon.open)}")
            parts.append(f"escalated={grouped(sources.recon.escalated)}")
        dq = sources.dq_board()
        if not dq.absent:  # dq's counts once it answers; a dq that does not is in not_serving
            parts.append(f"dq_open={grouped(dq.open)}")
            parts.append(f"quarantined={grouped(dq.held_back)}")
        down = [
            row.name for row in self.service_rows(sources) if not row.state.startswith(("running", "serving"))
        ]
        if down:
            parts.append(f"not_serving={','.join(down)}")
        return " ".join(parts)

    def service_rows(self, sources: Sources) -> tuple[ServiceRow, ...]:
        answers = sources.answers
        if self.children is None:
            return tuple(
                service_row(
                    name,
                    self.addresses[name],
                    answers[name].health if name in answers else None,
                    answers[name].status if name in answers else None,
                )
                for name in self.names
            )
        rows = []
        for child in self.children:
            answer = answers.get(child.name)
            process = getattr(child, "process", None)
            rows.append(
                service_row(
                    child.name,
                    child.address,
                    answer.health if answer else None,
                    answer.status if answer else None,
                    # Until every supervisor says a state and counts restarts, the process tells.
                    supervised_state=getattr(child, "state", None) or _process_state(child),
                    restarts=getattr(child, "restarts", 0),
                    pid=process.pid if process is not None else None,
                )
            )
        return tuple(rows)

    def state(self, market: MarketFeed, sources: Sources) -> ViewState:
        return ViewState(
            clock=market.clock,
            events_per_second=market.events_per_second,
            done=self.done,
            prices=market.price_rows(),
            fills=tuple(market.fills),
            fill_count=market.fill_count,
            cash=sources.cash_rows(market.mandate_ids),
            recon=sources.recon,
            services=self.service_rows(sources),
            not_built=self.not_built,
            supervised=self.children is not None,
            reporting=sources.nav_board(),
            dq=sources.dq_board(),
        )


async def _attach(addresses: dict[str, str], plain: bool, console: Console, security: Security) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        loop.add_signal_handler(signum, stop.set)
    view = asyncio.ensure_future(
        LiveView(addresses, None, plain=plain, console=console, security=security).run()
    )
    stopped = asyncio.ensure_future(stop.wait())
    await asyncio.wait({view, stopped}, return_when=asyncio.FIRST_COMPLETED)
    stopped.cancel()
    if view.done():
        error = view.exception()
        if isinstance(error, MarketUnreachable):
            console.print(f"[red]opsuite view: {error}; is a suite running? `opsuite up` starts one[/]")
            return 1
        view.result()  # anything else is a bug: let it show
        return 0
    view.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await view
    return 0


def view_command(args: argparse.Namespace) -> int:
    """opsuite view: the live view of a suite already running, found where the settings say."""
    settings = load_settings()
    addresses = {name: settings.addr(name) for name in SERVICES}
    console = Console()
    plain = bool(getattr(args, "plain", False)) or not console.is_terminal
    return asyncio.run(_attach(addresses, plain, console, settings))
