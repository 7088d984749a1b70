"""GetStatus, served by the platform for every service: where it stands against market's stream.

A service gives serve() a `progress` callable (the follower's, or market's own); serve() adds
what every service has alike: its name, whether it is serving and why not, when it started.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass

import grpc.aio
from google.protobuf.duration_pb2 import Duration

from opsuite.common.v1 import status_pb2, status_pb2_grpc
from services.common.convert import date_to_proto, timestamp_to_proto

SERVICE_NAME = status_pb2.DESCRIPTOR.services_by_name["StatusService"].full_name


@dataclass(frozen=True, slots=True)
class Progress:
    """How far a service has come through market's stream.

    applied_seq: the last market seq applied (market: the last it published).
    market_head_seq: market's head as last seen. simulated_date: the date of the last event
    applied, None before the first.
    """

    applied_seq: int = 0
    market_head_seq: int = 0
    simulated_date: dt.date | None = None

    @property
    def lag(self) -> int:
        return max(0, self.market_head_seq - self.applied_seq)


class Readiness:
    """Whether the service is serving and, when not, why: set by the service, read by GetStatus."""

    def __init__(self) -> None:
        self.serving = False
        self.reason = "starting"

    def set(self, serving: bool, reason: str = "") -> None:
        self.serving = serving
        self.reason = "" if serving else reason


class StatusServicer(status_pb2_grpc.StatusServiceServicer):
    def __init__(self, service: str, readiness: Readiness, progress: Callable[[], Progress] | None) -> None:
        self._service = service
        self._readiness = readiness
        self._progress = progress
        self._started_at = dt.datetime.now(dt.UTC)
        self._started_monotonic = time.monotonic()

    async def GetStatus(
        self, request: status_pb2.GetStatusRequest, context: grpc.aio.ServicerContext
    ) -> status_pb2.ServiceStatus:
        progress = self._progress() if self._progress is not None else Progress()
        uptime = Duration()
        uptime.FromNanoseconds(int((time.monotonic() - self._started_monotonic) * 1e9))
        reply = status_pb2.ServiceStatus(
            service=self._service,
            serving=self._readiness.serving,
            not_serving_reason=self._readiness.reason,
            applied_seq=progress.applied_seq,
            market_head_seq=progress.market_head_seq,
            lag=progress.lag,
            started_at=timestamp_to_proto(self._started_at),
            uptime=uptime,
        )
        if progress.simulated_date is not None:
            reply.simulated_date.CopyFrom(date_to_proto(progress.simulated_date))
        return reply


def add_status_service(
    server: grpc.aio.Server, service: str, readiness: Readiness, progress: Callable[[], Progress] | None
) -> str:
    """Register GetStatus; returns the service's full name (for health and reflection)."""
    status_pb2_grpc.add_StatusServiceServicer_to_server(StatusServicer(service, readiness, progress), server)
    return SERVICE_NAME
