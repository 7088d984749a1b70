"""The services behind the edge: one grpc.aio channel per backend, generic unary calls, health.

A ChannelProvider hands the app a channel per backend (a route's `backend`, "reporting"); the
default one dials the addresses of the settings (OPSUITE_<SVC>_ADDR), each channel created on first
use, inside the server's event loop and after telemetry instrumented grpc.aio (so every call
carries the request's trace context), with TLS when the edge's settings say so (channels.py). Calls are generic: the method's path and its message classes'
serializers, no generated stub, so a new annotated RPC needs no code here.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import grpc
import grpc.aio
from google.protobuf.message import Message
from grpc_health.v1 import health_pb2, health_pb2_grpc

from services.common.channels import Security, open_channel
from services.edge.routes import Route

MAX_MESSAGE_BYTES = 64 * 1024 * 1024
CHANNEL_OPTIONS: list[tuple[str, Any]] = [
    ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
    ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
    # A service restarted by its supervisor is found again within a second, not after gRPC's
    # default backoff of up to two minutes (meanwhile its routes answer 503).
    ("grpc.initial_reconnect_backoff_ms", 200),
    ("grpc.min_reconnect_backoff_ms", 200),
    ("grpc.max_reconnect_backoff_ms", 1000),
]


class ChannelProvider(Protocol):
    """Where the app's calls go: a channel per backend, closed when the app stops."""

    def channel(self, backend: str) -> grpc.aio.Channel: ...

    async def close(self) -> None: ...


class AddressedChannels:
    """A channel to each backend's address, dialled on first use."""

    def __init__(
        self,
        addresses: Mapping[str, str],
        options: list[tuple[str, Any]] | None = None,
        *,
        security: Security,
    ) -> None:
        self.addresses = dict(addresses)
        self._security = security
        self._options = CHANNEL_OPTIONS if options is None else options
        self._channels: dict[str, grpc.aio.Channel] = {}

    def channel(self, backend: str) -> grpc.aio.Channel:
        found = self._channels.get(backend)
        if found is None:
            if backend not in self.addresses:
                raise LookupError(f"no address for the backend {backend!r}")
            found = open_channel(self._security, self.addresses[backend], options=self._options)
            self._channels[backend] = found
        return found

    async def close(self) -> None:
        channels, self._channels = list(self._channels.values()), {}
        await asyncio.gather(*(channel.close() for channel in channels), return_exceptions=True)


async def call(channels: ChannelProvider, route: Route, request: Message, timeout_s: float) -> Message:
    """The route's RPC with `request`, within `timeout_s`; grpc.aio.AioRpcError when it fails."""
    multicallable = channels.channel(route.backend).unary_unary(
        route.grpc_path,
        request_serializer=type(request).SerializeToString,
        response_deserializer=route.response_class.FromString,
    )
    response: Message = await multicallable(request, timeout=timeout_s)
    return response


@dataclass(frozen=True)
class BackendHealth:
    backend: str
    serving: bool
    state: str  # SERVING, NOT_SERVING, UNKNOWN, or why it did not answer


async def backend_health(
    channels: ChannelProvider, backend: str, services: tuple[str, ...], timeout_s: float
) -> BackendHealth:
    """SERVING when every gRPC service the routes call on `backend` says so on grpc.health.v1."""
    stub = health_pb2_grpc.HealthStub(channels.channel(backend))
    for service in services:
        try:
            reply = await stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=timeout_s)
        except grpc.aio.AioRpcError as error:
            code = error.code()
            name = code.name if isinstance(code, grpc.StatusCode) else "UNKNOWN"
            return BackendHealth(backend, False, f"{name}: {error.details() or 'no answer'}")
        if reply.status != health_pb2.HealthCheckResponse.SERVING:
            state = health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)
            return BackendHealth(backend, False, f"{state} ({service})")
    return BackendHealth(backend, True, "SERVING")


async def readiness(
    channels: ChannelProvider, backends: Mapping[str, tuple[str, ...]], timeout_s: float
) -> list[BackendHealth]:
    """Every backend's health, asked at once."""
    return list(
        await asyncio.gather(
            *(
                backend_health(channels, backend, services, timeout_s)
                for backend, services in backends.items()
            )
        )
    )
