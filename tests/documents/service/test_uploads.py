"""Uploads through both entry points, gRPC and the edge's HTTP (an edge of this module's own in front
of the running documents service, tests/documents/conftest.py): a confirmation or a policy over its
limit is refused naming the limit and its variable, with nothing stored; a file name or a policy id
that names a path (`../../etc/passwd`, an absolute path, a NUL, either separator) never becomes a
file, inside the data directory or outside it."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import grpc
import httpx
import pytest

from opsuite.documents.v1 import documents_pb2
from services.common.serve import MAX_MESSAGE_BYTES
from services.common.settings import SettingsError, load_settings
from services.documents.settings import DocumentsSettings
from services.documents.store import SQLITE_FILE
from tests.documents.conftest import DocumentsWorld
from tests.support.ports import free_ports
from tests.support.processes import ServiceProcess, start_service
from tests.support.run_state import documents_store

MAX_DOCUMENT = 10 * 1024 * 1024  # OPSUITE_DOCUMENTS_MAX_BYTES's default
MAX_POLICY = 2 * 1024 * 1024  # OPSUITE_DOCUMENTS_MAX_POLICY_BYTES's default
# A FIX 4.4 confirmation no fund of this world traded: read, and UNMATCHED, so it raises no break.
FIX = b"8=FIX.4.4|9=10|35=AK|664=C-1|75=20200312|64=20200316|54=1|55=XYZ|80=100|6=10|15=USD|381=1000|118=1000|10=000|"
# Names that would leave a folder if anything wrote a file by them.
PATHS = (
    "../../etc/passwd",
    "/etc/passwd",
    "..\\..\\windows\\win.ini",
    "confirmation.txt\x00.pdf",
    "a/b/../../../escaped.txt",
    "..",
)


@pytest.fixture(scope="module")
def edge(documents_world: DocumentsWorld, tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    """The edge before this world's documents, recon and market; the services this world lacks are
    given free ports nothing listens on (the routes used here call documents alone)."""
    ledger, reporting, dq = free_ports(3)
    env = {
        "OPSUITE_DOCUMENTS_ADDR": documents_world.documents.address,
        "OPSUITE_RECON_ADDR": documents_world.recon.address,
        "OPSUITE_MARKET_ADDR": documents_world.market.address,
        "OPSUITE_LEDGER_ADDR": f"127.0.0.1:{ledger}",
        "OPSUITE_REPORTING_ADDR": f"127.0.0.1:{reporting}",
        "OPSUITE_DQ_ADDR": f"127.0.0.1:{dq}",
    }
    process: ServiceProcess = start_service("edge", tmp_path_factory.mktemp("uploads-edge"), env)
    try:
        assert process.wait_listening(60), process.log_text()[-3000:]
        with httpx.Client(base_url=f"http://{process.address}", timeout=120) as client:
            yield client
    finally:
        assert process.stop() == 0, process.log_text()[-3000:]


def _root(world: DocumentsWorld) -> Path:
    """The world's folder: market's, recon's and documents' data directories and the event log."""
    return world.recon_data_dir.parent


def _documents_dir(world: DocumentsWorld) -> Path:
    return _root(world) / "documents"


def _extractions(world: DocumentsWorld) -> int:
    with documents_store(_documents_dir(world)) as store:
        return store.extraction_count()


def _policies(world: DocumentsWorld) -> documents_pb2.ListPoliciesResponse:
    return world.documents_stub.ListPolicies(
        documents_pb2.ListPoliciesRequest(include_superseded=True, page_size=1000)
    )


def _files(folder: Path) -> set[Path]:
    return {path for path in folder.rglob("*") if path.is_file()}


def _no_file_was_named_by(world: DocumentsWorld, before: set[Path]) -> None:
    """Nothing in the world's folder (and the temporary folder above it) bears a name of PATHS, and
    documents' data directory holds only its store (the SQLite file and its journal) and its logs."""
    base = _root(world).parent
    named = {Path(name.replace("\\", "/").replace("\x00", "")).name for name in PATHS} - {"", ".."}
    found = [path for path in base.rglob("*") if path.name in named]
    assert found == []
    new = _files(_documents_dir(world)) - before
    assert all(path.name.startswith(SQLITE_FILE) or path.suffix == ".log" for path in new), new


def test_a_document_over_the_limit_is_refused_over_grpc_and_http_and_nothing_is_stored(
    world: DocumentsWorld, edge: httpx.Client
) -> None:
    content = b"%PDF-1.4\n" + b"0" * MAX_DOCUMENT
    stored = _extractions(world)
    with pytest.raises(grpc.RpcError) as refused:
        world.documents_stub.ExtractConfirmation(
            documents_pb2.ExtractConfirmationRequest(content=content, content_type="application/pdf")
        )
    assert refused.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    said = refused.value.details() or ""
    assert f"at most {MAX_DOCUMENT:,}" in said and "OPSUITE_DOCUMENTS_MAX_BYTES" in said
    # In base64 (about 13.3 MiB) it fits the edge's body limit: documents refuses it, and the edge
    # answers 413 (a request too large), not code.proto's 429 for RESOURCE_EXHAUSTED (retry later).
    answer = edge.post(
        "/api/documents/extract",
        json={"content": base64.b64encode(content).decode(), "contentType": "application/pdf"},
    )
    assert answer.status_code == 413, answer.text
    body = answer.json()
    assert body["code"] == 8 and f"at most {MAX_DOCUMENT:,}" in body["message"]
    assert "OPSUITE_DOCUMENTS_MAX_BYTES" in body["message"]
    reasons = {d.get("reason") for d in body["details"]}
    assert "DOCUMENT_TOO_LARGE" in reasons
    assert _extractions(world) == stored


