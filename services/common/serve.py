"""One call serves a service: grpc.aio server, health, reflection, telemetry, logs, graceful shutdown,
TLS as the settings say (channels.py), and optionally plaintext health on a port of its own.

A service supplies its servicers (`register`) and its background work
(`on_start` / `on_stop`); everything every service does the same way lives here.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, NoReturn

import grpc
import grpc.aio
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_health.v1.health import aio as health_aio

from services.common import outages
from services.common.availability import Availability
from services.common.channels import add_port, transport_security
from services.common.exposure import service_exposure, warn
from services.common.lifeline import follow_supervisor
from services.common.logs import configure_logging, route_uncaught_exceptions
from services.common.outages import OutageWatch
from services.common.reflection import enable_reflection
from services.common.request_decoding import RequestDecoding
from services.common.service_status import Progress, Readiness, add_status_service
from services.common.settings import S, Settings, SettingsError, load_settings
from services.common.telemetry import init_telemetry, shutdown_telemetry

_log = logging.getLogger(__name__)

MAX_MESSAGE_BYTES = 64 * 1024 * 1024
SERVER_OPTIONS: list[tuple[str, Any]] = [
    ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
    ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
    # A second process on the same fixed port must fail to bind, not silently share it.
    ("grpc.so_reuseport", 0),
    # Find dead subscribers of long-lived streams, and let live ones ping us.
    ("grpc.keepalive_time_ms", 60_000),
    ("grpc.keepalive_timeout_ms", 20_000),
    ("grpc.keepalive_permit_without_calls", 1),
    ("grpc.http2.min_recv_ping_interval_without_data_ms", 10_000),
    ("grpc.http2.max_ping_strikes", 0),
]
_WILDCARD_HOSTS = {"", "0.0.0.0", "[::]", "::", "*"}
# The health service name a liveness probe asks: SERVING from start-up until shutdown begins,
# whatever readiness says. A service that is up but not ready (catching up, waiting out a backend
# outage) must not be restarted for it; "" and the service names answer readiness.
LIVENESS = "liveness"


class HealthControl:
    """What a service may do to its own health: say it is (not) ready to serve, and why not.

    The reason is what GetStatus reports (grpc.health.v1 has no room for one). A backend outage
    (outages.py) overrides readiness: NOT_SERVING with the outage's reason until it ends, then
    whatever the service said last.
    """

    def __init__(
        self, servicer: health_aio.HealthServicer, services: Sequence[str], readiness: Readiness | None = None
    ) -> None:
        self._servicer = servicer
        self._services = ("", *services)
        self.readiness = readiness if readiness is not None else Readiness()
        self._ready = False
        self._reason = "starting"
        self._outages: dict[str, str] = {}
        self._shutting_down = False

    def shutting_down(self) -> None:
        """Not serving from now on, whatever is said later (grpc's health servicer ignores it too)."""
        self._shutting_down = True
        self.readiness.set(False, "shutting down")

    async def set_serving(self) -> None:
        self._ready, self._reason = True, ""
        await self._publish()

    async def set_not_serving(self, reason: str = "not ready") -> None:
        self._ready, self._reason = False, reason
        await self._publish()

    async def backend_down(self, backend: str, reason: str) -> None:
        self._outages[backend] = reason
        await self._publish()

    async def backend_up(self, backend: str) -> None:
        self._outages.pop(backend, None)
        await self._publish()

    async def _publish(self) -> None:
        if self._shutting_down:
            return
        if self._outages:
            self.readiness.set(False, "; ".join(f"{r}, retrying" for r in self._outages.values()))
        else:
            self.readiness.set(self._ready, self._reason)
        status = (
            health_pb2.HealthCheckResponse.SERVING
            if self.readiness.serving
            else health_pb2.HealthCheckResponse.NOT_SERVING
        )
        for name in self._services:
            await self._servicer.set(name, status)


class _WatchEnded(Exception):
    pass


class _EndAfterNotServing:
    """A servicer context whose write ends the Watch once NOT_SERVING was sent during shutdown."""

    def __init__(self, context: grpc.aio.ServicerContext, owner: _DrainingHealthServicer) -> None:
        self._context = context
        self._owner = owner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._context, name)

    async def write(self, message: health_pb2.HealthCheckResponse) -> None:
        await self._context.write(message)
        if self._owner.draining and message.status == health_pb2.HealthCheckResponse.NOT_SERVING:
            raise _WatchEnded


