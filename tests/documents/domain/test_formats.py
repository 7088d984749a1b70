"""Which reader a document goes to, from its content type and its bytes, and how its text is
decoded. The contents are written here by hand (the starts of real files: %PDF-1.7, PK, PNG)."""

from __future__ import annotations

import re

import pytest

from services.documents.domain.formats import ACCEPTED_TYPES, decode_text, detect_format

PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n"
FIX_SOH = b"8=FIX.4.4\x019=5\x0135=AK\x0110=000\x01"
FIX_PIPE = b"8=FIX.4.4|9=5|35=AK|10=000|"
FIX_LOG = b"2020-03-12 18:00:00 [in] 8=FIX.4.4|9=5|35=AK|10=000|\n"
FIX_EXECUTION = b"8=FIX.4.4|9=5|35=8|10=000|"
MT515 = b"{1:F01BRKRUS33AXXX0000000000}{2:I515CLNTUS33XXXXN}{4:\r\n:16R:GENL\r\n:23G:NEWM\r\n-}"
MT515_BLOCK4 = b":16R:GENL\n:20C::SEME//REF\n:23G:NEWM\n:16S:GENL\n"
MT103 = b"{1:F01BANKBEBBAXXX0000000000}{2:I103BANKDEFFXXXXN}{4:\n:20:REF\n-}"
TEXT = b"TRADE CONFIRMATION\nWe have bought for your account 2,500 APPLE INC at USD 171.10\n"


@pytest.mark.parametrize(
    ("content", "content_type", "expected"),
    [
        (PDF, "application/pdf", "pdf"),
        (PDF, "Application/PDF; name=confirm.pdf", "pdf"),  # case and parameters ignored
        (PDF, "", "pdf"),
        (PDF, "application/octet-stream", "pdf"),
        (PDF, "text/plain", "pdf"),
        (MT515, "application/x-swift-mt515", "mt515"),
        (MT515, "application/vnd.swift.mt515", "mt515"),
        (MT515, "text/x-swift", "mt515"),
        (MT515_BLOCK4, "text/x-swift", "mt515"),
        (MT515, "", "mt515"),
        (MT515, "text/plain; charset=utf-8", "mt515"),
        (MT515_BLOCK4, "text/plain", "mt515"),
        (b"\xef\xbb\xbf" + MT515, "application/octet-stream", "mt515"),  # after a BOM
        (MT103, "", "mt515"),  # a SWIFT message: its parser says it is an MT103
        (FIX_SOH, "application/fix", "fix44"),
        (FIX_PIPE, "application/x-fix", "fix44"),
        (FIX_PIPE, "text/x-fix", "fix44"),
        (FIX_SOH, "", "fix44"),
        (FIX_PIPE, "text/plain", "fix44"),
        (FIX_LOG, "text/plain", "fix44"),
        (FIX_EXECUTION, "text/plain", "fix44"),  # a FIX message: its parser says it is not a Confirmation
        (TEXT, "text/plain", "text"),
        (TEXT, "", "text"),
        (TEXT, "application/octet-stream", "text"),
        (b":16R:GENL is mentioned in this e-mail, without a function of the message", "text/plain", "text"),
        (b"8=FIX.4.4 is the version we use", "text/plain", "text"),
        ("Commission: 12,50 \u20ac".encode("cp1252"), "text/plain", "text"),
    ],
)
def test_detect_format(content: bytes, content_type: str, expected: str) -> None:
    assert detect_format(content, content_type) == expected


@pytest.mark.parametrize(
    ("content", "content_type", "message"),
    [
        (b"", "application/pdf", "the document is empty"),
        (b"", "", "the document is empty"),
        (
            FIX_PIPE,
            "application/pdf",
            "content_type says PDF but the content is not a PDF (starts with b'8=FIX.4.4|9=5|35')",
        ),
        (
            b" %PDF-1.7",
            "application/pdf",
            "content_type says PDF but the content is not a PDF (starts with b' %PDF-1.7')",
        ),
        (
            TEXT,
            "application/x-swift-mt515",
            "content_type says SWIFT MT515 but the content is not a SWIFT message (starts with b'TRADE CONFIRMATI')",
        ),
        (
            MT515,
            "application/fix",
            "content_type says FIX but the content is not a FIX message (starts with b'{1:F01BRKRUS33AX')",
        ),
        (
            b"\x89PNG\r\n\x1a\n",
            "image/png",
            "content_type 'image/png' is not accepted: send one of " + ", ".join(ACCEPTED_TYPES),
        ),
        (
            PDF,
            "application/zip",
            "content_type 'application/zip' is not accepted: send one of application/fix",
        ),
        (
            b"PK\x03\x04\x14\x00",
            "application/octet-stream",
            "the content is a ZIP archive (a .docx, .xlsx or .zip), not a PDF or text",
        ),
        (b"\x89PNG\r\n\x1a\n", "", "the content is a PNG image, not a PDF or text"),
        (b"\xff\xd8\xff\xe0", "text/plain", "the content is a JPEG image, not a PDF or text"),
        (b"abc\x00def", "", "the content is binary, not a PDF or text (starts with b'abc\\x00def')"),
        (bytes(range(2, 30)) * 3, "", "the content is binary, not a PDF or text"),
    ],
)
def test_detect_format_refuses(content: bytes, content_type: str, message: str) -> None:
    with pytest.raises(ValueError, match="^" + re.escape(message)):
        detect_format(content, content_type)


def test_the_accepted_types_are_named() -> None:
    assert ACCEPTED_TYPES == (
        "application/fix",
        "application/octet-stream",
        "application/pdf",
        "application/vnd.swift.mt515",
        "application/x-fix",
        "application/x-swift-mt515",
        "text/plain",
        "text/x-fix",
        "text/x-swift",
    )


@pytest.mark.parametrize(
    ("content", "text", "warnings"),
    [
        ("Prix: 12,50 \u20ac".encode(), "Prix: 12,50 \u20ac", ()),
        (b"\xef\xbb\xbfBought", "Bought", ()),  # the BOM is dropped
        (
            "Prix: 12,50 \u20ac".encode("cp1252"),  # the euro sign is 0x80 in Windows-1252
            "Prix: 12,50 \u20ac",
            ("the document is not UTF-8 (byte 0x80 at offset 12); read as Windows-1252",),
        ),
        (
            b"caf\xe9 \x81",  # 0x81 is undefined in Windows-1252
            "caf\u00e9 \x81",
            ("the document is not UTF-8 (byte 0xe9 at offset 3); read as Latin-1",),
        ),
    ],
)
def test_decode_text(content: bytes, text: str, warnings: tuple[str, ...]) -> None:
    assert decode_text(content) == (text, warnings)
