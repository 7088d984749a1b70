"""Reading the dashboard's server-sent events from a test: a thread parses the stream into events that
the test waits on, each wait bounded (no sleeps)."""

from __future__ import annotations

import json
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx


@dataclass(frozen=True)
class Event:
    event: str
    data: dict[str, Any]


class EventStream:
    """GET `url` as text/event-stream; every event it sends, in order, on a queue."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.events: queue.Queue[Event | BaseException] = queue.Queue()
        self.headers: httpx.Headers | None = None
        self.retry_ms: int | None = None
        self.latest: dict[str, dict[str, Any]] = {}  # each panel's last payload, as the reader saw it
        self._lock = threading.Lock()
        self._client = httpx.Client(timeout=httpx.Timeout(10.0, read=None))
        self._opened = threading.Event()
        self._thread = threading.Thread(target=self._read, daemon=True, name="sse-reader")
        self._thread.start()
        if not self._opened.wait(20):
            raise AssertionError(f"{url} did not answer within 20 s")

    def _read(self) -> None:
        try:
            with self._client.stream("GET", self.url) as response:
                self.headers = response.headers
                self.status_code = response.status_code
                self._opened.set()
                name, data = "message", []
                for line in response.iter_lines():
                    if line.startswith("retry:"):
                        self.retry_ms = int(line.removeprefix("retry:").strip())
                    elif line.startswith("event:"):
                        name = line.removeprefix("event:").strip()
                    elif line.startswith("data:"):
                        data.append(line.removeprefix("data:").strip())
                    elif line == "" and data:
                        event = Event(name, json.loads("\n".join(data)))
                        if event.event == "panel":
                            with self._lock:
                                self.latest[event.data["panel"]] = event.data
                        self.events.put(event)
                        name, data = "message", []
            self.events.put(EOFError("the stream ended"))
        except BaseException as error:  # closed by the test, or the edge went away
            self._opened.set()
            self.events.put(error)

    def wait_for(self, matches: Callable[[Event], bool], timeout: float, what: str) -> Event:
        """The first event from now on that matches; AssertionError after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        seen = 0
        while (left := deadline - time.monotonic()) > 0:
            try:
                item = self.events.get(timeout=left)
            except queue.Empty:
                break
            if isinstance(item, BaseException):
                raise AssertionError(f"waiting for {what}: {item!r}")
            seen += 1
            if matches(item):
                return item
        raise AssertionError(f"no {what} within {timeout} s ({seen} other event(s))")

    def wait_panel(
        self,
        name: str,
        timeout: float,
        what: str,
        check: Callable[[dict[str, Any]], bool] = lambda payload: True,
        **conditions: Any,
    ) -> dict[str, Any]:
        """The panel's payload once it has these values (and passes `check`): the one it has now, or
        the first to come."""

        def good(payload: dict[str, Any] | None) -> bool:
            return (
                payload is not None
                and all(payload.get(k) == v for k, v in conditions.items())
                and check(payload)
            )

        with self._lock:
            now = self.latest.get(name)
        if good(now):
            assert now is not None
            return now
        return self.wait_for(lambda e: panel(name)(e) and good(e.data), timeout, what).data

    def panels(self, names: set[str], timeout: float) -> dict[str, dict[str, Any]]:
        """The latest payload of each named panel, once every one has been sent."""
        latest: dict[str, dict[str, Any]] = {}

        def collect(event: Event) -> bool:
            if event.event == "panel":
                latest[event.data["panel"]] = event.data
            return names <= set(latest)

        self.wait_for(collect, timeout, f"the panels {sorted(names)}")
        return latest

    def close(self) -> None:
        # The reader may be blocked on the socket until the next heartbeat: it is a daemon thread.
        self._client.close()
        self._thread.join(0.5)


def panel(name: str, **conditions: Any) -> Callable[[Event], bool]:
    """A matcher: a `panel` event of that panel whose payload has these values."""

    def matches(event: Event) -> bool:
        return (
            event.event == "panel"
            and event.data.get("panel") == name
            and all(event.data.get(k) == v for k, v in conditions.items())
        )

    return matches
