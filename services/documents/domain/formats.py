"""Which reader a document needs, from its declared content type and its bytes.

detect_format gives "pdf", "mt515", "fix44" or "text":
- A specific content type is trusted, once the content agrees with it: application/pdf must
  start with %PDF-; an MT515 type (application/x-swift-mt515, application/vnd.swift.mt515,
  text/x-swift) must hold a SWIFT block 4 or a :16R:GENL sequence; a FIX type (application/fix,
  application/x-fix, text/x-fix) must hold 8=FIX. A mismatch raises ValueError saying what the
  content starts with.
- A missing or generic type ("", application/octet-stream, text/plain) is decided by the content:
  %PDF- is a PDF; 8=FIX with a 35= field (SOH or '|' separated) is FIX; {1:, {4: or :16R:GENL with
  :23G: is an MT515; other text is text. Any FIX message and any block-structured SWIFT message is
  given to its parser, which names the message type when it is not a Confirmation (35=AK) or an
  MT515: that says more than reading it as free text would.
- Any other type (image/png, application/zip, ...) raises ValueError naming the accepted types,
  and so does empty content, or binary content that is not a PDF (a ZIP, an image, ...).
Parameters of the type (; charset=...) and its case are ignored.

decode_text turns the bytes of a text, MT515 or FIX document into str: UTF-8 (a BOM dropped), else
Windows-1252, else Latin-1, which reads any byte, with a warning that says so. Legacy systems still
write confirmations in Windows-1252 (an e-acute or a pound sign as one byte); refusing them would
refuse real documents, and the characters that matter (digits, separators, ISINs) are ASCII in all
three, so the warning is enough.
"""

from __future__ import annotations

PDF_TYPES = frozenset({"application/pdf"})
MT515_TYPES = frozenset({"application/x-swift-mt515", "application/vnd.swift.mt515", "text/x-swift"})
FIX_TYPES = frozenset({"application/fix", "application/x-fix", "text/x-fix"})
GENERIC_TYPES = frozenset({"", "application/octet-stream", "text/plain"})
ACCEPTED_TYPES = tuple(sorted(PDF_TYPES | MT515_TYPES | FIX_TYPES | (GENERIC_TYPES - {""})))

_BINARY_KINDS = (
    (b"PK\x03\x04", "a ZIP archive (a .docx, .xlsx or .zip)"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"\xd0\xcf\x11\xe0", "an old Office document (.doc, .xls)"),
    (b"II*\x00", "a TIFF image"),
    (b"MM\x00*", "a TIFF image"),
)
# Control characters a text document may hold: tab, line feed, form feed, carriage return, and
# SOH, the FIX separator.
_TEXT_CONTROLS = frozenset(b"\t\n\x0c\r\x01")


def detect_format(content: bytes, content_type: str) -> str:
    """ "pdf", "mt515", "fix44" or "text" (see the module)."""
    declared = content_type.split(";", 1)[0].strip().lower()
    if not content:
        raise ValueError("the document is empty")
    if declared in PDF_TYPES:
        if not _is_pdf(content):
            raise ValueError(
                f"content_type says PDF but the content is not a PDF (starts with {_start(content)})"
            )
        return "pdf"
    if declared in MT515_TYPES:
        if not _is_swift(content, strict=False):
            raise ValueError(
                f"content_type says SWIFT MT515 but the content is not a SWIFT message (starts with {_start(content)})"
            )
        return "mt515"
    if declared in FIX_TYPES:
        if not _is_fix(content):
            raise ValueError(
                f"content_type says FIX but the content is not a FIX message (starts with {_start(content)})"
            )
        return "fix44"
    if declared not in GENERIC_TYPES:
        raise ValueError(
            f"content_type {declared!r} is not accepted: send one of {', '.join(ACCEPTED_TYPES)}"
        )
    if _is_pdf(content):
        return "pdf"
    _refuse_binary(content)
    if _is_fix(content):
        return "fix44"
    if _is_swift(content, strict=True):
        return "mt515"
    return "text"


def decode_text(content: bytes) -> tuple[str, tuple[str, ...]]:
    """The document's text and the warnings about its encoding (see the module)."""
    try:
        return content.decode("utf-8-sig"), ()
    except UnicodeDecodeError as error:
        where = f"byte {content[error.start]:#04x} at offset {error.start}"
    try:
        text = content.decode("cp1252")
        return text, (f"the document is not UTF-8 ({where}); read as Windows-1252",)
    except UnicodeDecodeError:
        return content.decode("latin-1"), (f"the document is not UTF-8 ({where}); read as Latin-1",)


def _start(content: bytes) -> str:
    return repr(content[:16])


def _is_pdf(content: bytes) -> bool:
    return content.startswith(b"%PDF-")


def _is_fix(content: bytes) -> bool:
    head = content.lstrip(b"\xef\xbb\xbf \t\r\n")
    at = head.find(b"8=FIX")
    # A log line may put a timestamp before the message; the message itself starts with 8=FIX.
    return 0 <= at < 200 and (b"\x0135=" in head or b"|35=" in head)


def _is_swift(content: bytes, strict: bool) -> bool:
    head = content.lstrip(b"\xef\xbb\xbf \t\r\n")
    blocks = head.startswith((b"{1:", b"{2:", b"{4:")) or b"{4:\r\n:" in head or b"{4:\n:" in head
    sequence = b":16R:GENL" in head
    if strict:
        return blocks or (sequence and b":23G:" in head)
    return blocks or sequence


def _refuse_binary(content: bytes) -> None:
    for magic, kind in _BINARY_KINDS:
        if content.startswith(magic):
            raise ValueError(f"the content is {kind}, not a PDF or text")
    sample = content[:4096]
    controls = sum(1 for byte in sample if byte < 0x20 and byte not in _TEXT_CONTROLS)
    if b"\x00" in sample or controls > len(sample) // 100:
        raise ValueError(f"the content is binary, not a PDF or text (starts with {_start(content)})")