class _DrainingHealthServicer(health_aio.HealthServicer):  # type: ignore[misc]  # grpcio-health-checking is untyped
    """The library's health servicer, except that Watch streams end once they reported NOT_SERVING on
    shutdown: otherwise every open Watch would hold the server for the whole grace period."""

    draining = False

    async def Watch(self, request: health_pb2.HealthCheckRequest, context: grpc.aio.ServicerContext) -> None:
        with contextlib.suppress(_WatchEnded):
            await super().Watch(request, _EndAfterNotServing(context, self))

    async def List(
        self, request: health_pb2.HealthListRequest, context: grpc.aio.ServicerContext
    ) -> health_pb2.HealthListResponse:
        """Every name this server reports health for, with its status (the library declares List in
        the protocol but does not serve it)."""
        return health_pb2.HealthListResponse(
            statuses={
                name: health_pb2.HealthCheckResponse(status=status)
                for name, status in self._server_status.items()
            }
        )

    async def drain(self) -> None:
        self.draining = True
        await self.enter_graceful_shutdown()


@dataclass
class Service:
    """A service to serve: its servicers and the hooks around its background work."""

    # One of settings.SERVICES: picks the listen address and names the logs.
    name: str
    # Adds the servicers to the server; returns their full names (for health and reflection).
    register: Callable[[grpc.aio.Server], Sequence[str]]
    # Runs after the port is bound; start background work (stream clients, the clock) here.
    on_start: Callable[[HealthControl], Awaitable[None]] | None = None
    # Runs after the server stopped and in-flight calls drained; persist cursors here.
    on_stop: Callable[[], Awaitable[None]] | None = None
    # False: the service calls health.set_serving() itself once caught up with the market stream.
    ready_on_start: bool = True
    # Runs when shutdown begins, before the grace period: end long-lived streams here, or
    # server.stop() waits for them until the grace period runs out.
    on_draining: Callable[[], Awaitable[None]] | None = None
    # How far the service has come through market's stream, for GetStatus (opsuite status).
    progress: Callable[[], Progress] | None = None
    # Why the service's own methods cannot answer yet ("" once they can): they answer UNAVAILABLE
    # with it meanwhile, while health and GetStatus keep answering.
    unavailable: Callable[[], str] | None = None


def _advertised(configured: str, port: int) -> str:
    host = configured.rpartition(":")[0]
    return f"{'127.0.0.1' if host in _WILDCARD_HOSTS else host}:{port}"


def _health_server(servicer: _DrainingHealthServicer, address: str) -> grpc.aio.Server:
    """A plaintext server of grpc.health.v1 alone, with the main server's health servicer.

    Kubernetes' native gRPC probes cannot speak TLS (they dial plaintext and take no certificate),
    so with TLS on they ask this port instead; sharing the servicer keeps liveness
    ("liveness") and readiness ("" and each service) the same answers as on the main port. It
    carries nothing but health states, which reveal no data.
    """
    # Looked up at call time like the main server's (telemetry.py patches grpc.aio.server).
    server = grpc.aio.server(options=SERVER_OPTIONS)
    health_pb2_grpc.add_HealthServicer_to_server(servicer, server)
    server.add_insecure_port(address)
    return server


async def serve(service: Service, settings: Settings) -> int:
    """Serve until SIGTERM or SIGINT, then shut down gracefully; returns the process exit code."""
    configured = settings.addr(service.name)
    security = transport_security(settings)
    if security.dials_tls and not security.serves_tls:
        # Its peers would dial it with TLS, which it cannot answer without a certificate.
        _log.error(
            "invalid configuration",
            extra={
                "error": "OPSUITE_TLS_CA is set without OPSUITE_TLS_CERT and OPSUITE_TLS_KEY: give a "
                "service its own certificate and key too (or unset OPSUITE_TLS_CA for plaintext)"
            },
        )
        return 2
    # Looked up as grpc.aio.server at call time: the OpenTelemetry instrumentation patches that attribute.
    availability = Availability(service.unavailable or (lambda: ""))
    server = grpc.aio.server(options=SERVER_OPTIONS, interceptors=[RequestDecoding(), availability])
    readiness = Readiness()
    own = list(service.register(server))
    availability.services = own
    names = [*own, add_status_service(server, service.name, readiness, service.progress)]
    health_servicer = _DrainingHealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    control = HealthControl(health_servicer, names, readiness)
    enable_reflection([*names, health.SERVICE_NAME], server)
    try:
        port = add_port(server, security, configured)
    except RuntimeError as error:
        _log.error("cannot listen", extra={"address": configured, "error": str(error)})
        return 1
    health_server, health_port = None, settings.health_port
    if health_port is not None:  # on the main address's host: a pod's probes dial the pod's IP
        health_address = f"{configured.rpartition(':')[0]}:{health_port}"
        try:
            health_server = _health_server(health_servicer, health_address)
        except RuntimeError as error:
            _log.error("cannot listen", extra={"address": health_address, "error": str(error)})
            return 1
    # Not serving until on_start is done (and, for ready_on_start=False, until the service says so).
    await control.set_not_serving("starting")
    await health_servicer.set(LIVENESS, health_pb2.HealthCheckResponse.SERVING)
    await server.start()
    address = _advertised(configured, port)
    _log.info(
        "listening",
        extra={"service": service.name, "address": address, "port": port, "transport": security.describe()},
    )
    variable = f"OPSUITE_{service.name.upper()}_ADDR"
    warn(_log, service_exposure(service.name, configured, variable, tls=security.serves_tls), configured)
    if health_server is not None and health_port is not None:
        await health_server.start()
        _log.info(
            "health listening (plaintext)",
            extra={"address": _advertised(health_address, health_port)},
        )

    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    # A backend outage reported anywhere in the process: NOT_SERVING with its reason until it ends.
    outage_watch = OutageWatch(loop, control.backend_down, control.backend_up)
    stop_listening = outages.listen(outage_watch.report)

    def on_signal(signum: int) -> None:
        if stopping.is_set():
            _log.warning("already shutting down", extra={"signal": signal.Signals(signum).name})
            return
        _log.info("shutting down", extra={"signal": signal.Signals(signum).name})
        stopping.set()

    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, on_signal, signum)

    exit_code = 0
    try:
        if service.on_start is not None and not await _run_until_stopped(service.on_start(control), stopping):
            exit_code = 1
        elif service.ready_on_start and not stopping.is_set():
            await control.set_serving()
        if exit_code == 0:
            await stopping.wait()
    finally:
        control.shutting_down()
        stop_listening()
        await outage_watch.close()
        exit_code = await _shut_down(service, server, health_servicer, settings.shutdown_grace_s) or exit_code
        if health_server is not None:  # probes see NOT_SERVING there until the main server has stopped
            await health_server.stop(grace=None)
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(signum)
    _log.info("stopped", extra={"exit_code": exit_code})
    return exit_code


