"""The dashboard's HTTP side: the page at /, its server-sent events, a break's page, a trace page,
the NAV charts' series, and the static files (the script, the styles, uPlot), all served by the edge.

- GET /                      every panel as it is now, then live through /events
- GET /events                text/event-stream: a `panel` event (JSON: panel, version, html, ...)
                             for each panel whose version the stream has not sent yet
- GET /breaks/{id}           the break (recon GetBreak) and its chain (recon GetChain), live through
                             /events/breaks/{id}, which says when the break changed; the page then
                             reads /breaks/{id}/live (the same body) again
- GET /trace/{id}            the chain of any id GetChain accepts (events, journals, fills, traces)
- GET /dashboard/nav/{id}    a mandate's chart series (JSON) from the NAV feed's memory
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import grpc
import grpc.aio
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from opsuite.recon.v1 import recon_pb2, recon_pb2_grpc
from services.common.trace_chain.records import TracedChain
from services.edge.dashboard import codec
from services.edge.dashboard.domain.chain import break_href, chain_rows, path_of, trace_href
from services.edge.dashboard.domain.nav import chart_data
from services.edge.dashboard.feed import describe_error
from services.edge.dashboard.render import STATIC, STATIC_URL

if TYPE_CHECKING:
    from services.edge.dashboard.app import Dashboard

HEARTBEAT_S = 15.0  # a comment line on a quiet stream, so a dead connection is noticed
COALESCE_S = 0.2  # changes closer together than this reach the browser as one
RETRY_MS = 2000  # how soon a browser reconnects a dropped stream
HELPERS = {"break_href": break_href, "trace_href": trace_href}
SSE_HEADERS = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}


def _sse(event: str, data: object) -> str:
    return f"event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


class Pages:
    def __init__(self, dashboard: Dashboard, deadline_s: float) -> None:
        self.dashboard = dashboard
        self.hub = dashboard.hub
        self.renderer = dashboard.renderer
        self.deadline_s = deadline_s

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/", self.index, methods=["GET"]),
            Route("/events", self.events, methods=["GET"]),
            Route("/breaks/{break_id}", self.break_page, methods=["GET"]),
            Route("/breaks/{break_id}/live", self.break_live, methods=["GET"]),
            Route("/events/breaks/{break_id}", self.break_events, methods=["GET"]),
            Route("/trace/{identifier}", self.trace_page, methods=["GET"]),
            Route("/dashboard/nav/{mandate_id}", self.nav_series, methods=["GET"]),
            Mount(STATIC_URL, app=StaticFiles(directory=STATIC), name="dashboard-static"),
        ]

    def _page(self, request: Request, template: str, status: int = 200, **context: Any) -> Response:
        return self.renderer.templates.TemplateResponse(
            request, template, {**HELPERS, "page": "", **context}, status_code=status
        )

    def _error(self, request: Request, status: int, heading: str, message: str) -> Response:
        return self._page(request, "error.html", status, heading=heading, message=message)

    # ------------------------------------------------------------ the dashboard

    async def index(self, request: Request) -> Response:
        panels = {
            name: {"version": panel.version, "html": panel.payload()["html"]}
            for name, panel in self.hub.panels.items()
        }
        nav_mandates = self.hub.panels["nav"].payload().get("mandates", [])
        return self._page(
            request,
            "index.html",
            page="dashboard",
            panels=panels,
            nav_mandates=nav_mandates,
            token_required=self.dashboard.token_required,
        )

    async def events(self, request: Request) -> Response:
        async def stream() -> AsyncIterator[str]:
            yield f"retry: {RETRY_MS}\n\n"
            sent: dict[str, int] = {}
            while not self.hub.closing:
                generation = self.hub.generation()
                for name, panel in list(self.hub.panels.items()):
                    if sent.get(name) != panel.version:
                        version = panel.version
                        yield _sse("panel", {"panel": name, "version": version, **panel.payload()})
                        sent[name] = version
                if not await self.hub.wait(generation, HEARTBEAT_S):
                    yield ": still here\n\n"
                    continue
                await asyncio.sleep(COALESCE_S)

        return StreamingResponse(stream(), media_type="text/event-stream", headers=SSE_HEADERS)

    async def nav_series(self, request: Request) -> Response:
        mandate_id = request.path_params["mandate_id"]
        series = self.dashboard.nav.series.get(mandate_id)
        if series is None:
            known = ", ".join(sorted(self.dashboard.nav.series)) or "none yet"
            return JSONResponse(
                {"error": f"no NAV series of {mandate_id!r}; known: {known}"}, status_code=404
            )
        return JSONResponse(chart_data(series), headers={"Cache-Control": "no-store"})

    # ------------------------------------------------------------ chains

    def _recon(self) -> recon_pb2_grpc.ReconServiceStub:
        return recon_pb2_grpc.ReconServiceStub(self.dashboard.channels.channel("recon"))

    def _recon_down(self, error: grpc.aio.AioRpcError) -> str:
        return (
            f"recon is unavailable at {self.dashboard.addresses.get('recon', '?')}: {describe_error(error)}"
        )

    def _chain_context(self, chain: recon_pb2.Chain) -> dict[str, Any]:
        rows = chain_rows(codec.chain_entries(chain))
        note = TracedChain(
            chain.title, (), (), tuple(chain.past_retention), chain.oldest_retained_seq
        ).retention_note()
        return {
            "title": chain.title,
            "rows": rows,
            "path": path_of(rows),
            "breaks": list(chain.break_ids),
            "trace_ids": sorted({row.entry.trace_id for row in rows if row.entry.trace_id}),
            "retention_note": note,
        }

    async def _break_context(self, break_id: str) -> tuple[int, dict[str, Any]]:
        """The break page's body: its figures, its children, its chain and its history; the HTTP
        status (404 when recon knows nothing of it, 503 when recon does not answer)."""
        stub = self._recon()
        detail_call = stub.GetBreak(recon_pb2.GetBreakRequest(break_id=break_id), timeout=self.deadline_s)
        children_call = stub.ListBreaks(
            recon_pb2.ListBreaksRequest(parent_break_id=break_id, page_size=100), timeout=self.deadline_s
        )
        chain_call = stub.GetChain(recon_pb2.GetChainRequest(id=break_id), timeout=self.deadline_s)
        answers: tuple[Any, ...] = await asyncio.gather(
            detail_call, children_call, chain_call, return_exceptions=True
        )
        detail, children, chain = answers

        context: dict[str, Any] = {
            "break_id": break_id,
            "b": None,
            "children": [],
            "history": [],
            "rows": None,
            "detail_error": "",
            "chain_error": "",
        }
        status = 200
        if isinstance(detail, recon_pb2.BreakDetail):
            context["b"] = codec.break_item(detail.record)
            context["history"] = [codec.history_entry(a) for a in detail.history]
        elif isinstance(detail, grpc.aio.AioRpcError):
            if detail.code() == grpc.StatusCode.NOT_FOUND:
                status = 404
                context["detail_error"] = f"recon has no break {break_id}: {detail.details()}"
            else:
                status = 503 if detail.code() == grpc.StatusCode.UNAVAILABLE else 502
                context["detail_error"] = self._recon_down(detail)
        else:
            raise detail  # not a gRPC error: the edge's own failure
        if isinstance(children, recon_pb2.ListBreaksResponse):
            context["children"] = [c.break_id for c in children.breaks]
        if isinstance(chain, recon_pb2.Chain):
            context.update(self._chain_context(chain))
            status = 200 if context["b"] is not None else status
        elif isinstance(chain, grpc.aio.AioRpcError):
            if status == 200:
                context["chain_error"] = f"its chain could not be read: {describe_error(chain)}"
        else:
            raise chain
        return status, context

    async def break_page(self, request: Request) -> Response:
        break_id = request.path_params["break_id"]
        version = self.hub.break_version(break_id)  # before reading: a change after it is not missed
        status, context = await self._break_context(break_id)
        if status == 404 and context["rows"] is None:
            return self._error(request, 404, f"No break {break_id}", context["detail_error"])
        if status in (502, 503) and context["b"] is None:
            return self._error(request, status, f"Break {break_id}", context["detail_error"])
        return self._page(request, "break.html", status, version=version, **context)

    async def break_live(self, request: Request) -> Response:
        status, context = await self._break_context(request.path_params["break_id"])
        html = self.renderer.fragment("break_body.html", **HELPERS, **context)
        return HTMLResponse(html, status_code=status, headers={"Cache-Control": "no-store"})

    async def break_events(self, request: Request) -> Response:
        break_id = request.path_params["break_id"]
        try:
            since = int(request.query_params.get("since", "0"))
        except ValueError:
            since = 0

        async def stream() -> AsyncIterator[str]:
            yield f"retry: {RETRY_MS}\n\n"
            sent = since
            while not self.hub.closing:
                generation = self.hub.generation()
                version = self.hub.break_version(break_id)
                if version != sent:
                    yield _sse("changed", {"break_id": break_id, "version": version})
                    sent = version
                if not await self.hub.wait(generation, HEARTBEAT_S):
                    yield ": still here\n\n"
                    continue
                await asyncio.sleep(COALESCE_S)

        return StreamingResponse(stream(), media_type="text/event-stream", headers=SSE_HEADERS)

    async def trace_page(self, request: Request) -> Response:
        identifier = request.path_params["identifier"]
        try:
            chain = await self._recon().GetChain(
                recon_pb2.GetChainRequest(id=identifier), timeout=self.deadline_s
            )
        except grpc.aio.AioRpcError as error:
            code = error.code()
            if code == grpc.StatusCode.NOT_FOUND:
                return self._error(request, 404, f"Nothing found for {identifier}", str(error.details()))
            if code == grpc.StatusCode.INVALID_ARGUMENT:
                return self._error(request, 400, f"{identifier} is not an id", str(error.details()))
            http = {grpc.StatusCode.UNAVAILABLE: 503, grpc.StatusCode.DEADLINE_EXCEEDED: 504}.get(code, 502)
            return self._error(request, http, f"Trace {identifier}", self._recon_down(error))
        return self._page(request, "trace.html", identifier=identifier, **self._chain_context(chain))
