"""The edge's Starlette app, built from a route table and a channel provider.

`create_app(routes, channels)` serves:
- every route of the table (gateway.py), derived from the contract's google.api.http annotations;
- `/openapi.json` (openapi.py) and `/docs`, Swagger UI over it, offline (docs_page.py);
- `/healthz` (200 while serving) and `/readyz` (200 when every service the routes call answers
  SERVING on grpc.health.v1, else 503 naming the ones that do not).

With an API token (OPSUITE_API_TOKEN), every request but GET, HEAD and OPTIONS must carry it as
`Authorization: Bearer <token>` (auth.py); the OpenAPI document then says so.

It composes: `extra_routes` (the dashboard, services/edge/dashboard/) are matched before the
annotated routes; `lifespans` run for the app's lifetime (the dashboard's feeds), `untraced` paths
get no server span (an event stream lives as long as its browser), and `on_drain` is what the
process calls on SIGTERM before it stops accepting (the dashboard ends its event streams, which
would otherwise hold the shutdown for its whole grace period). `app.state` holds the table, the
channels and the options for them. Every error is a
google.rpc.Status in JSON. The channels are closed when the app shuts down.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route

from services.edge.auth import BearerTokenMiddleware
from services.edge.docs_page import docs_routes
from services.edge.domain import http_status as codes
from services.edge.errors import edge_status
from services.edge.gateway import EdgeOptions, Gateway, status_response
from services.edge.openapi import openapi_document
from services.edge.routes import Found, RouteError, RouteTable
from services.edge.tracing import TracingMiddleware
from services.edge.upstream import ChannelProvider, readiness

_log = logging.getLogger(__name__)

TITLE = "opsuite HTTP/JSON edge"
# The edge's own paths: no annotated route may take them.
OWN_PATHS = ("/healthz", "/readyz", "/openapi.json", "/docs")


def _check_own_paths(routes: RouteTable) -> None:
    for path in OWN_PATHS:
        for method in ("GET", "POST"):
            found = routes.lookup(method, path)
            if isinstance(found, Found):
                raise RouteError(f"{found.route.method.full_name} binds {path}, which the edge serves itself")


def create_app(
    routes: RouteTable,
    channels: ChannelProvider,
    options: EdgeOptions | None = None,
    *,
    extra_routes: Sequence[BaseRoute] = (),
    lifespans: Sequence[Callable[[Starlette], contextlib.AbstractAsyncContextManager[Any]]] = (),
    untraced: Sequence[str] = (),
    on_drain: Sequence[Callable[[], None]] = (),
    title: str = TITLE,
    api_token: str | None = None,
) -> Starlette:
    """The edge's ASGI app; RouteError when an annotated route takes one of the edge's own paths.
    With `api_token`, every request but GET, HEAD and OPTIONS must carry it (auth.py)."""
    options = options or EdgeOptions()
    _check_own_paths(routes)
    document = openapi_document(routes, title, bearer=api_token is not None)

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "serving"})

    async def readyz(request: Request) -> Response:
        answers = await readiness(channels, routes.backends(), options.health_timeout_s)
        not_ready = [a.backend for a in answers if not a.serving]
        body: dict[str, object] = {
            "ready": not not_ready,
            "services": {a.backend: a.state for a in answers},
        }
        if not_ready:
            body["not_ready"] = not_ready
        return JSONResponse(body, status_code=503 if not_ready else 200)

    async def openapi(request: Request) -> Response:
        return JSONResponse(document)

    async def http_error(request: Request, error: Exception) -> Response:
        assert isinstance(error, HTTPException)
        code = {404: codes.NOT_FOUND, 405: codes.UNIMPLEMENTED}.get(error.status_code, codes.INVALID_ARGUMENT)
        status = edge_status(code, f"{request.method} {request.url.path}: {error.detail}")
        return status_response(status, headers=dict(error.headers or {}), http=error.status_code)

    async def internal_error(request: Request, error: Exception) -> Response:
        _log.error("request failed", exc_info=error)
        return status_response(
            edge_status(codes.INTERNAL, "the edge failed on this request; its log says why")
        )

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            async with contextlib.AsyncExitStack() as stack:
                for extra in lifespans:
                    await stack.enter_async_context(extra(app))
                yield
        finally:
            await channels.close()

    app = Starlette(
        routes=[
            Route("/healthz", healthz, methods=["GET"]),
            Route("/readyz", readyz, methods=["GET"]),
            Route("/openapi.json", openapi, methods=["GET"]),
            *docs_routes(title),
            *extra_routes,
            Mount("", app=Gateway(routes, channels, options, own_paths={p: ("GET",) for p in OWN_PATHS})),
        ],
        middleware=[
            Middleware(TracingMiddleware, untraced=("/healthz", "/readyz", "/docs/assets", *untraced)),
            # Inside the tracing: a refused request is a span too, with its 401.
            *([Middleware(BearerTokenMiddleware, token=api_token)] if api_token is not None else []),
        ],
        exception_handlers={HTTPException: http_error, Exception: internal_error},
        lifespan=lifespan,
    )
    app.state.routes = routes
    app.state.channels = channels
    app.state.options = options
    app.state.openapi = document
    app.state.on_drain = tuple(on_drain)
    return app
