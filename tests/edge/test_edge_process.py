"""`python -m services.edge` against the shared finished suite (tests/cli/conftest.py): every annotated
route answers over HTTP what its RPC answers over gRPC, errors map as code.proto says, a stopped
service is a 503, the README's curl examples run, SIGTERM stops it with exit code 0.

The edge is started here, on a port of its own, in front of the suite's services; the suite's own
edge (which `opsuite up` starts) is checked too. Readiness is polled on /readyz, never slept for.
"""

from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import grpc
import httpx
import pytest
from google.protobuf import json_format
from google.protobuf.message import Message

from services.edge.domain.http_status import http_status
from services.edge.domain.template import Kind
from services.edge.errors import status_json, status_of_error
from services.edge.routes import Route, contract_routes
from tests.edge.conftest import Edge, start_edge
from tests.edge.schemas import errors, response_schema
from tests.support.finished_suite import RunningSuite
from tests.support.processes import ROOT
from tests.support.tcp_proxy import TcpProxy
from tests.support.waiting import wait_until

README = ROOT / "README.md"
# The FIX 4.4 confirmation of the README's grpcurl example (no fund's trade: UNMATCHED).
FIX_CONFIRMATION = (
    "OD1GSVguNC40ATk9MTY2ATM1PUFLATY2ND1DT05GLTEBNjY2PTABNzczPTEBNjY1PTEBNzU9MjAyMDAzMTIBNjQ9MjAyMDAzMTYBNTQ9MQE1NT1BQ01FATQ4"
    "PVVTMDM3ODMzMTAwNQEyMj00ATgwPTEwMAE2PTE3MS4xMAExNT1VU0QBMzgxPTE3MTEwLjAwATEyPTguNTYBMTM9MwExMTg9MTcxMTguNTYBNzk9QkFMLVVT"
    "RAExMD0wNTIB"
)
# A shipped policy, ingested again as it is: IngestPolicy succeeds and changes nothing (unchanged),
# over HTTP and over gRPC alike, so the shared suite's assistant answers as before.
SHIPPED_POLICY = (ROOT / "services" / "documents" / "policies" / "break-escalation.md").read_bytes()
# What each route is asked here, by (method, template): the query string or the JSON body. A route
# not listed is asked with nothing, so a new annotation is exercised the day it is added.
ASKED: dict[tuple[str, str], dict[str, Any]] = {
    ("GET", "/api/reporting/report/{mandate_id}"): {"path": "/api/reporting/report/BAL-USD"},
    ("GET", "/api/ledger"): {
        "query": {"mandate_id": "BAL-USD", "account_prefix": "Assets:Cash", "page_size": "5"}
    },
    ("POST", "/api/documents/extract"): {"json": {"content": FIX_CONFIRMATION}},
    ("POST", "/api/documents/ask"): {
        "json": {"question": "How long can a double booking at the bank sit there before it gets escalated?"}
    },
    ("POST", "/api/documents/policies"): {
        "json": {"content": base64.b64encode(SHIPPED_POLICY).decode(), "contentType": "text/markdown"}
    },
}
# The writes that would change the shared suite if they succeeded, asked for what the service refuses
# (an unknown mandate, an unknown break): each must be refused over HTTP as over gRPC, so the route
# is shown to reach its RPC. test_edge_auth.py makes each succeed through the edge.
REFUSED: dict[tuple[str, str], dict[str, Any]] = {
    ("POST", "/api/market/faults"): {
        "json": {"kind": "FAULT_KIND_CUSTODIAN_DROP_TRADE", "mandateId": "NOPE"}
    },
    ("PATCH", "/api/recon/breaks/{break_id}"): {
        "path": "/api/recon/breaks/BRK-NOPE",
        "json": {"actor": "edge-test", "comment": "no such break"},
    },
}


def _grpc(suite: RunningSuite, route: Route, request: Message) -> tuple[Message | None, grpc.RpcError | None]:
    """The RPC's answer over gRPC: its reply, or the error it failed with."""
    with grpc.insecure_channel(suite.addresses[route.backend]) as channel:
        call = channel.unary_unary(
            route.grpc_path,
            request_serializer=type(request).SerializeToString,
            response_deserializer=route.response_class.FromString,
        )
        try:
            reply: Message = call(request, timeout=60)
        except grpc.RpcError as error:
            return None, error
    return reply, None


def _any_path(route: Route) -> str:
    """A path the route's template matches, each wildcard an "x": for a route nobody listed in ASKED."""
    parts = [s.text if s.kind is Kind.LITERAL else "x" for s in route.template.segments]
    return "/" + "/".join(parts) + (f":{route.template.verb}" if route.template.verb else "")


