"""Policy documents as passages (services/documents/domain/policies.py): Markdown with and without
front matter, nested headings, the errors a person gets, and the PDF-text heading heuristic."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import pytest

from services.documents.domain.policies import (
    PolicyDocument,
    parse_policy,
    policy_from_pdf_text,
    sections_from_pdf_text,
    slugify,
)

POLICIES = Path(__file__).resolve().parents[3] / "services" / "documents" / "policies"

NESTED = """---
policy_id: pricing
title: Pricing
version: "2.1"
effective_date: 2026-03-02
---

# Pricing

## Price Sources

The primary vendor prices every instrument.

## Stale Price and Rate Identification

### Stale Security Prices

A repeated price is flagged stale.

### Stale FX Rates

A rate unchanged for two days is stale.

## Overrides

A manual price needs the team lead.

#### Evidence

Keep the broker quotes.
"""


def _headings(document: PolicyDocument) -> list[str]:
    return [section.heading for section in document.sections]


# ---------------------------------------------------------------- Markdown


def test_a_shipped_policy_reads_its_front_matter_and_one_passage_per_section() -> None:
    document = parse_policy((POLICIES / "settlement-fails.md").read_bytes())
    assert (document.policy_id, document.title, document.version) == (
        "settlement-fails",
        "Settlement Fails",
        "1.0",
    )
    assert document.effective_date == date(2026, 1, 5)
    assert len(document.sections) == 12
    first = document.sections[0]
    assert first.heading == "Scope of This Policy"
    assert first.level == 2
    assert first.passage_id == "settlement-fails#scope-of-this-policy"
    assert first.path == ("Settlement Fails", "Scope of This Policy")
    assert first.text.startswith("This policy applies to every securities trade")
    assert first.text.endswith("is accountable for its completeness.")
    # Headings are kept as written, punctuation included.
    assert "Costs, Penalties and Compensation Claims" in _headings(document)
    assert "Buy-Ins and Cash Settlement of Long Fails" in _headings(document)


@pytest.mark.parametrize("path", sorted(POLICIES.glob("*.md")), ids=lambda p: p.stem)
def test_every_shipped_policy_parses_with_unique_passage_ids(path: Path) -> None:
    document = parse_policy(path.read_bytes())
    assert document.policy_id == path.stem
    ids = [section.passage_id for section in document.sections]
    assert len(ids) == len(set(ids))
    assert all(section.text and not section.text.startswith("#") for section in document.sections)


def test_a_parent_heading_without_text_yields_no_passage_but_stays_in_the_path() -> None:
    document = parse_policy(NESTED)
    assert (document.policy_id, document.title, document.version) == ("pricing", "Pricing", "2.1")
    assert document.effective_date == date(2026, 3, 2)
    assert _headings(document) == ["Price Sources", "Stale Security Prices", "Stale FX Rates", "Overrides"]
    stale = document.sections[1]
    assert stale.level == 3
    assert stale.path == ("Pricing", "Stale Price and Rate Identification", "Stale Security Prices")
    assert stale.context == "Pricing > Stale Price and Rate Identification > Stale Security Prices"
    assert stale.text == "A repeated price is flagged stale."
    # A ### after its sibling does not keep the sibling in its path; a ## closes both.
    assert document.sections[2].path == ("Pricing", "Stale Price and Rate Identification", "Stale FX Rates")
    assert document.sections[3].path == ("Pricing", "Overrides")


def test_a_fourth_level_heading_stays_in_the_body_of_its_section() -> None:
    overrides = parse_policy(NESTED).sections[-1]
    assert overrides.heading == "Overrides"
    assert overrides.text == "A manual price needs the team lead.\n\n#### Evidence\n\nKeep the broker quotes."


def test_a_parent_with_text_of_its_own_is_a_passage_beside_its_subsections() -> None:
    document = parse_policy(
        "# Cash\n\n## Accounts\n\nEach fund has accounts.\n\n### Currencies\n\nUSD and EUR.\n"
    )
    assert [(s.heading, s.level, s.text) for s in document.sections] == [
        ("Accounts", 2, "Each fund has accounts."),
        ("Currencies", 3, "USD and EUR."),
    ]
    assert document.sections[1].path == ("Cash", "Accounts", "Currencies")


def test_without_front_matter_the_title_is_the_first_heading_and_the_id_its_slug() -> None:
    document = parse_policy(b"# Securities Lending & Recalls\n\n## Recalls\n\nRecall by T+3.\n")
    assert document.title == "Securities Lending & Recalls"
    assert document.policy_id == "securities-lending-recalls"
    assert document.version == ""
    assert document.effective_date is None
    assert document.sections[0].passage_id == "securities-lending-recalls#recalls"


def test_values_given_by_the_caller_win_over_the_front_matter() -> None:
    document = parse_policy(
        NESTED, policy_id="pricing-eu", title="EU Pricing", version="3", effective_date=date(2027, 1, 4)
    )
    assert (document.policy_id, document.title, document.version) == ("pricing-eu", "EU Pricing", "3")
    assert document.effective_date == date(2027, 1, 4)
    assert document.sections[0].passage_id == "pricing-eu#price-sources"
    assert document.sections[0].path[0] == "EU Pricing"


def test_text_under_the_title_is_a_preamble_passage_of_level_one() -> None:
    document = parse_policy("# Fees\n\nThis policy covers fees.\n\n## Accrual\n\nDaily.\n")
    assert [(s.heading, s.level, s.path) for s in document.sections] == [
        ("Fees", 1, ("Fees",)),
        ("Accrual", 2, ("Fees", "Accrual")),
    ]
    assert document.sections[0].passage_id == "fees#fees"


def test_headings_in_code_fences_are_text_and_closing_hashes_are_dropped() -> None:
    document = parse_policy("# Runbook ##\n\n## Steps ##\n\n```\n## not a heading\n```\nDone.\n")
    assert document.title == "Runbook"
    assert _headings(document) == ["Steps"]
    assert "## not a heading" in document.sections[0].text


def test_a_repeated_heading_gets_a_numbered_passage_id() -> None:
    document = parse_policy("# P\n\n## Notes\n\nOne.\n\n## Notes\n\nTwo.\n\n## Notes\n\nThree.\n")
    assert [s.passage_id for s in document.sections] == ["p#notes", "p#notes-2", "p#notes-3"]


def test_a_byte_order_mark_and_windows_line_ends_are_read() -> None:
    document = parse_policy(
        b"\xef\xbb\xbf---\r\ntitle: 'Quoted Title'\r\n---\r\n# Other\r\n\r\n## A\r\n\r\nText.\r\n"
    )
    assert document.title == "Quoted Title"
    assert document.policy_id == "quoted-title"
    assert document.sections[0].text == "Text."


def test_unknown_front_matter_keys_blank_lines_and_comments_are_ignored() -> None:
    document = parse_policy("---\nowner: ops\n\n# a comment\npolicy_id: x-1\n---\n# T\n\n## A\n\nText.\n")
    assert document.policy_id == "x-1"


def test_slugify_folds_accents_and_punctuation() -> None:
    assert slugify("Règles d'Évaluation: Prix & FX") == "regles-d-evaluation-prix-fx"
    assert slugify("Buy-Ins and Cash Settlement") == "buy-ins-and-cash-settlement"
    assert slugify("日本") == ""


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"# Caf\xe9\n\n## A\n\ntext", "not UTF-8 text (byte 0xe9 at offset 5"),
        (b"", "the policy is empty"),
        ("  \n\n\t\n", "the policy is empty"),
        ("Just a paragraph of text.\n", "no Markdown headings"),
        ("#NoSpace\n\ntext\n", "no Markdown headings"),
        ("## Section\n\nText.\n", "no title"),
        ("# Title\n\n## A\n\n## B\n", "no text under any of them"),
        ("---\ntitle: T\n# T\n\n## A\n\ntext\n", "never closed"),
        ("---\nthis is not a pair\n---\n# T\n", "front matter line 2"),
        ("---\neffective_date: 05/01/2026\n---\n# T\n\n## A\n\ntext\n", "write it as YYYY-MM-DD"),
        ("---\npolicy_id: has space\n---\n# T\n\n## A\n\ntext\n", "is not usable"),
        ("# 日本\n\n## A\n\ntext\n", "cannot derive a policy id"),
        (b"# T\n\n## A\n\ntext\x00", "NUL bytes"),
    ],
)
def test_errors_say_what_is_wrong_and_what_to_do(content: bytes | str, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(".", r"\.")):
        parse_policy(content)


# ---------------------------------------------------------------- PDF text

PDF_PAGES = [
    """Counterparty Risk Procedure
