"""One entry point for a confirmation in any format: the reader it needs, then canonical amounts.

extract_document decides the format by formats.detect_format and gives the document to its reader:
an MT515 to mt515.parse_mt515, a FIX 4.4 Confirmation to fix44.parse_fix44, text and PDF to
extract_text_document. A PDF's text is read by the function the caller passes (the service runs
pypdf in a sandboxed worker process, tests call pypdf directly): one string per page.

extract_text_document reads a text or the pages of a PDF with the template whose keywords match
(templates.select_template, then apply_template) and, when none does, with the generic reader
(generic.read_generic, layout "generic"). Nothing is filled in that the document does not print:
no field is derived from the others.

Every extraction's amounts then carry exactly their currency's minor units when the document
printed fewer (an MT515 prints USD 97800, as 97800,), so "97800" in dollars becomes "97800.00" and
JPY stays whole: the figure is the same, only written the canonical way. An amount printed with
more decimals than its currency has is left as printed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from decimal import Decimal
from types import MappingProxyType

from services.documents.domain.fields import Extraction, Field
from services.documents.domain.fix44 import parse_fix44
from services.documents.domain.formats import decode_text, detect_format
from services.documents.domain.generic import read_generic
from services.documents.domain.mt515 import parse_mt515
from services.documents.domain.templates import MONEY_FIELDS, Template, apply_template, select_template

# ISO 4217 minor units where they are not 2.
MINOR_UNITS: Mapping[str, int] = MappingProxyType(
    {
        "JPY": 0, "KRW": 0, "ISK": 0, "CLP": 0, "VND": 0, "XOF": 0, "XAF": 0, "PYG": 0, "UGX": 0,
        "BHD": 3, "KWD": 3, "OMR": 3, "JOD": 3, "TND": 3, "LYD": 3, "IQD": 3,
    }
)  # fmt: skip

PdfText = Callable[[bytes], Sequence[str]]


def extract_text_document(pages: Sequence[str], *, is_pdf: bool, templates: Sequence[Template]) -> Extraction:
    """The fields of a text document (one page) or of a PDF's pages (see the module)."""
    template = select_template("\n".join(pages), templates)
    if template is not None:
        extraction = apply_template(template, pages, is_pdf=is_pdf)
    else:
        extraction = read_generic(pages, is_pdf=is_pdf)
    return to_minor_units(extraction)


def extract_document(
    content: bytes, content_type: str, templates: Sequence[Template], pdf_text: PdfText
) -> Extraction:
    """The fields of a confirmation in any accepted format (see the module); ValueError when the
    content is not one (formats.detect_format) or a message is not a confirmation."""
    kind = detect_format(content, content_type)
    if kind == "pdf":
        pages = list(pdf_text(content))
        if not any(page.strip() for page in pages):
            return Extraction(
                format="pdf",
                layout="none",
                fields=(),
                warnings=("the PDF has no text to read (a scanned image?): nothing was extracted",),
            )
        return extract_text_document(pages, is_pdf=True, templates=templates)
    text, decoding = decode_text(content)
    if kind == "mt515":
        extraction = to_minor_units(parse_mt515(text))
    elif kind == "fix44":
        extraction = to_minor_units(parse_fix44(text))
    else:
        extraction = extract_text_document([text], is_pdf=False, templates=templates)
    if decoding:
        extraction = replace(extraction, warnings=(*decoding, *extraction.warnings))
    return extraction


def to_minor_units(extraction: Extraction) -> Extraction:
    """The extraction with each amount written to its currency's minor units (see the module)."""
    currency = extraction.value("currency")
    if currency is None:
        return extraction
    places = MINOR_UNITS.get(currency, 2)
    fields: list[Field] = []
    for one in extraction.fields:
        if one.name in MONEY_FIELDS:
            amount = Decimal(one.value)
            exponent = amount.as_tuple().exponent
            if isinstance(exponent, int) and -exponent < places:
                one = replace(one, value=format(amount.quantize(Decimal(1).scaleb(-places)), "f"))
        fields.append(one)
    return replace(extraction, fields=tuple(fields))