def _grpc_request(route: Route, asked: dict[str, Any]) -> Message:
    """The same request as a message: path values, query fields and body set the same fields."""
    request = route.request_class()
    values: dict[str, Any] = dict(asked.get("json", {}))
    values |= asked.get("query", {})
    raw = route.template.match(asked["path"]) or {}
    for dotted, value in route.template.decode(raw).items():
        node = values
        *parents, leaf = dotted.split(".")
        for name in parents:
            node = node.setdefault(name, {})
        node[leaf] = value
    return json_format.ParseDict(values, request)


def _without_trace_ids(document: object) -> object:
    """The answer without the trace id of the call that made it (each call is its own trace)."""
    if isinstance(document, dict):
        return {k: _without_trace_ids(v) for k, v in document.items() if k != "traceId"}
    if isinstance(document, list):
        return [_without_trace_ids(v) for v in document]
    return document


def test_every_annotated_route_answers_what_its_rpc_answers(edge: Edge, finished_suite: RunningSuite) -> None:
    """Each route, asked over HTTP, answers its RPC's answer to the same request over gRPC: the reply
    in proto3 JSON, or the error as a google.rpc.Status under its mapped HTTP status. The routes of
    ASKED must succeed and fit their OpenAPI schema; a route added since is asked with "x" for each
    path variable and nothing else, and must at least agree with gRPC."""
    document = edge.client.get("/openapi.json").json()
    for route in contract_routes().routes:
        key = (route.http_method, route.template.source)
        asked = {"path": _any_path(route), **ASKED.get(key, {}), **REFUSED.get(key, {})}
        answer = edge.client.request(
            route.http_method, asked["path"], params=asked.get("query"), json=asked.get("json")
        )
        assert answer.headers["content-type"] == "application/json", route.describe()
        reply, error = _grpc(finished_suite, route, _grpc_request(route, asked))
        if error is not None:
            status = status_of_error(error, route.backend)  # type: ignore[arg-type]
            assert key not in ASKED, f"{route.describe()} failed over gRPC: {error}"
            if key in REFUSED:
                assert error.code() == grpc.StatusCode.NOT_FOUND, f"{route.describe()}: {error}"
            assert answer.status_code == http_status(status.code), f"{route.describe()}: {answer.text}"
            assert answer.json() == status_json(status), route.describe()
            continue
        assert reply is not None
        assert key not in REFUSED, f"{route.describe()} was taken: the shared suite changed"
        assert answer.status_code == 200, f"{route.describe()}: {answer.text}"
        expected = json_format.MessageToDict(reply)
        assert _without_trace_ids(answer.json()) == _without_trace_ids(expected), route.describe()
        if key in ASKED or not route.template.variables:
            assert answer.json(), f"{route.describe()} answered an empty message: ask it something"
        openapi_path = route.template.openapi_path()
        problems = errors(
            document, response_schema(document, openapi_path, route.http_method.lower()), answer.json()
        )
        assert problems == [], f"{route.describe()} does not fit its OpenAPI schema: {problems[:5]}"
    # The routes of the seed (docs/architecture.md) and the writes are all there, and answered.
    assert set(ASKED) | set(REFUSED) <= {(r.http_method, r.template.source) for r in contract_routes().routes}


def test_an_unknown_mandate_is_404_with_the_services_details(edge: Edge) -> None:
    answer = edge.client.get("/api/reporting/report/NOPE")
    assert answer.status_code == 404
    body = answer.json()
    assert body["code"] == 5 and "unknown mandate 'NOPE'" in body["message"] and "BAL-USD" in body["message"]
    types = {d["@type"]: d for d in body["details"]}
    assert types["type.googleapis.com/google.rpc.BadRequest"]["fieldViolations"][0]["field"] == "mandate_id"
    assert types["type.googleapis.com/google.rpc.ErrorInfo"]["reason"] == "MANDATE_NOT_FOUND"


def test_bad_input_is_400_with_field_violations(edge: Edge) -> None:
    by_service = edge.client.get("/api/ledger", params={"page_size": "-1"})
    assert by_service.status_code == 400 and by_service.json()["code"] == 3
    (violations,) = [d for d in by_service.json()["details"] if d["@type"].endswith("google.rpc.BadRequest")]
    assert [v["field"] for v in violations["fieldViolations"]] == ["page_size"]
    by_edge = edge.client.get("/api/ledger", params={"pagesize": "5", "kind": "JOURNAL_KIND_NOPE"})
    assert by_edge.status_code == 400
    (violations,) = [d for d in by_edge.json()["details"] if d["@type"].endswith("google.rpc.BadRequest")]
    assert {v["field"] for v in violations["fieldViolations"]} == {"pagesize", "kind"}
    malformed = edge.client.post("/api/documents/ask", content=b'{"question": ')
    assert malformed.status_code == 400 and "not JSON" in malformed.json()["message"]
    unknown = edge.client.post("/api/documents/ask", json={"question": "x", "max_cites": 2})
    assert unknown.status_code == 400 and "unknown field 'max_cites'" in unknown.json()["message"]
    wrong = edge.client.delete("/api/recon")
    assert wrong.status_code == 405 and wrong.headers["allow"] == "GET"
    assert edge.client.get("/api/nothing").status_code == 404


