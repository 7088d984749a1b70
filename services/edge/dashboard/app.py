"""The edge's live dashboard at `/`: server-rendered panels kept live by server-sent events, each fed
by one streaming RPC of the service that owns its figures (feeds.py), fanned out to every browser
(hub.py). docs/edge.md describes each panel and its feed.

    dashboard = Dashboard(channels, addresses)
    app = create_app(routes, channels, extra_routes=dashboard.routes(),
                     lifespans=(dashboard.running,), untraced=dashboard.untraced,
                     on_drain=(dashboard.drain,))

The feeds start with the app and stop with it; `drain()` (SIGTERM) ends every event stream at once,
so the edge stops without waiting for the browsers to leave.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Mapping
from typing import Any

from starlette.routing import BaseRoute

from services.edge.dashboard import panels
from services.edge.dashboard.feed import Feed
from services.edge.dashboard.feeds import BreaksFeed, ClockFeed, DocumentsFeed, DqFeed, LedgerFeed, NavFeed
from services.edge.dashboard.hub import Hub, Panel
from services.edge.dashboard.pages import Pages
from services.edge.dashboard.render import STATIC_URL, Renderer
from services.edge.upstream import ChannelProvider

# The services the dashboard calls, besides those the annotated routes call.
BACKENDS = ("market", "recon", "reporting", "dq", "ledger", "documents")


class Dashboard:
    def __init__(
        self,
        channels: ChannelProvider,
        addresses: Mapping[str, str],
        *,
        deadline_s: float = 30.0,
        token_required: bool = False,
    ) -> None:
        self.channels = channels
        self.addresses = dict(addresses)
        # The edge has an API token: the page asks for it before its first write (never the token).
        self.token_required = token_required
        self.hub = Hub()
        self.renderer = Renderer()

        def address(service: str) -> str:
            return self.addresses.get(service, "?")

        self.clock = ClockFeed(self.hub, channels, address("market"))
        self.breaks = BreaksFeed(self.hub, channels, address("recon"))
        self.nav = NavFeed(self.hub, channels, address("reporting"))
        self.dq = DqFeed(self.hub, channels, address("dq"))
        self.ledger = LedgerFeed(self.hub, channels, address("ledger"))
        self.documents = DocumentsFeed(self.hub, channels, address("documents"))
        self.feeds: tuple[Feed, ...] = (
            self.clock,
            self.breaks,
            self.nav,
            self.dq,
            self.ledger,
            self.documents,
        )
        for feed in self.feeds:
            render = panels.RENDERERS[type(feed)]
            self.hub.add(Panel(feed.panels[0], _bound(render, self.renderer, feed)))
        self.hub.add(Panel("status", lambda: panels.status(self.renderer, self.feeds)))
        self.pages = Pages(self, deadline_s)
        self._tasks: list[asyncio.Task[None]] = []

    def routes(self) -> list[BaseRoute]:
        return self.pages.routes()

    # The event streams live as long as the browser: a server span each would never end.
    untraced = ("/events", STATIC_URL)

    @contextlib.asynccontextmanager
    async def running(self, app: Any = None) -> AsyncIterator[None]:
        """The feeds, for the app's lifetime (a lifespan of create_app)."""
        self._tasks = [
            asyncio.create_task(feed.run(), name=f"dashboard-{feed.service}") for feed in self.feeds
        ]
        try:
            yield
        finally:
            self.drain()
            for task in self._tasks:
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
            self._tasks = []

    def drain(self) -> None:
        """Ends every event stream (the edge is stopping)."""
        self.hub.close()


def _bound(render: Any, renderer: Renderer, feed: Feed) -> Any:
    return lambda: render(renderer, feed)
