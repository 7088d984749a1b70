"""`opsuite extract` and `opsuite ask` as a person types them, against the shared running documents
service (tests/documents/conftest.py): a market confirmation's PDF read and matched to its fill,
a covered question answered with its section cited, an uncovered one refused plainly, and wrong
input refused in one line with exit code 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from opsuite.market.v1 import market_pb2
from tests.cli.conftest import run_opsuite
from tests.documents.conftest import DocumentsWorld


@pytest.fixture
def env(documents_world: DocumentsWorld) -> dict[str, str]:
    return {"OPSUITE_DOCUMENTS_ADDR": documents_world.documents.address}


def _a_right_confirmation(world: DocumentsWorld) -> market_pb2.ConfirmationDocument:
    """The PDF of one of market's confirmations that carries no custodian error (none of the faults
    the world injected, CONFIRMED_ERRORS, is about its fill)."""
    faults = world.market_stub.ListInjectedFaults(market_pb2.ListInjectedFaultsRequest(page_size=1000))
    wrong = {f.fill_id for f in faults.faults}
    for record in world.event_log.read("market", 1, 100_000):
        if record.kind == "trade.confirmation":
            confirmation = market_pb2.MarketEvent.FromString(record.payload).confirmation
            if confirmation.fill_id not in wrong:
                return world.market_stub.GetConfirmation(
                    market_pb2.GetConfirmationRequest(confirmation_id=confirmation.confirmation_id)
                )
    raise AssertionError("market sent no confirmation without an error")


def test_opsuite_extract_reads_a_confirmation_pdf_and_names_its_fill(
    documents_world: DocumentsWorld, env: dict[str, str], tmp_path: Path
) -> None:
    document = _a_right_confirmation(documents_world)
    path = tmp_path / "confirmation.pdf"
    path.write_bytes(document.pdf)
    fill = document.confirmation.fill_id

    shown = run_opsuite("extract", str(path), env=env)
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert (
        lines[0].startswith("doc-")
        and f"a pdf confirmation, layout {document.confirmation.layout}" in lines[0]
    )
    assert lines[1].startswith(f"match: MATCHED fill {fill} of {document.confirmation.mandate_id}")
    assert "fields read" in shown.stdout and "net_amount" in shown.stdout

    as_json = run_opsuite("extract", str(path), "-o", "json", env=env)
    assert as_json.returncode == 0, as_json.stderr
    reply = json.loads(as_json.stdout)
    assert (reply["match"]["status"], reply["match"]["fill_id"]) == ("MATCH_STATUS_MATCHED", fill)
    assert reply["trade"]["format"] == "pdf" and reply["break_id"] == ""


def test_opsuite_extract_refuses_what_is_no_confirmation_in_one_line(
    env: dict[str, str], tmp_path: Path
) -> None:
    letter = tmp_path / "letter.txt"
    letter.write_text("Dear colleague, the quarterly offsite moves to Thursday. Regards, Ops\n")
    refused = run_opsuite("extract", str(letter), env=env)
    assert refused.returncode == 2 and refused.stdout == ""
    (line,) = refused.stderr.splitlines()
    assert line.startswith("opsuite extract: documents refused the request: ")

    missing = run_opsuite("extract", str(tmp_path / "nowhere.pdf"), env=env)
    assert (missing.returncode, missing.stderr.strip()) == (
        2,
        f"opsuite extract: cannot read {tmp_path / 'nowhere.pdf'}: No such file or directory",
    )


def test_opsuite_ask_answers_with_its_section_or_says_the_policies_do_not_cover_it(
    env: dict[str, str],
) -> None:
    # The README's example question (calibration question c13's wording): "Escalation Triggers" of
    # break-escalation.md, as test_assistant.py holds through gRPC.
    answered = run_opsuite(
        "ask", "How long can a double booking at the bank sit there before it gets escalated?", env=env
    )
    assert answered.returncode == 0, answered.stderr
    assert '- Break Escalation (break-escalation v1.0), "Escalation Triggers"' in answered.stdout

    refused = run_opsuite(
        "ask", "What", "is", "the", "dress", "code", "for", "the", "annual", "party?", env=env
    )
    assert refused.returncode == 0, refused.stderr
    assert refused.stdout.startswith("Not an answer: the policies do not cover this question.")
    assert "\n- " not in refused.stdout  # no citation

    as_json = run_opsuite("ask", "-o", "json", "what is the dress code for the annual party?", env=env)
    assert json.loads(as_json.stdout)["grounded"] is False

    empty = run_opsuite("ask", "  ", env=env)
    assert empty.returncode == 2 and empty.stderr.startswith("opsuite ask: give a question")