def test_a_policy_over_the_limit_is_refused_over_grpc_and_http_and_nothing_changes(
    world: DocumentsWorld, edge: httpx.Client
) -> None:
    content = b"# Too Long\n\n## Only Section\n" + b"x" * MAX_POLICY
    before = _policies(world)
    with pytest.raises(grpc.RpcError) as refused:
        world.documents_stub.IngestPolicy(documents_pb2.IngestPolicyRequest(content=content))
    assert refused.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    said = refused.value.details() or ""
    assert f"at most {MAX_POLICY:,}" in said and "OPSUITE_DOCUMENTS_MAX_POLICY_BYTES" in said
    answer = edge.post("/api/documents/policies", json={"content": base64.b64encode(content).decode()})
    assert answer.status_code == 413, answer.text
    assert answer.json()["code"] == 8 and "OPSUITE_DOCUMENTS_MAX_POLICY_BYTES" in answer.json()["message"]
    assert _policies(world) == before


@pytest.mark.parametrize("name", PATHS)
def test_a_file_name_that_names_a_path_is_kept_out_of_the_file_system(
    world: DocumentsWorld, edge: httpx.Client, name: str
) -> None:
    """The file name is for the record only: the confirmation is read (over gRPC and over HTTP) and
    kept once in documents' store, by the hash of its content; no file is written by the name."""
    content = FIX.replace(b"664=C-1|", f"664=C-{PATHS.index(name) + 100}|".encode())
    before = _files(_documents_dir(world))
    stored = _extractions(world)
    by_grpc = world.documents_stub.ExtractConfirmation(
        documents_pb2.ExtractConfirmationRequest(content=content, filename=name)
    )
    by_http = edge.post(
        "/api/documents/extract", json={"content": base64.b64encode(content).decode(), "filename": name}
    )
    assert by_http.status_code == 200, by_http.text
    assert by_grpc.trade.format == by_http.json()["trade"]["format"] == "fix44"
    assert by_grpc.extraction_id == by_http.json()["extractionId"]
    assert _extractions(world) == stored + 1  # stored before the answers, once for its content
    _no_file_was_named_by(world, before)


@pytest.mark.parametrize("policy_id", [*PATHS, ".hidden", "a\\b", "nul\x00id"])
def test_a_policy_id_that_names_a_path_is_refused_over_grpc_and_http_and_nothing_changes(
    world: DocumentsWorld, edge: httpx.Client, policy_id: str
) -> None:
    content = b"# Escape Attempt\n\n## Only Section\nA policy that must not be stored.\n"
    before, files = _policies(world), _files(_documents_dir(world))
    with pytest.raises(grpc.RpcError) as refused:
        world.documents_stub.IngestPolicy(
            documents_pb2.IngestPolicyRequest(policy_id=policy_id, content=content)
        )
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "policy_id" in (refused.value.details() or "")
    answer = edge.post(
        "/api/documents/policies",
        json={"policyId": policy_id, "content": base64.b64encode(content).decode()},
    )
    assert answer.status_code == 400, answer.text
    (bad_request,) = [d for d in answer.json()["details"] if d["@type"].endswith("google.rpc.BadRequest")]
    assert [v["field"] for v in bad_request["fieldViolations"]] == ["policy_id"]
    assert "letters, digits" in bad_request["fieldViolations"][0]["description"]
    assert _policies(world) == before
    _no_file_was_named_by(world, files)


@pytest.fixture
def world(documents_world: DocumentsWorld) -> DocumentsWorld:
    return documents_world


@pytest.mark.parametrize("variable", ["OPSUITE_DOCUMENTS_MAX_BYTES", "OPSUITE_DOCUMENTS_MAX_POLICY_BYTES"])
def test_a_limit_past_grpcs_own_message_limit_is_refused(variable: str) -> None:
    """gRPC would refuse such an upload itself, before documents could name its limit."""
    field = variable.removeprefix("OPSUITE_").lower()
    with pytest.raises(SettingsError) as refused:
        load_settings(DocumentsSettings, **{field: MAX_MESSAGE_BYTES})
    assert str(refused.value).startswith(f"{variable}={MAX_MESSAGE_BYTES!r}: give bytes, from 1024 to ")
    assert load_settings(DocumentsSettings, **{field: MAX_MESSAGE_BYTES - 64 * 1024}) is not None