1 Scope
This procedure applies to every
counterparty the firm trades with. It is
owned by operations.
2 Limits
2.1 Exposure Limits
Each counterparty has a limit set by the credit commit-
tee and reviewed yearly.
Page 1 of 2""",
    """Counterparty Risk Procedure
Breaches and Escalation
A breach is reported to the head of operations:
- the same day by email;
- with the exposure and the limit.
Page 2 of 2""",
]


def test_pdf_headings_numbered_and_title_case_with_furniture_removed() -> None:
    sections = sections_from_pdf_text(PDF_PAGES, policy_id="counterparty-risk")
    assert [(s.heading, s.level) for s in sections] == [
        ("Scope", 2),
        ("Exposure Limits", 3),
        ("Breaches and Escalation", 2),
    ]
    scope, limits, breaches = sections
    # The wrapped lines of a paragraph are joined again; the running header and page numbers are gone.
    assert (
        scope.text
        == "This procedure applies to every counterparty the firm trades with. It is owned by operations."
    )
    # A word broken by a hyphen at the end of a line is mended.
    assert limits.text == "Each counterparty has a limit set by the credit committee and reviewed yearly."
    assert limits.path == ("Counterparty Risk Procedure", "Limits", "Exposure Limits")
    # Bullets stay one per line.
    assert breaches.text == (
        "A breach is reported to the head of operations:\n- the same day by email;\n- with the exposure and the limit."
    )
    assert scope.passage_id == "counterparty-risk#scope"


def test_a_title_case_line_inside_a_paragraph_is_not_a_heading() -> None:
    pages = [
        "Cash Policy\nFunding\nThe fund keeps accounts with\nHudson Balanced Trust Company\nand reports daily.\n"
        "Short Line Without Body"
    ]
    sections = sections_from_pdf_text(pages)
    # The wrapped name follows an unfinished sentence; the last line has no body text after it.
    assert [s.heading for s in sections] == ["Funding"]
    assert sections[0].text == (
        "The fund keeps accounts with Hudson Balanced Trust Company and reports daily.\nShort Line Without Body"
    )


def test_lines_that_end_a_sentence_or_are_long_or_lower_case_are_not_headings() -> None:
    pages = [
        "Guide\nOverview\nEvery Trade Is Checked.\nthe analyst reviews it\n"
        "A Line That Has Far Too Many Words To Be Any Kind Of A Real Heading Here\nEnd."
    ]
    sections = sections_from_pdf_text(pages)
    assert [s.heading for s in sections] == ["Overview"]


def test_body_text_before_the_first_heading_is_a_preamble_under_the_title() -> None:
    sections = sections_from_pdf_text(["Fee Policy\nFees accrue daily.\nPayment\nMonthly in arrears."])
    assert [(s.heading, s.level, s.text) for s in sections] == [
        ("Fee Policy", 1, "Fees accrue daily."),
        ("Payment", 2, "Monthly in arrears."),
    ]


def test_a_pdf_without_text_or_without_headings_is_refused() -> None:
    with pytest.raises(ValueError, match="no extractable text"):
        sections_from_pdf_text(["", "  \n 3 \n"])
    with pytest.raises(ValueError, match="no headings were recognised"):
        sections_from_pdf_text(["this is all lower case text that goes on.\nand on."])


def test_policy_from_pdf_text_takes_the_title_from_the_first_line() -> None:
    document = policy_from_pdf_text(PDF_PAGES, version="1")
    assert document.title == "Counterparty Risk Procedure"
    assert document.policy_id == "counterparty-risk-procedure"
    assert document.sections[0].passage_id == "counterparty-risk-procedure#scope"
    renamed = policy_from_pdf_text(PDF_PAGES, title="CP Risk", policy_id="cp")
    assert renamed.sections[1].path == ("CP Risk", "Limits", "Exposure Limits")


def _render_pdf(markdown: str, numbered: bool) -> bytes:
    fpdf = pytest.importorskip("fpdf")

    class Manual(fpdf.FPDF):
        def header(self) -> None:
            self.set_font("Helvetica", size=8)
            self.cell(0, 5, "Operations Manual - Internal", new_x="LMARGIN", new_y="NEXT")

        def footer(self) -> None:
            self.set_y(-12)
            self.set_font("Helvetica", size=8)
            self.cell(0, 5, f"Page {self.page_no()} of {{nb}}")

    pdf = Manual(format="A4")
    pdf.set_creation_date(__import__("datetime").datetime(2000, 1, 1, tzinfo=__import__("datetime").UTC))
    pdf.add_page()
    numbers = [0, 0]
    for line in markdown.split("---", 2)[2].splitlines():
        line = line.replace("’", "'").replace("–", "-")
        if line.startswith("#"):
            marks, _, heading = line.partition(" ")
            if numbered and len(marks) == 2:
                numbers = [numbers[0] + 1, 0]
                heading = f"{numbers[0]} {heading}"
            elif numbered and len(marks) == 3:
                numbers[1] += 1
                heading = f"{numbers[0]}.{numbers[1]} {heading}"
            pdf.set_font("Helvetica", "B", 14 if len(marks) == 1 else 11)
            pdf.multi_cell(0, 6, heading, new_x="LMARGIN", new_y="NEXT")
        elif line.strip():
            pdf.set_font("Helvetica", size=10)
            pdf.multi_cell(0, 5, line, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


@pytest.mark.parametrize("numbered", [False, True], ids=["title-case", "numbered"])
def test_a_shipped_policy_printed_to_pdf_reads_back_with_the_same_sections(numbered: bool) -> None:
    """A real PDF (fpdf2, running header and page footer, wrapped lines) read by pypdf."""
    from pypdf import PdfReader

    markdown = (POLICIES / "pricing-and-stale-prices.md").read_text(encoding="utf-8")
    reader = PdfReader(io.BytesIO(_render_pdf(markdown, numbered)))
    assert len(reader.pages) >= 2
    document = policy_from_pdf_text([page.extract_text() for page in reader.pages], version="1.0")
    expected = parse_policy(markdown)
    assert document.title == "Pricing and Stale Prices"
    assert document.policy_id == "pricing-and-stale-prices"
    if numbered:
        assert [(s.heading, s.level, s.path) for s in document.sections] == [
            (s.heading, s.level, s.path) for s in expected.sections
        ]
    else:
        # Unnumbered, the ### subsections of "Stale Price and Rate Identification" read as level 2.
        assert [s.heading for s in document.sections] == [s.heading for s in expected.sections]
        assert {s.level for s in document.sections} == {2}
    assert [s.passage_id for s in document.sections] == [s.passage_id for s in expected.sections]
    for read, written in zip(document.sections, expected.sections, strict=True):
        assert " ".join(read.text.split()) == " ".join(
            written.text.replace("’", "'").replace("–", "-").split()
        )
