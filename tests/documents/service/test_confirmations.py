"""ExtractConfirmation and market's own confirmations through the running documents service
(tests/documents/conftest.py): what is read, how it matches the book, the breaks a disagreement
raises in recon, and every refusal, with the service still SERVING after each."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from opsuite.documents.v1 import documents_pb2
from opsuite.market.v1 import market_pb2
from opsuite.recon.v1 import recon_pb2
from tests.documents import hostile
from tests.documents.conftest import CONFIRMED_ERRORS, DocumentsWorld

CORPUS = Path(__file__).resolve().parents[3] / "bench" / "documents" / "corpus"


def _extract(
    world: DocumentsWorld, content: bytes, content_type: str = "", **kw: str
) -> documents_pb2.ExtractConfirmationResponse:
    return world.documents_stub.ExtractConfirmation(
        documents_pb2.ExtractConfirmationRequest(content=content, content_type=content_type, **kw)
    )


def _serving(world: DocumentsWorld) -> bool:
    with grpc.insecure_channel(world.documents.address) as channel:
        reply = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest())
    return reply.status == health_pb2.HealthCheckResponse.SERVING


def _confirmation_breaks(world: DocumentsWorld) -> list[recon_pb2.Break]:
    reply = world.recon_stub.ListBreaks(
        recon_pb2.ListBreaksRequest(kinds=[recon_pb2.BREAK_KIND_CONFIRMATION_MISMATCH], page_size=1000)
    )
    return list(reply.breaks)


def _market_confirmations(world: DocumentsWorld) -> list[tuple[str, market_pb2.Confirmation]]:
    return [
        (r.event_id, market_pb2.MarketEvent.FromString(r.payload).confirmation)
        for r in world.event_log.read("market", 1, 100_000)
        if r.kind == "trade.confirmation"
    ]


def _faults(world: DocumentsWorld) -> list[market_pb2.InjectedFault]:
    reply = world.market_stub.ListInjectedFaults(market_pb2.ListInjectedFaultsRequest(page_size=1000))
    return list(reply.faults)


def test_market_s_confirmations_that_carry_a_custodian_error_are_each_one_break(
    world: DocumentsWorld,
) -> None:
    """Scored against market's ground truth: every fault whose error a confirmation carries is one
    CONFIRMATION_MISMATCH break on its fill, naming the field, and no other fill has one (the
    injected settlement delay none: the broker confirms the contractual date). A fault corrected
    within the run closed its break at the check of the correction day, resolved by the broker's
    corrected confirmation, which documents read as a match of the same fill."""
    faults = _faults(world)
    carried = {f.fill_id: f for f in faults if f.kind in CONFIRMED_ERRORS and f.fill_id}
    assert len(carried) >= len(CONFIRMED_ERRORS), "the injected faults hit fills"
    assert any(f.kind == market_pb2.FAULT_KIND_SETTLEMENT_DELAY and f.fill_id for f in faults)
    breaks = _confirmation_breaks(world)
    assert sorted(b.fill_id for b in breaks) == sorted(carried)
    expected_field = {
        market_pb2.FAULT_KIND_CUSTODIAN_QUANTITY_TYPO: "quantity",
        market_pb2.FAULT_KIND_CUSTODIAN_PRICE_TYPO: "price",
    }
    corrected = 0
    for brk in breaks:
        fault = carried[brk.fill_id]
        assert expected_field[fault.kind] in brk.description, brk.description
        if not fault.HasField("corrected_date"):
            assert brk.status == recon_pb2.BREAK_STATUS_OPEN, brk
            continue
        corrected += 1
        replacement = fault.correction_event_ids[0]
        assert (brk.status, brk.resolved_by_event_id) == (recon_pb2.BREAK_STATUS_RESOLVED, replacement), brk
        document = world.event_log.effects_of(replacement)
        assert [r.kind for r in document] == ["document.matched"], document
    assert corrected, "a typo is corrected within 1 to 3 business days 70 to 80 % of the time"


def test_opsuite_trace_follows_a_confirmation_break_to_the_document_and_the_fill(
    world: DocumentsWorld,
) -> None:
    brk = _confirmation_breaks(world)[0]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPSUITE_", "OTEL_"))}
    result = subprocess.run(
        [sys.executable, "-m", "services.cli", "trace", brk.break_id, "-o", "json"],
        # trace reads the break from recon's store under the data directory, the chain from the log.
        env={
            **env,
            "OPSUITE_EVENTLOG_URL": world.eventlog_url,
            "OPSUITE_DATA_DIR": str(world.recon_data_dir),
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    kinds = [row["kind"] for row in json.loads(result.stdout)["records"]]
    # The chain: the fill, market's confirmation of it, the document read from it, the break.
    for kind in ("trade.fill", "trade.confirmation", "document.mismatched", "break.opened"):
        assert kind in kinds, kinds


def test_a_market_confirmation_pdf_uploaded_matches_its_fill(world: DocumentsWorld) -> None:
    wrong = {f.fill_id for f in _faults(world)}
    confirmation = next(c for _, c in _market_confirmations(world) if c.fill_id not in wrong)
    document = world.market_stub.GetConfirmation(
        market_pb2.GetConfirmationRequest(confirmation_id=confirmation.confirmation_id)
    )
    reply = _extract(world, document.pdf, "application/pdf", filename="confirmation.pdf")
    assert reply.match.status == documents_pb2.MATCH_STATUS_MATCHED, reply.match
    assert reply.match.fill_id == confirmation.fill_id and reply.trade.fill_id == confirmation.fill_id
    assert reply.trade.format == "pdf" and reply.trade.layout == confirmation.layout
    assert list(reply.rule_failures) == [] and reply.break_id == ""
    names = {f.name for f in reply.fields}
    assert {
        "trade_date",
        "settlement_date",
        "side",
        "quantity",
        "price",
        "net_amount",
        "trade_reference",
    } <= names
    assert all(f.page == 1 for f in reply.fields)


def test_a_tampered_confirmation_is_a_mismatch_raising_one_traced_break(world: DocumentsWorld) -> None:
    wrong = {f.fill_id for f in _faults(world)}
    event_id, confirmation = next(
        (e, c)
        for e, c in _market_confirmations(world)
        if c.fill_id not in wrong and c.layout == "northbridge"
    )
    # The broker's quantity made 1 share more than the book (northbridge prints "Quantity: 1,234").
    match = re.search(r"^Quantity:\s+([\d,]+)$", confirmation.text, re.MULTILINE)
    assert match is not None, confirmation.text
    booked = int(match.group(1).replace(",", ""))
    tampered = confirmation.text.replace(
        match.group(0), match.group(0).replace(match.group(1), f"{booked + 1:,}")
    )
    reply = _extract(world, tampered.encode(), "text/plain")
    assert reply.match.status == documents_pb2.MATCH_STATUS_MISMATCHED
    assert [
        (m.field, m.document_value, m.book_value, m.difference.value) for m in reply.match.mismatches
    ] == [("quantity", str(booked + 1), str(booked), "1")]
    assert "gross_amount" in [f.rule for f in reply.rule_failures]  # the gross no longer fits the quantity
    assert reply.break_id
    again = _extract(world, tampered.encode(), "text/plain")
    assert again.break_id == reply.break_id  # idempotent by the document's hash
    detail = world.recon_stub.GetBreak(recon_pb2.GetBreakRequest(break_id=reply.break_id))
    assert detail.record.kind == recon_pb2.BREAK_KIND_CONFIRMATION_MISMATCH
    assert list(detail.record.caused_by) == [reply.event_id]
    logged = world.event_log.get(reply.event_id)
    assert logged is not None and logged.kind == "document.mismatched"
    # An upload is caused by the fill it confirms (market's trade.fill event), not market's own copy.
    assert len(logged.caused_by) == 1 and logged.caused_by[0] != event_id
    fill_record = world.event_log.get(logged.caused_by[0])
    assert fill_record is not None and fill_record.kind == "trade.fill"
    assert [r.kind for r in world.event_log.effects_of(reply.event_id)] == ["break.opened"]


@pytest.mark.parametrize(
    "truth_path",
    sorted((CORPUS / "templated").glob("*/*.truth.json"))[::6]
    + sorted((CORPUS / "formats").glob("*/*.truth.json")),
    ids=lambda p: f"{p.parent.name}-{p.name.split('.')[0]}",
)
def test_corpus_documents_come_back_field_for_field(world: DocumentsWorld, truth_path: Path) -> None:
    truth = json.loads(truth_path.read_text())
    document = next(
        p for p in truth_path.parent.glob(truth_path.name.split(".")[0] + ".*") if p != truth_path
    )
    # No content type: the format is detected from the content.
    reply = _extract(world, document.read_bytes(), "")
    read = {f.name: f.value for f in reply.fields}
    expected = truth["fields"]
    assert {k: v for k, v in read.items() if k != "security_name"} == {
        k: v for k, v in expected.items() if k != "security_name" and k in read
    }
    assert reply.match.status == documents_pb2.MATCH_STATUS_UNMATCHED  # not a trade of this book


HOSTILE = {
    "empty": (hostile.empty_file(), "application/pdf"),
    "zero pages": (hostile.zero_page_pdf(), "application/pdf"),
    "encrypted": (hostile.encrypted_pdf(), "application/pdf"),
    "truncated": (hostile.truncated_pdf(), "application/pdf"),
    "corrupt": (hostile.corrupt_pdf(), "application/pdf"),
    "image only": (hostile.image_only_pdf(), "application/pdf"),
    "deep nesting": (hostile.deep_nesting_pdf(), "application/pdf"),
    "page tree cycle": (hostile.page_tree_cycle_pdf(), "application/pdf"),
    "decompression bomb": (hostile.decompression_bomb_pdf(), "application/pdf"),
    "xobject fan-out": (hostile.xobject_fanout_pdf(), "application/pdf"),
    "many pages": (hostile.many_pages_pdf(), "application/pdf"),
    "a PNG": (hostile.png_file(), ""),
    "a letter": (b"Dear Sir, thank you for your letter of 3 March.\n", "text/plain"),
    "FIX not a confirmation": (b"8=FIX.4.4|9=5|35=8|10=000|", ""),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_or_unreadable_input_is_refused_and_the_service_keeps_serving(
    world: DocumentsWorld, name: str
) -> None:
    content, content_type = HOSTILE[name]
    before = world.documents_stub.ListPolicies(documents_pb2.ListPoliciesRequest())
    with pytest.raises(grpc.RpcError) as refused:
        _extract(world, content, content_type)
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT, refused.value.details()
    assert refused.value.details()
    assert _serving(world)
    assert world.documents_stub.ListPolicies(documents_pb2.ListPoliciesRequest()) == before


def test_a_document_over_the_size_limit_is_resource_exhausted(world: DocumentsWorld) -> None:
    with pytest.raises(grpc.RpcError) as refused:
        _extract(world, b"%PDF-1.4\n" + b"0" * (10 * 1024 * 1024), "application/pdf")
    assert refused.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert "10,485,760" in (refused.value.details() or "")
    assert _serving(world)


def test_an_unknown_mandate_hint_is_not_found(world: DocumentsWorld) -> None:
    with pytest.raises(grpc.RpcError) as refused:
        _extract(world, b"Trade Date: 2020-02-03\n", "text/plain", mandate_id="NO-SUCH-FUND")
    assert refused.value.code() == grpc.StatusCode.NOT_FOUND


@pytest.fixture
def world(documents_world: DocumentsWorld) -> DocumentsWorld:
    return documents_world
