"""`python -m services.edge` with OPSUITE_API_TOKEN, in front of the shared finished suite: the reads
and the dashboard stay open; every write (a fault injected, a break updated, a policy ingested, a
confirmation uploaded) without the token, or with another, is a 401 with `WWW-Authenticate: Bearer`
and changes nothing in the services behind it; with the token each write goes through, the edge
serving the writing RPCs like the others. The token never reaches the edge's log.

What a write with the token changes is kept small for the other tests of the shared suite: a fault
injected after market's last day stays pending (it hits no fill), a comment is one more action on a
break, and the policy ingested is a shipped one, unchanged."""

from __future__ import annotations

import base64
import secrets
from collections.abc import Iterator

import grpc
import pytest

from opsuite.documents.v1 import documents_pb2, documents_pb2_grpc
from opsuite.market.v1 import market_pb2, market_pb2_grpc
from opsuite.recon.v1 import recon_pb2, recon_pb2_grpc
from tests.edge.conftest import Edge, start_edge
from tests.support.finished_suite import RunningSuite
from tests.support.processes import ROOT
from tests.support.run_state import documents_store
from tests.support.waiting import wait_until

TOKEN = secrets.token_hex(32)
SHIPPED_POLICY = (ROOT / "services" / "documents" / "policies" / "settlement-fails.md").read_bytes()
FIX = b"8=FIX.4.4|9=10|35=AK|664=C-AUTH|75=20200312|64=20200316|54=1|55=XYZ|80=100|6=10|15=USD|381=1000|118=1000|10=000|"


@pytest.fixture(scope="module")
def guarded(finished_suite: RunningSuite, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Edge]:
    started = start_edge(finished_suite, tmp_path_factory.mktemp("edge-auth"), OPSUITE_API_TOKEN=TOKEN)
    try:
        wait_until(
            lambda: started.client.get("/readyz").status_code == 200, timeout=120, what="the edge to be ready"
        )
        yield started
    finally:
        started.client.close()
        code = started.process.stop()
    assert code == 0, started.process.log_text()[-3000:]
    assert TOKEN not in started.process.log_text()


def _faults(suite: RunningSuite) -> list[market_pb2.InjectedFault]:
    with grpc.insecure_channel(suite.addresses["market"]) as channel:
        reply = market_pb2_grpc.MarketServiceStub(channel).ListInjectedFaults(
            market_pb2.ListInjectedFaultsRequest(page_size=1000), timeout=30
        )
    return list(reply.faults)


def _break(suite: RunningSuite, break_id: str) -> recon_pb2.BreakDetail:
    with grpc.insecure_channel(suite.addresses["recon"]) as channel:
        return recon_pb2_grpc.ReconServiceStub(channel).GetBreak(
            recon_pb2.GetBreakRequest(break_id=break_id), timeout=30
        )


def _a_break_id(suite: RunningSuite) -> str:
    with grpc.insecure_channel(suite.addresses["recon"]) as channel:
        reply = recon_pb2_grpc.ReconServiceStub(channel).ListBreaks(
            recon_pb2.ListBreaksRequest(page_size=1000), timeout=30
        )
    return reply.breaks[-1].break_id


def _policies(suite: RunningSuite) -> documents_pb2.ListPoliciesResponse:
    with grpc.insecure_channel(suite.addresses["documents"]) as channel:
        return documents_pb2_grpc.DocumentsServiceStub(channel).ListPolicies(
            documents_pb2.ListPoliciesRequest(include_superseded=True, page_size=1000), timeout=30
        )


def _extractions(suite: RunningSuite) -> int:
    with documents_store(suite.data_dir) as store:
        return store.extraction_count()


def _state(suite: RunningSuite, break_id: str) -> tuple[object, ...]:
    return (_faults(suite), _break(suite, break_id), _policies(suite), _extractions(suite))


