"""Waiting for a peer that must answer before a day end can be committed (reporting waits for dq's
quarantine of the day, dq for the ledger's balances of the day end).

The ask is repeated with exponential backoff for as long as it takes while the peer is down,
restarting or behind (its UNAVAILABLE, DEADLINE_EXCEEDED, or what the caller names; NotYet when it
answered but not yet for what was asked), and health says NOT_SERVING with what the service waits
for and what the peer answered, until it answers. Only shutting down ends a wait (Stopped: nothing
of the day end was committed, and the restarted service does it again). Any other answer is raised.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Collection
from typing import Protocol, TypeVar

import grpc
import grpc.aio

from services.common.stopping import pause

T = TypeVar("T")
WAIT_ON = frozenset({grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED})

log = logging.getLogger(__name__)


class NotYet(Exception):
    """The peer answered, but not yet for what was asked (it has not reached that day end)."""


class Health(Protocol):
    """What a wait reports to (services/common/serve.py's HealthControl)."""

    async def backend_down(self, backend: str, reason: str) -> None: ...

    async def backend_up(self, backend: str) -> None: ...


class PeerWait:
    """backend: how health and the log name the peer."""

    def __init__(
        self,
        backend: str,
        stopping: asyncio.Event,
        health: Health | None = None,
        *,
        also_wait_on: Collection[grpc.StatusCode] = (),
        retry_initial_s: float = 0.05,
        retry_max_s: float = 2.0,
    ) -> None:
        self.backend = backend
        self.stopping = stopping
        self._health = health
        self._wait_on = WAIT_ON | frozenset(also_wait_on)
        self._retry_initial_s = retry_initial_s
        self._retry_max_s = retry_max_s
        self._waiting = False

    async def until_answered(self, what: str, ask: Callable[[], Awaitable[T]]) -> T:
        """ask()'s answer, asked again until the peer gives one; `what` says what the service waits for."""
        delay = self._retry_initial_s
        while True:
            try:
                answer = await ask()
            except NotYet as not_yet:
                reason = f"{what}: {not_yet}"
            except grpc.aio.AioRpcError as error:
                if error.code() not in self._wait_on:
                    raise
                reason = f"{what}: {self.backend} answered {error.code().name}: {error.details()}"
            else:
                if self._waiting:
                    self._waiting = False
                    log.info(f"{self.backend} answered; going on", extra={"backend": self.backend})
                    if self._health is not None:
                        await self._health.backend_up(self.backend)
                return answer
            if not self._waiting:
                self._waiting = True
                log.warning(
                    f"waiting for {self.backend}: not serving until it answers",
                    extra={"backend": self.backend, "reason": reason},
                )
            if self._health is not None:
                await self._health.backend_down(self.backend, reason)
            await pause(self.stopping, delay)
            delay = min(self._retry_max_s, delay * 2)
