"""Outages of a backend (PostgreSQL, Redis): reported where they happen, survived everywhere alike.

A store or event log that cannot reach its server raises BackendUnavailable instead of the
driver's own error, and reports it here. The report is what makes the service honest about it:
serve() listens (OutageWatch), marks the service NOT_SERVING with the reason, probes the backend
with exponential backoff, and marks it serving again once the backend answers. Callers see
UNAVAILABLE (rpc_errors in status.py), which clients treat as "retry later"; background work
(the follower's restart loop, market's clock, the ledger's outbox relay) retries by itself.

Reporting is process-wide (one service per process) because stores are opened before the server
exists and fail on worker threads, far from anything that knows the service's health.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)

Probe = Callable[[], None]


class BackendUnavailable(Exception):
    """A backend cannot be reached now; the same call may succeed later.

    backend names it for a person ("PostgreSQL at 127.0.0.1:5432"); probe() returns once it
    answers again and raises while it does not.
    """

    def __init__(self, backend: str, detail: str, probe: Probe) -> None:
        super().__init__(f"{backend} is unreachable: {detail}")
        self.backend = backend
        self.detail = detail
        self.probe = probe


_listeners: list[Callable[[BackendUnavailable], None]] = []
_listeners_lock = threading.Lock()


def reported(error: BackendUnavailable) -> BackendUnavailable:
    """Tell the listeners (the service's OutageWatch) about the outage; returns the error to raise."""
    with _listeners_lock:
        listeners = list(_listeners)
    for listener in listeners:
        listener(error)
    return error


def listen(listener: Callable[[BackendUnavailable], None]) -> Callable[[], None]:
    """Add a listener; returns the function that removes it."""
    with _listeners_lock:
        _listeners.append(listener)

    def remove() -> None:
        with _listeners_lock, contextlib.suppress(ValueError):
            _listeners.remove(listener)

    return remove


class OutageWatch:
    """Follows the reported outages of one service: down(backend, reason) when one starts, up(backend)
    once its probe answers. Reports may come from any thread; the callbacks run on the loop."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        down: Callable[[str, str], Awaitable[None]],
        up: Callable[[str], Awaitable[None]],
        *,
        initial_s: float = 0.25,
        max_s: float = 5.0,
    ) -> None:
        self._loop = loop
        self._down = down
        self._up = up
        self._initial_s = initial_s
        self._max_s = max_s
        self._probing: dict[str, asyncio.Task[None]] = {}

    def report(self, error: BackendUnavailable) -> None:
        """Thread-safe: a listener for reported()."""
        with contextlib.suppress(RuntimeError):  # the loop is closed: the process is ending
            self._loop.call_soon_threadsafe(self._started, error)

    @property
    def down_backends(self) -> tuple[str, ...]:
        return tuple(self._probing)

    def _started(self, error: BackendUnavailable) -> None:
        if error.backend in self._probing:
            return
        self._probing[error.backend] = self._loop.create_task(
            self._probe_until_up(error), name=f"probe {error.backend}"
        )

    async def _probe_until_up(self, error: BackendUnavailable) -> None:
        log.warning(
            "a backend is unreachable: not serving until it answers",
            extra={"backend": error.backend, "error": error.detail},
        )
        await self._down(error.backend, str(error))
        delay = self._initial_s
        try:
            while True:
                await asyncio.sleep(delay)
                try:
                    await asyncio.to_thread(error.probe)
                except Exception as failure:
                    log.debug("still unreachable", extra={"backend": error.backend, "error": str(failure)})
                    delay = min(self._max_s, delay * 2)
                    continue
                break
        finally:
            del self._probing[error.backend]
        log.info("a backend answers again", extra={"backend": error.backend})
        await self._up(error.backend)

    async def close(self) -> None:
        tasks = list(self._probing.values())
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
