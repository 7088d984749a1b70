"""The templated corpus (bench/documents/corpus/templated): every document, text or PDF, extracts
exactly its truth through its house's template, and extract_document gives each format to its
reader. PDFs are read with pypdf directly, as the service's sandboxed worker does.

The unseen group is never read here: it measures the generic reader, in
bench/documents/extraction_accuracy.py only."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pypdf
import pytest
from fpdf import FPDF

from services.documents.domain.extract import extract_document
from services.documents.domain.templates import CONFIDENCE, load_builtin_templates

CORPUS = Path(__file__).resolve().parents[3] / "bench" / "documents" / "corpus"
TEMPLATED = sorted((CORPUS / "templated").glob("*/*.truth.json"))
TEMPLATES = load_builtin_templates()


def pdf_text(content: bytes) -> list[str]:
    return [page.extract_text() or "" for page in pypdf.PdfReader(io.BytesIO(content)).pages]


def _document(truth_path: Path) -> bytes:
    stem = truth_path.name.removesuffix(".truth.json")
    for suffix in (".txt", ".pdf"):
        candidate = truth_path.with_name(stem + suffix)
        if candidate.exists():
            return candidate.read_bytes()
    raise AssertionError(f"{truth_path}: no document beside it")


def test_the_corpus_has_six_templated_layouts_of_twelve() -> None:
    layouts = {path.parent.name for path in TEMPLATED}
    assert layouts == {"halvorsen", "altmark", "thamesgate", "lacroix", "sakura", "rigi"}
    assert len(TEMPLATED) == 72


@pytest.mark.parametrize("truth_path", TEMPLATED, ids=lambda path: path.name.removesuffix(".truth.json"))
def test_every_templated_document_extracts_exactly_its_truth(truth_path: Path) -> None:
    truth = json.loads(truth_path.read_text(encoding="utf-8"))
    extraction = extract_document(_document(truth_path), truth["content_type"], TEMPLATES, pdf_text)
    assert {one.name: one.value for one in extraction.fields} == truth["fields"]
    assert extraction.layout == truth["layout"]
    assert extraction.format == ("pdf" if truth["content_type"] == "application/pdf" else "text")
    assert extraction.bond is (truth["kind"] == "bond")
    assert extraction.warnings == ()
    assert all(one.confidence == CONFIDENCE for one in extraction.fields if one.name != "currency")
    pages = {one.page for one in extraction.fields}
    assert pages == ({1} if extraction.format == "pdf" else {0})


# ---------------------------------------------------------------- extract_document's dispatch


def test_an_mt515_goes_to_its_parser_with_amounts_in_minor_units() -> None:
    path = CORPUS / "formats" / "mt515" / "mt515-03.txt"
    extraction = extract_document(path.read_bytes(), "text/plain", TEMPLATES, pdf_text)
    assert extraction.format == "mt515"
    assert extraction.value("gross_amount") == "97800.00"  # printed GBP97800,
    assert extraction.value("fees") == "490.00"


def test_a_fix_confirmation_goes_to_its_parser() -> None:
    path = CORPUS / "formats" / "fix44" / "fix44-01.fix"
    extraction = extract_document(path.read_bytes(), "text/plain", TEMPLATES, pdf_text)
    assert extraction.format == "fix44"
    assert extraction.layout == "fix44-confirmation"


def test_a_text_that_is_not_utf8_is_read_with_a_warning() -> None:
    text = "Example Brokers Ltd\nTrade date: 12/03/2020\nSide: Buy\nPrice: £4.25\n"
    extraction = extract_document(text.encode("cp1252"), "text/plain", TEMPLATES, pdf_text)
    assert extraction.layout == "generic"
    assert extraction.warnings[0].startswith("the document is not UTF-8")
    assert extraction.value("price") == "4.25"


def test_a_pdf_without_text_gives_no_fields_and_says_why() -> None:
    pdf = FPDF()
    pdf.add_page()
    extraction = extract_document(bytes(pdf.output()), "application/pdf", TEMPLATES, pdf_text)
    assert extraction.fields == ()
    assert "no text" in extraction.warnings[0]


def test_a_content_that_is_no_document_is_refused() -> None:
    with pytest.raises(ValueError, match="not accepted"):
        extract_document(b"GIF89a", "image/gif", TEMPLATES, pdf_text)