async def _run_until_stopped(start: Awaitable[None], stopping: asyncio.Event) -> bool:
    """Await on_start unless a signal comes first; False when on_start failed."""
    start_task = asyncio.ensure_future(start)
    stop_task = asyncio.ensure_future(stopping.wait())
    try:
        await asyncio.wait({start_task, stop_task}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stop_task.cancel()
    if not start_task.done():
        start_task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await start_task
        return True
    if start_task.cancelled():
        _log.error("on_start was cancelled")
        return False
    failure = start_task.exception()
    if failure is not None:
        # `error` is the one line a supervisor shows a person (opsuite up); the traceback is for us.
        _log.error(
            "start-up failed", extra={"error": str(failure) or type(failure).__name__}, exc_info=failure
        )
        return False
    return True


async def _shut_down(
    service: Service, server: grpc.aio.Server, health_servicer: _DrainingHealthServicer, grace_s: float
) -> int:
    exit_code = 0
    await health_servicer.drain()
    if service.on_draining is not None:
        try:
            await service.on_draining()
        except Exception:
            _log.exception("on_draining failed")
            exit_code = 1
    # New calls are refused from here; calls in flight get grace_s to finish.
    await server.stop(grace=grace_s)
    if service.on_stop is not None:
        try:
            await service.on_stop()
        except Exception:
            _log.exception("on_stop failed")
            exit_code = 1
    shutdown_telemetry()
    return exit_code


def run(service: Service, settings: Settings | None = None) -> NoReturn:
    """The whole life of a service process: settings, logs, telemetry, serve, exit code."""
    if settings is None:
        try:
            settings = load_settings()
        except SettingsError as error:
            configure_logging(service.name)
            _log.error("invalid configuration", extra={"error": str(error)})
            print("\n".join(f"{service.name}: {line}" for line in str(error).splitlines()), file=sys.stderr)
            sys.exit(2)
    configure_logging(service.name, settings.log_level)
    route_uncaught_exceptions()
    # Before serve() creates the server or any channel: the instrumentation patches their constructors.
    init_telemetry(service.name)
    sys.exit(asyncio.run(serve(service, settings)))


def main(name: str, build: Callable[[S], Service], settings_type: type[S]) -> NoReturn:
    """`python -m services.<name>`: the service's settings, logs, then build the service and run it.

    Logging starts before build() so that start-up work (loading data, opening
    stores) is reported; invalid settings exit 2 with the reason. Started by `opsuite up`, the
    process ends with its supervisor (lifeline.py).
    """
    follow_supervisor()
    try:
        settings = load_settings(settings_type)
    except SettingsError as error:
        configure_logging(name)
        _log.error("invalid configuration", extra={"error": str(error)})
        print("\n".join(f"{name}: {line}" for line in str(error).splitlines()), file=sys.stderr)
        sys.exit(2)
    configure_logging(name, settings.log_level)
    try:
        service = build(settings)
    except (ValueError, OSError) as error:
        # A setting the service cannot work with (a start date outside the data, a configuration
        # file that is not there, say): say which, in the one line a supervisor shows.
        _log.error("invalid configuration", extra={"error": str(error)})
        print(f"{name}: {error}", file=sys.stderr)
        sys.exit(2)
    run(service, settings)