def test_the_deadline_header_is_checked_and_passed(edge: Edge) -> None:
    assert edge.client.get("/api/recon", headers={"grpc-timeout": "5S"}).status_code == 200
    assert edge.client.get("/api/recon", headers={"X-Request-Timeout": "5"}).status_code == 200
    refused = edge.client.get("/api/recon", headers={"grpc-timeout": "5 seconds"})
    assert refused.status_code == 400 and "grpc-timeout" in refused.json()["message"]
    late = edge.client.get("/api/reporting/report/BAL-USD", headers={"grpc-timeout": "1n"})
    assert late.status_code == 504 and late.json()["code"] == 4


def test_a_stopped_service_is_503_and_readiness_names_it(
    finished_suite: RunningSuite, tmp_path: Path
) -> None:
    host, port = finished_suite.addresses["ledger"].split(":")
    proxy = TcpProxy(host, int(port))
    edge = start_edge(finished_suite, tmp_path, OPSUITE_LEDGER_ADDR=proxy.address)
    try:
        wait_until(
            lambda: edge.client.get("/readyz").status_code == 200, timeout=120, what="the edge to be ready"
        )
        assert edge.client.get("/api/ledger", params={"page_size": "1"}).status_code == 200
        proxy.cut()  # the ledger is gone, as far as the edge can tell
        answer = edge.client.get("/api/ledger", params={"page_size": "1"})
        assert answer.status_code == 503, answer.text
        assert answer.json()["code"] == 14 and answer.json()["message"].startswith("ledger is unavailable")
        ready = edge.client.get("/readyz")
        assert ready.status_code == 503 and ready.json()["not_ready"] == ["ledger"]
        assert ready.json()["services"]["recon"] == "SERVING"
        assert edge.client.get("/api/recon").status_code == 200  # the others still answer
        assert edge.client.get("/healthz").status_code == 200
        proxy.restore()
        wait_until(
            lambda: edge.client.get("/readyz").status_code == 200, timeout=30, what="the ledger to be back"
        )
        assert edge.client.get("/api/ledger", params={"page_size": "1"}).status_code == 200
    finally:
        edge.client.close()
        code = edge.process.stop()
        proxy.close()
    assert code == 0


def test_opsuite_up_started_the_suites_own_edge_and_printed_its_url(finished_suite: RunningSuite) -> None:
    url = finished_suite.edge_url
    assert re.search(
        rf"✓ edge +{re.escape(url)} \(pid \d+, [\d.]+ s\): the HTTP/JSON API",
        finished_suite.supervisor_output(),
    )
    assert httpx.get(f"{url}/healthz", timeout=10).status_code == 200
    wait_until(
        lambda: httpx.get(f"{url}/readyz", timeout=10).status_code == 200, timeout=60, what="its /readyz"
    )
    assert httpx.get(f"{url}/docs", timeout=10).status_code == 200


def _readme_curl_examples() -> list[str]:
    section = README.read_text().split("## HTTP/JSON: the edge", 1)[1].split("\n## ", 1)[0]
    blocks = [part.split("```", 1)[0] for part in section.split("```sh")[1:]]
    return [line for block in blocks for line in block.splitlines() if line.startswith("curl ")]


def test_the_readme_shows_the_seeds_routes() -> None:
    shown = " ".join(_readme_curl_examples())
    for path in ("/api/recon", "/api/reporting/mandates", "/api/reporting/report/", "/api/dataquality",
                 "/api/documents/extract", "/api/documents/ask", "/api/ledger", "/api/market/faults",
                 "/api/documents/policies", "/api/recon/breaks/"):  # fmt: skip
        assert path in shown, f"the README has no example of {path}"


@pytest.mark.skipif(
    shutil.which("curl") is None or shutil.which("base64") is None, reason="needs curl and base64"
)
@pytest.mark.parametrize("line", _readme_curl_examples())
def test_each_readme_curl_example_runs(line: str, edge: Edge, tmp_path: Path) -> None:
    command, _, comment = line.partition("  # ")
    expected = re.search(r"answers (\d{3})", comment)
    shutil.copytree(ROOT / "examples", tmp_path / "examples")  # the example files, as in a checkout
    out = tmp_path / "body.json"
    command = command.replace("http://127.0.0.1:8080", edge.url).strip()
    result = subprocess.run(
        ["bash", "-c", f"{command} -o {out} -w '%{{http_code}}'"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == (expected[1] if expected else "200"), f"{line}\n{out.read_text()}"
    body = json.loads(out.read_text())
    assert body and isinstance(body, dict)
