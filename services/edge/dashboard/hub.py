"""Fan-out of the upstream feeds to every browser: panels with a version, and one wake-up for all.

A feed changes a panel's state and calls `Hub.changed(name)`; every server-sent-event stream that is
waiting wakes, sends each panel whose version it has not sent yet, and waits again. A panel is
rendered once per version, however many browsers read it, and lazily: a burst of changes between two
sends costs one rendering. Nothing here asks any service anything; the feeds push.

Breaks have a version of their own (`break_changed`), so a break's page can follow that break alone.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any

Payload = Mapping[str, Any]

# Break versions kept for the break pages (the oldest are forgotten first: a page of a forgotten
# break simply waits for its next change).
MAX_TRACKED_BREAKS = 10_000


class Panel:
    """A named part of the dashboard: its version, and its payload (html, and data for a chart)
    rendered from the feed's state when first asked for at a version."""

    def __init__(self, name: str, render: Callable[[], Payload]) -> None:
        self.name = name
        self.version = 1
        self._render = render
        self._rendered: tuple[int, Payload] | None = None

    def payload(self) -> Payload:
        if self._rendered is None or self._rendered[0] != self.version:
            self._rendered = (self.version, self._render())
        return self._rendered[1]


class Hub:
    def __init__(self) -> None:
        self.panels: dict[str, Panel] = {}
        self.closing = False
        self._wake = asyncio.Event()
        self._breaks: OrderedDict[str, int] = OrderedDict()

    def add(self, panel: Panel) -> Panel:
        self.panels[panel.name] = panel
        return panel

    def changed(self, name: str) -> None:
        self.panels[name].version += 1
        self._notify()

    def break_changed(self, break_id: str) -> None:
        self._breaks[break_id] = self._breaks.pop(break_id, 0) + 1
        while len(self._breaks) > MAX_TRACKED_BREAKS:
            self._breaks.popitem(last=False)
        self._notify()

    def break_version(self, break_id: str) -> int:
        return self._breaks.get(break_id, 0)

    def _notify(self) -> None:
        wake, self._wake = self._wake, asyncio.Event()
        wake.set()

    def generation(self) -> asyncio.Event:
        """The event the next change sets: take it before reading the panels, then wait on it, so a
        change made while reading is not missed."""
        return self._wake

    async def wait(self, generation: asyncio.Event, timeout_s: float) -> bool:
        """True when something changed (or the hub is closing) since `generation` was taken."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(generation.wait(), timeout_s)
            return True
        return False

    def close(self) -> None:
        """The edge is stopping: every stream ends, so the server can stop without waiting for them."""
        self.closing = True
        self._notify()
