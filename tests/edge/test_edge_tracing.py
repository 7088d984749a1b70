"""A traceparent sent to the edge reaches the service: the service's span is a child of the edge's.

Real processes: a market run to its end, a ledger caught up with it, and the edge in front of the
ledger; the edge and the ledger export their spans to the test collector (tests/support/otlp.py).
"""

from __future__ import annotations

import secrets
from pathlib import Path

import httpx

from tests.ledger.process.conftest import wait_finished, world_env
from tests.support.otlp import OtlpReceiver
from tests.support.processes import start_service
from tests.support.waiting import wait_until


def test_the_services_span_is_a_child_of_the_edges_in_the_callers_trace(tmp_path: Path) -> None:
    trace_id, caller_span = secrets.token_hex(16), secrets.token_hex(8)
    with OtlpReceiver() as receiver:
        market = start_service("market", tmp_path / "market", world_env(OPSUITE_DAYS="3"))
        ledger = edge = None
        try:
            market.wait_serving()
            wait_finished(market)
            ledger = start_service(
                "ledger",
                tmp_path / "ledger",
                {**world_env(), "OPSUITE_MARKET_ADDR": market.address, **receiver.env("ledger")},
            )
            ledger.wait_serving()
            edge = start_service(
                "edge", tmp_path / "edge", {"OPSUITE_LEDGER_ADDR": ledger.address, **receiver.env("edge")}
            )
            assert edge.wait_listening(60), edge.log_text()
            url = f"http://{edge.address}"
            wait_until(lambda: httpx.get(f"{url}/healthz").status_code == 200, what="the edge to answer")
            answer = httpx.get(
                f"{url}/api/ledger",
                params={"page_size": "1"},
                headers={"traceparent": f"00-{trace_id}-{caller_span}-01"},
                timeout=30,
            )
            assert answer.status_code == 200, answer.text
            # Stopping flushes each process's spans to the collector.
            assert edge.stop() == 0
            assert ledger.stop() == 0
        finally:
            for process in (edge, ledger, market):
                if process is not None:
                    process.stop()
        spans = [s for s in receiver.spans if s.trace_id == trace_id]

    by_id = {s.span_id: s for s in spans}
    (server,) = [s for s in spans if s.service == "edge" and s.parent_span_id == caller_span]
    assert server.name == "GET /api/ledger"
    assert server.attributes["http.route"] == "/api/ledger"
    assert server.attributes["http.response.status_code"] == 200
    (ledger_span,) = [s for s in spans if s.service == "ledger"]
    assert ledger_span.name == "/opsuite.ledger.v1.LedgerService/GetLedger"
    # ledger's server span <- the edge's client span of the call <- the edge's server span <- the caller.
    client = by_id[ledger_span.parent_span_id]
    assert client.service == "edge" and client.name == "/opsuite.ledger.v1.LedgerService/GetLedger"
    assert client.parent_span_id == server.span_id