def _writes(break_id: str) -> list[tuple[str, str, dict[str, object]]]:
    return [
        ("POST", "/api/market/faults", {"kind": "FAULT_KIND_CUSTODIAN_DROP_TRADE", "mandateId": "BAL-USD"}),
        ("PATCH", f"/api/recon/breaks/{break_id}", {"actor": "edge-auth-test", "comment": "seen"}),
        ("POST", "/api/documents/policies", {"content": base64.b64encode(SHIPPED_POLICY).decode()}),
        ("POST", "/api/documents/extract", {"content": base64.b64encode(FIX).decode()}),
        ("POST", "/api/documents/ask", {"question": "When is a failed trade bought in?"}),
    ]


def test_reads_and_the_dashboard_stay_open(guarded: Edge) -> None:
    for path in ("/api/recon", "/api/reporting/mandates", "/", "/docs", "/openapi.json", "/healthz"):
        assert guarded.client.get(path).status_code == 200, path
    document = guarded.client.get("/openapi.json").json()
    assert document["components"]["securitySchemes"]["bearerToken"]["scheme"] == "bearer"
    assert document["paths"]["/api/market/faults"]["post"]["security"] == [{"bearerToken": []}]


# Ids named here: the token is random per process, and pytest-xdist's workers must collect the same ids.
@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer not-the-token-0123456789", f"Basic {TOKEN}"],
    ids=["no-header", "another-token", "the-token-as-basic"],
)
def test_every_write_without_the_token_is_401_and_changes_nothing(
    guarded: Edge, finished_suite: RunningSuite, authorization: str | None
) -> None:
    break_id = _a_break_id(finished_suite)
    before = _state(finished_suite, break_id)
    headers = {"Authorization": authorization} if authorization else {}
    for method, path, body in _writes(break_id):
        answer = guarded.client.request(method, path, json=body, headers=headers)
        assert answer.status_code == 401, f"{method} {path}: {answer.text}"
        assert answer.headers["www-authenticate"].startswith('Bearer realm="opsuite"')
        refusal = answer.json()
        assert refusal["code"] == 16 and "OPSUITE_API_TOKEN" in refusal["message"]
        assert "Authorization: Bearer <token>" in refusal["message"]
    assert _state(finished_suite, break_id) == before


def test_each_write_with_the_token_goes_through(guarded: Edge, finished_suite: RunningSuite) -> None:
    break_id = _a_break_id(finished_suite)
    history = len(_break(finished_suite, break_id).history)
    auth = {"Authorization": f"Bearer {TOKEN}"}
    answers = {
        path: guarded.client.request(method, path, json=body, headers=auth)
        for method, path, body in _writes(break_id)
    }
    for path, answer in answers.items():
        assert answer.status_code == 200, f"{path}: {answer.text}"
    fault = answers["/api/market/faults"].json()
    assert fault["onDemand"] is True and fault["status"] == "FAULT_STATUS_PENDING"
    assert fault["faultId"] in [f.fault_id for f in _faults(finished_suite)]
    updated = _break(finished_suite, break_id)
    assert len(updated.history) == history + 1
    assert (updated.history[-1].actor, updated.history[-1].comment) == ("edge-auth-test", "seen")
    assert answers[f"/api/recon/breaks/{break_id}"].json()["history"][-1]["comment"] == "seen"
    assert answers["/api/documents/policies"].json()["unchanged"] is True
    assert answers["/api/documents/extract"].json()["trade"]["format"] == "fix44"
    assert answers["/api/documents/ask"].json()["answer"]


def test_the_suites_own_edge_says_how_to_set_the_token(finished_suite: RunningSuite) -> None:
    """opsuite up prints, beside the edge's URL, that writes are open and how to require a token."""
    output = finished_suite.supervisor_output()
    edge_line = next(i for i, line in enumerate(output.splitlines()) if "✓ edge" in line)
    following = output.splitlines()[edge_line + 1]
    assert "writes (every request but GET) are open" in following
    assert "OPSUITE_API_TOKEN=$(openssl rand -hex 32)" in following and "Authorization: Bearer" in following


def test_the_token_is_in_no_page_the_edge_serves(guarded: Edge) -> None:
    for path in ("/", "/openapi.json", "/docs", "/readyz"):
        assert TOKEN not in guarded.client.get(path).text, path
