"""A real local HTTP server that answers like FRED's API, for the fredapi path.

fredapi 0.5.2 requests `{root_url}/series/observations?series_id=ID[&observation_start=..]&api_key=KEY`
and parses the XML body; on an HTTP error it parses the error body as XML and
raises ValueError(message). This server answers the same way: observations
from the shipped snapshot CSVs (or data a test supplies), FRED's HTTP 400
error document for an unregistered api_key or an unknown series, and on
request a failure (a non-XML 500 page, a non-XML 200 body, or an empty result).
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit
from xml.sax.saxutils import quoteattr

import pytest

from services.market.fred import load_snapshot
from services.market.sim.series import SERIES

VALID_KEY = "abcdefghijklmnopqrstuvwxyz123456"  # FRED keys are 32 lower-case alphanumerics
REALTIME = "2021-01-05"  # a fixed vintage so answers are reproducible

FAIL_MODES = ("server_error", "not_xml", "empty")


@dataclass
class FakeFredState:
    """What the server serves; tests change it between requests."""

    api_key: str = VALID_KEY
    # series id -> date -> value text ("." for missing); series not here come from the snapshot
    overrides: dict[str, Mapping[dt.date, str]] = field(default_factory=dict)
    failures: dict[str, str] = field(default_factory=dict)  # series id -> one of FAIL_MODES
    requests: list[str] = field(default_factory=list)  # request paths with the query, key redacted
    lock: threading.Lock = field(default_factory=threading.Lock)

    def fail(self, series_id: str, mode: str) -> None:
        if mode not in FAIL_MODES:
            raise ValueError(f"mode must be one of {FAIL_MODES}")
        self.failures[series_id] = mode

    def observations(self, series_id: str) -> Mapping[dt.date, str]:
        if series_id in self.overrides:
            return self.overrides[series_id]
        snapshot = load_snapshot()
        text = snapshot.text[series_id]
        return {day: text.get(day, ".") for day in snapshot.observations[series_id]}


def _error_xml(message: str) -> bytes:
    return (
        f'<?xml version="1.0" encoding="utf-8" ?>\n<error code="400" message={quoteattr(message)}/>\n'
    ).encode()


def _observations_xml(rows: list[tuple[dt.date, str]], start: str, end: str) -> bytes:
    head = (
        '<?xml version="1.0" encoding="utf-8" ?>\n'
        f'<observations realtime_start="{REALTIME}" realtime_end="{REALTIME}" '
        f'observation_start="{start}" observation_end="{end}" units="lin" output_type="1" '
        f'file_type="xml" order_by="observation_date" sort_order="asc" count="{len(rows)}" '
        f'offset="0" limit="100000">\n'
    )
    body = "".join(
        f'  <observation realtime_start="{REALTIME}" realtime_end="{REALTIME}" '
        f'date="{day.isoformat()}" value={quoteattr(value)}/>\n'
        for day, value in rows
    )
    return (head + body + "</observations>\n").encode()


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: object) -> None:  # keep test output quiet
        return

    def _send(self, status: int, body: bytes, content_type: str = "text/xml; charset=UTF-8") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        state = self.server.state
        parts = urlsplit(self.path)
        query = {name: values[-1] for name, values in parse_qs(parts.query).items()}
        with state.lock:
            redacted = "&".join(f"{k}={'***' if k == 'api_key' else v}" for k, v in query.items())
            state.requests.append(f"{parts.path}?{redacted}")
        if parts.path != "/fred/series/observations":
            self._send(HTTPStatus.NOT_FOUND, b"<html><body>Not Found</body></html>", "text/html")
            return
        if query.get("api_key") != state.api_key:
            self._send(
                HTTPStatus.BAD_REQUEST,
                _error_xml(
                    "Bad Request.  The value for variable api_key is not registered.  "
                    "Read https://fred.stlouisfed.org/docs/api/api_key.html for more information."
                ),
            )
            return
        series_id = query.get("series_id", "")
        mode = state.failures.get(series_id)
        if mode == "server_error":
            self._send(HTTPStatus.INTERNAL_SERVER_ERROR, b"<html><h1>502 Bad Gateway</h1>", "text/html")
            return
        if mode == "not_xml":
            # What a captive portal or proxy answers: HTML that is not well-formed XML.
            self._send(HTTPStatus.OK, b"<html><body>Service unavailable<br></body></html>", "text/html")
            return
        if series_id not in SERIES and series_id not in state.overrides:
            self._send(HTTPStatus.BAD_REQUEST, _error_xml("Bad Request.  The series does not exist."))
            return
        start = query.get("observation_start", "1776-07-04")
        end = query.get("observation_end", "9999-12-31")
        rows = [] if mode == "empty" else sorted(state.observations(series_id).items())
        rows = [(day, value) for day, value in rows if start <= day.isoformat() <= end]
        self._send(HTTPStatus.OK, _observations_xml(rows, start, end))


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, state: FakeFredState) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.state = state


@dataclass
class FakeFred:
    state: FakeFredState
    root_url: str  # what fredapi's Fred.root_url should be set to

    @property
    def api_key(self) -> str:
        return self.state.api_key


@pytest.fixture
def fake_fred() -> Iterator[FakeFred]:
    state = FakeFredState()
    server = _Server(state)
    thread = threading.Thread(target=server.serve_forever, name="fake-fred", daemon=True)
    thread.start()
    host, port = server.server_address[:2]
    try:
        yield FakeFred(state=state, root_url=f"http://{host}:{port}/fred")
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
