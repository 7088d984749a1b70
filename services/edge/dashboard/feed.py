"""One upstream subscription of the dashboard, and where it stands.

A Feed follows one streaming RPC (follow()) until it fails, then says so on its panels (which keep
their last figures, marked stale), waits a backoff (0.5 s doubling to 10 s) and for its channel to be
ready again (gRPC's own reconnection, services/edge/upstream.py), and follows again from where it
stopped; a cursor the service no longer has (OUT_OF_RANGE) starts it afresh (restart()). Nothing is
polled: between failures a feed sleeps on its stream.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass

import grpc
import grpc.aio
from grpc_health.v1 import health_pb2, health_pb2_grpc

from services.edge.dashboard.hub import Hub
from services.edge.upstream import ChannelProvider

_log = logging.getLogger(__name__)

CALL_TIMEOUT_S = 10.0
BACKOFF_FIRST_S = 0.5
BACKOFF_MAX_S = 10.0

CONNECTING, LIVE, STARTING, UNAVAILABLE = "connecting", "live", "starting", "unavailable"


def backoff_s(failures: int) -> float:
    """The wait before the n-th reconnection in a row: 0.5, 1, 2, 4, 8, 10, 10 ... seconds."""
    return float(min(BACKOFF_MAX_S, BACKOFF_FIRST_S * 2.0 ** max(0, failures - 1)))


def describe_error(error: grpc.aio.AioRpcError) -> str:
    code = error.code()
    name = code.name if isinstance(code, grpc.StatusCode) else "UNKNOWN"
    details = " ".join(str(error.details() or "").split())
    return f"{name}: {details}" if details else name


@dataclass
class Availability:
    """Where a feed stands, as the panels and the status line show it."""

    service: str
    address: str
    state: str = CONNECTING
    since: dt.datetime | None = None
    reason: str = ""
    has_data: bool = False

    @property
    def stale(self) -> bool:
        return self.state in (CONNECTING, UNAVAILABLE) and self.has_data


class Feed:
    """One subscription: follow() until the stream fails, then back off and follow again."""

    service = ""
    grpc_service = ""  # the full name its health is asked for

    def __init__(self, hub: Hub, channels: ChannelProvider, address: str, panels: Sequence[str]) -> None:
        self.hub = hub
        self.channels = channels
        self.panels = tuple(panels)
        self.availability = Availability(self.service, address)
        self._received = False

    @property
    def channel(self) -> grpc.aio.Channel:
        return self.channels.channel(self.service)

    def touch(self) -> None:
        """The feed's figures changed: its panels are due again."""
        self._received = True
        self.availability.has_data = True
        if self.availability.state != LIVE:
            self._set(LIVE, "")
        for name in self.panels:
            self.hub.changed(name)

    def _set(self, state: str, reason: str) -> None:
        before = self.availability.state
        self.availability.state, self.availability.reason = state, reason
        self.availability.since = dt.datetime.now(dt.UTC)
        if state != before:
            log = _log.warning if state == UNAVAILABLE else _log.info
            log(
                "dashboard feed",
                extra={
                    "upstream": self.service,
                    "state": state,
                    "reason": reason,
                    "address": self.availability.address,
                },
            )
        for name in (*self.panels, "status"):
            if name in self.hub.panels:
                self.hub.changed(name)

    async def connected(self) -> None:
        """Asks the service's health once per (re)connection, so the panel says it is there before the
        stream's first message (a quiet stream sends none)."""
        stub = health_pb2_grpc.HealthStub(self.channel)
        reply = await stub.Check(
            health_pb2.HealthCheckRequest(service=self.grpc_service), timeout=CALL_TIMEOUT_S
        )
        if reply.status == health_pb2.HealthCheckResponse.SERVING:
            # What the panel shows from here on is the service's (an empty watch is "none open").
            self.availability.has_data = True
            self._set(LIVE, "")
        else:
            self._set(STARTING, "it is starting (not SERVING yet)")

    async def follow(self) -> None:
        raise NotImplementedError

    def restart(self) -> None:
        """Forget the cursor (and the state built on it): the next follow() starts from the beginning."""

    async def run(self) -> None:
        failures = 0
        while True:
            self._received = False
            try:
                await self.follow()
                reason = "its stream ended"
            except grpc.aio.AioRpcError as error:
                reason = describe_error(error)
                if error.code() == grpc.StatusCode.OUT_OF_RANGE:
                    self.restart()
            except asyncio.CancelledError:
                raise
            except Exception as error:
                _log.exception("dashboard feed failed", extra={"upstream": self.service})
                reason = f"the edge could not read its answer ({type(error).__name__}: {error})"
            self._set(UNAVAILABLE, reason)
            failures = 1 if self._received else failures + 1
            await asyncio.sleep(backoff_s(failures))
            # gRPC reconnects by itself (services/edge/upstream.py CHANNEL_OPTIONS): wait for it.
            await self.channel.channel_ready()


async def first_to_fail(*streams: Awaitable[None]) -> None:
    """Runs the streams together; the first to end or fail ends them all (its error raised)."""
    tasks = [asyncio.ensure_future(stream) for stream in streams]
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            task.result()  # its error, if it failed
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, grpc.aio.AioRpcError, Exception):
                await task
