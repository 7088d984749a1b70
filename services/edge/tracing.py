"""One OpenTelemetry server span per HTTP request, continuing the caller's trace.

The span's parent is the request's W3C `traceparent` (and `tracestate`) when it has one, read by the
global propagator; the span is current while the request is handled, so the gRPC client
instrumentation (services/common/telemetry.py) makes each call's span its child and sends its
context on, and the service's own span becomes a child of the edge's. The probes (/healthz,
/readyz) and the docs' static files are not traced: a probe every few seconds is noise in a trace
view.
"""

from __future__ import annotations

from collections.abc import Iterable

from opentelemetry import propagate, trace
from opentelemetry.trace import SpanKind, Status, StatusCode
from starlette.types import ASGIApp, Message, Receive, Scope, Send

_tracer = trace.get_tracer("services.edge")


class TracingMiddleware:
    """ASGI middleware: a SERVER span named `METHOD route` (the gateway names the route it matched)."""

    def __init__(self, app: ASGIApp, untraced: Iterable[str] = ()) -> None:
        self.app = app
        self.untraced = tuple(untraced)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = str(scope.get("path", ""))
        if scope["type"] != "http" or any(path == p or path.startswith(p + "/") for p in self.untraced):
            await self.app(scope, receive, send)
            return
        carrier = {key.decode("latin-1"): value.decode("latin-1") for key, value in scope.get("headers", [])}
        parent = propagate.extract(carrier)
        method = str(scope.get("method", "GET"))
        attributes = {
            "http.request.method": method,
            "url.path": path,
            "url.scheme": str(scope.get("scheme", "http")),
        }
        with _tracer.start_as_current_span(
            method, context=parent, kind=SpanKind.SERVER, attributes=attributes
        ) as span:

            async def send_with_status(message: Message) -> None:
                if message["type"] == "http.response.start":
                    status = int(message["status"])
                    span.set_attribute("http.response.status_code", status)
                    if status >= 500:
                        span.set_status(Status(StatusCode.ERROR))
                await send(message)

            await self.app(scope, receive, send_with_status)
