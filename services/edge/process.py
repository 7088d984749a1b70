"""The edge's process: settings, logs, telemetry, the app on uvicorn, graceful shutdown on SIGTERM.

The same conventions as every gRPC service (services/common/serve.py): configuration from the
environment only (a bad value exits 2 naming it), JSON log lines on stderr with a "listening" line
giving the address (port 0 picks a free one), telemetry set up before any channel exists, and on
SIGTERM or SIGINT: stop accepting, let the requests in flight finish within
OPSUITE_SHUTDOWN_GRACE_S, close the channels, flush spans, exit 0. Started by `opsuite up`, it ends
with its supervisor (services/common/lifeline.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import signal
import socket
import sys
from collections.abc import Iterator
from typing import NoReturn

import uvicorn
from starlette.applications import Starlette

from services.common.exposure import edge_exposure, warn
from services.common.lifeline import follow_supervisor
from services.common.logs import configure_logging, route_uncaught_exceptions
from services.common.settings import EDGE, SettingsError, load_settings
from services.common.telemetry import init_telemetry, shutdown_telemetry
from services.edge.app import create_app
from services.edge.dashboard.app import BACKENDS as DASHBOARD_BACKENDS
from services.edge.dashboard.app import Dashboard
from services.edge.gateway import EdgeOptions
from services.edge.routes import RouteError, contract_routes
from services.edge.settings import EdgeSettings
from services.edge.upstream import AddressedChannels

_log = logging.getLogger(__name__)
_WILDCARD_HOSTS = {"", "0.0.0.0", "::", "*"}


def _plain_uvicorn_records(record: logging.LogRecord) -> bool:
    """uvicorn adds a terminal-coloured copy of some messages; a JSON log line needs only the plain one."""
    record.__dict__.pop("color_message", None)
    return True


def build_app(settings: EdgeSettings) -> Starlette:
    """The edge over the contract this installation carries, calling each service at its address,
    with the live dashboard at / (services/edge/dashboard/), which reads the services it shows."""
    routes = contract_routes()
    backends = {*routes.backends(), *DASHBOARD_BACKENDS}
    addresses = {backend: settings.addr(backend) for backend in sorted(backends)}
    options = EdgeOptions(
        default_deadline_s=settings.edge_deadline_s, max_body_bytes=settings.edge_max_body_bytes
    )
    channels = AddressedChannels(addresses, security=settings)
    dashboard = Dashboard(
        channels,
        addresses,
        deadline_s=settings.edge_deadline_s,
        token_required=settings.api_token is not None,
    )
    return create_app(
        routes,
        channels,
        options,
        extra_routes=dashboard.routes(),
        lifespans=(dashboard.running,),
        untraced=dashboard.untraced,
        on_drain=(dashboard.drain,),
        api_token=settings.api_token.get_secret_value() if settings.api_token is not None else None,
    )


class _Server(uvicorn.Server):
    """uvicorn without its own signal handling: it re-raises a caught SIGTERM once stopped, which
    would end the process by the signal instead of exit code 0. serve() handles the signals."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def _listen(address: str) -> socket.socket:
    host, _, port = address.rpartition(":")
    host = host.strip("[]")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY only on connections of a socket whose proto says
    # TCP. Without it Nagle held each response's body back until the client acknowledged its
    # headers, 40 ms (delayed ACK) for every answer on a kept-alive connection.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("" if host in _WILDCARD_HOSTS else host, int(port)))
        sock.listen(1024)
        sock.setblocking(False)
    except OSError:
        sock.close()
        raise
    return sock


def _advertised(configured: str, port: int) -> str:
    host = configured.rpartition(":")[0]
    return f"{'127.0.0.1' if host.strip('[]') in _WILDCARD_HOSTS else host}:{port}"


async def serve(app: Starlette, settings: EdgeSettings) -> int:
    """Serve `app` until SIGTERM or SIGINT, then shut down gracefully; the process's exit code."""
    configured = settings.edge_addr
    try:
        sock = _listen(configured)
    except OSError as error:
        _log.error("cannot listen", extra={"address": configured, "error": error.strerror or str(error)})
        return 1
    port = int(sock.getsockname()[1])
    config = uvicorn.Config(
        app,
        log_config=None,
        access_log=False,
        proxy_headers=False,
        server_header=False,
        lifespan="on",
        timeout_graceful_shutdown=math.ceil(settings.shutdown_grace_s),
    )
    server = _Server(config)
    loop = asyncio.get_running_loop()

    def on_signal(signum: int) -> None:
        if server.should_exit:
            _log.warning("already shutting down", extra={"signal": signal.Signals(signum).name})
            return
        _log.info("shutting down", extra={"signal": signal.Signals(signum).name})
        for drain in getattr(app.state, "on_drain", ()):
            drain()  # end the never-ending responses (the dashboard's event streams) first
        server.should_exit = True

    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, on_signal, signum)
    address = _advertised(configured, port)
    _log.info(
        "listening", extra={"service": EDGE, "address": address, "port": port, "url": f"http://{address}"}
    )
    tls = settings.tls_cert is not None and settings.tls_key is not None
    warn(_log, edge_exposure(configured, tls=tls, token=settings.api_token is not None), configured)
    try:
        await server.serve(sockets=[sock])
    finally:
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(signum)
        sock.close()
        shutdown_telemetry()
    exit_code = 0 if server.started else 1
    _log.info("stopped", extra={"exit_code": exit_code})
    return exit_code


def main() -> NoReturn:
    """`python -m services.edge`."""
    follow_supervisor()
    try:
        settings = load_settings(EdgeSettings)
    except SettingsError as error:
        configure_logging(EDGE)
        _log.error("invalid configuration", extra={"error": str(error)})
        print("\n".join(f"{EDGE}: {line}" for line in str(error).splitlines()), file=sys.stderr)
        sys.exit(2)
    configure_logging(EDGE, settings.log_level)
    logging.getLogger("uvicorn.error").addFilter(_plain_uvicorn_records)
    route_uncaught_exceptions()
    # Before any channel exists: the instrumentation patches grpc.aio's channel constructors.
    init_telemetry(EDGE)
    try:
        app = build_app(settings)
    except (RouteError, ValueError) as error:
        # An annotation the edge cannot serve, or a backend with no address: say which and stop.
        _log.error("invalid configuration", extra={"error": str(error)})
        print(f"{EDGE}: {error}", file=sys.stderr)
        sys.exit(2)
    sys.exit(asyncio.run(serve(app, settings)))
