"""The annotated routes as one ASGI app: match, transcode, call the service, answer in JSON.

Mounted last in the edge's app (app.py), it answers every path the edge's own routes do not: a
path no template matches is a 404 and a path that exists with other methods a 405 with Allow, both
as google.rpc.Status JSON. A request is refused (400, 413) before any call when its deadline header,
path, query or body cannot be read; otherwise the service's answer, or its status mapped to HTTP
(errors.py), goes back as is.
"""

from __future__ import annotations

import logging
import time
import urllib.parse
from dataclasses import dataclass

import grpc
import grpc.aio
from google.protobuf.message import Message
from google.rpc import status_pb2
from opentelemetry import trace
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send

from services.edge.domain import http_status as codes
from services.edge.domain.deadlines import deadline_seconds
from services.edge.errors import edge_status, http_status_of, status_json, status_of_error
from services.edge.routes import Found, Route, RouteTable, WrongMethod
from services.edge.transcode import BadRequest, Violation, build_request, parse_query, response_json
from services.edge.upstream import ChannelProvider, call

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EdgeOptions:
    """What the edge's settings give its app (settings.py reads them from the environment)."""

    # The deadline of a call whose request names none (grpc-timeout, X-Request-Timeout).
    default_deadline_s: float = 30.0
    # A larger request body is refused (413) before it is read whole: documents takes uploads of up
    # to 10 MiB (OPSUITE_DOCUMENTS_MAX_BYTES), which base64 in JSON makes about 13.4 MiB.
    max_body_bytes: int = 16 * 1024 * 1024
    # How long /readyz waits for each service's health answer.
    health_timeout_s: float = 2.0


class BodyTooLarge(Exception):
    pass


def status_response(
    status: status_pb2.Status, headers: dict[str, str] | None = None, http: int | None = None
) -> Response:
    """The status as JSON under its mapped HTTP status (or `http`, for the edge's 405 and 413)."""
    return JSONResponse(status_json(status), status_code=http or http_status_of(status), headers=headers)


def _raw_path(scope: Scope) -> str:
    raw = scope.get("raw_path")
    if isinstance(raw, bytes) and raw:
        return raw.decode("latin-1").split("?", 1)[0]
    return urllib.parse.quote(str(scope.get("path", "/")))


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
    return b"".join(chunks)


class Gateway:
    """The ASGI app of the routes of one table, calling the services through `channels`."""

    def __init__(
        self,
        routes: RouteTable,
        channels: ChannelProvider,
        options: EdgeOptions,
        own_paths: dict[str, tuple[str, ...]] | None = None,
    ) -> None:
        self.routes = routes
        self.channels = channels
        self.options = options
        # The app's own paths and their methods: another method there is a 405, not a 404.
        self.own_paths = own_paths or {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1000})
            return
        if scope["type"] != "http":
            return
        request = Request(scope, receive)
        response = await self.answer(request)
        await response(scope, receive, send)

    async def answer(self, request: Request) -> Response:
        raw_path = _raw_path(request.scope)
        found = self.routes.lookup(request.method, raw_path)
        if found is None and raw_path in self.own_paths:
            found = WrongMethod(self.own_paths[raw_path])
        if found is None:
            return status_response(
                edge_status(
                    codes.NOT_FOUND,
                    f"no route for {request.method} {raw_path}: GET /openapi.json lists every route, /docs shows them",
                    reason="ROUTE_NOT_FOUND",
                )
            )
        if isinstance(found, WrongMethod):
            allowed = ", ".join(found.allowed)
            return status_response(
                edge_status(
                    codes.UNIMPLEMENTED,
                    f"{raw_path} answers {allowed}, not {request.method}",
                    reason="METHOD_NOT_ALLOWED",
                ),
                headers={"Allow": allowed},
                http=405,
            )
        return await self.transcode(request, found)

    async def transcode(self, request: Request, found: Found) -> Response:
        route = found.route
        span = trace.get_current_span()
        span.update_name(f"{request.method} {route.template.source}")
        span.set_attribute("http.route", route.template.source)
        started = time.monotonic()
        response, code = await self._transcode(request, found)
        self._log(request, route, code, response.status_code, started)
        return response

    async def _transcode(self, request: Request, found: Found) -> tuple[Response, int]:
        """The answer, and the gRPC code it stands for (OK, the service's, or the edge's refusal's)."""
        route = found.route
        try:
            message, timeout_s = await self._request(request, found)
        except BadRequest as refused:
            status = edge_status(
                codes.INVALID_ARGUMENT,
                f"bad request: {refused}",
                violations=refused.violations,
                reason="BAD_REQUEST",
            )
            return status_response(status), status.code
        except BodyTooLarge:
            limit = self.options.max_body_bytes
            status = edge_status(
                codes.RESOURCE_EXHAUSTED,
                f"the request body is over the edge's limit of {limit:,} bytes (OPSUITE_EDGE_MAX_BODY_BYTES)",
                reason="BODY_TOO_LARGE",
            )
            return status_response(status, http=413), status.code
        try:
            reply = await call(self.channels, route, message, timeout_s)
        except grpc.aio.AioRpcError as error:
            status = status_of_error(error, route.backend, timeout_s)
            return status_response(status), status.code
        return JSONResponse(response_json(route, reply)), codes.OK

    async def _request(self, request: Request, found: Found) -> tuple[Message, float]:
        route = found.route
        headers = {key.lower(): value for key, value in request.headers.items()}
        try:
            timeout_s = deadline_seconds(headers, self.options.default_deadline_s)
        except ValueError as error:
            header = "grpc-timeout" if "grpc-timeout" in headers else "X-Request-Timeout"
            raise BadRequest([Violation(header, str(error))]) from None
        try:
            path_values = route.template.decode(found.raw_values)
        except ValueError as error:
            raise BadRequest([Violation("path", str(error))]) from None
        query = parse_query(request.scope.get("query_string", b""))
        body = await _read_body(request, self.options.max_body_bytes)
        return build_request(route, path_values, query, body), timeout_s

    def _log(self, request: Request, route: Route, code: int, http: int, started: float) -> None:
        _log.info(
            "request",
            extra={
                "method": request.method,
                "route": route.template.source,
                "rpc": route.grpc_path,
                "grpc_code": codes.code_name(code),
                "http_status": http,
                "ms": round((time.monotonic() - started) * 1000, 1),
            },
        )
