"""Hostile PDFs for the parsing sandbox, each built in memory on demand (no binary file is committed).

Every builder is deterministic: the same bytes on every call (random bytes come from a seeded
generator; fpdf2 output has a fixed creation date). The costly ones are cached, so a test module
may call them freely. Hand-written files go through `raw_pdf`, which lays out numbered objects and
writes a correct cross-reference table, so each file is broken only where it means to be.

What each one attacks:

- `normal_pdf`: not hostile; a one-page confirmation in Courier, to show the sandbox still works.
- `encrypted_pdf`: a password-protected copy of the normal one (RC4-128, no extra dependency).
- `truncated_pdf`: the first half of a real PDF (no %%EOF, no xref, the page stream cut).
- `corrupt_pdf`: a %PDF- header followed by seeded random bytes.
- `garbled_pdf`: a real PDF's objects overwritten with random bytes; header, xref and %%EOF intact.
- `broken_xref_pdf`: the normal PDF with every xref offset wrong (recoverable: pypdf rebuilds it).
- `missing_root_pdf`: an xref and trailer pointing at nothing: /Root names an object that is absent.
- `empty_file`: zero bytes.
- `zero_page_pdf`: a well-formed PDF whose page tree has no pages.
- `decompression_bomb_pdf`: a page whose content is 16 FlateDecode streams that each inflate to
  70 MB (just under pypdf's per-stream ceiling of 75 MB): 1.1 GB in all from 1.7 MB of file.
- `single_stream_bomb_pdf`: one FlateDecode content stream that inflates to 1 GiB from ~1 MB.
- `xobject_fanout_pdf`: form XObjects each drawing the next one twice, 40 levels deep: 2**40
  draws a page for the text extractor to walk, on 8 pages, from a file of a few KB.
- `xobject_cycle_pdf`: a form XObject that draws itself.
- `deep_nesting_pdf`: 100,000 levels of `[[[[...` inside the page dictionary;
  `deep_content_nesting_pdf` the same inside the page's content stream.
- `page_tree_cycle_pdf`: a /Pages node whose /Kids contains its own parent.
- `many_pages_pdf`: 5,000 pages sharing one content stream (~450 KB).
- `image_only_pdf`: one page that draws an image and no text (what a scanner produces).
- `png_file`: a PNG signature and header chunk, not a PDF at all.
"""

from __future__ import annotations

import functools
import io
import random
import re
import struct
import zlib

from fpdf import FPDF
from PIL import Image
from pypdf import PdfReader, PdfWriter

from services.market.pdf import PDF_CREATION_DATE, render_confirmation_pdf

CONFIRMATION_TEXT = """\
KESTREL CAPITAL MARKETS LTD                     CONTRACT NOTE

+--------------+----------+-------------+-------------+-----+----------+
| CONTRACT REF | ACCOUNT  | TRADE DATE  | SETTLE DATE | B/S | QUANTITY |
+--------------+----------+-------------+-------------+-----+----------+
| CNF-0001     | M-GROWTH | 12-MAR-2020 | 16-MAR-2020 | BUY | 1200     |
+--------------+----------+-------------+-------------+-----+----------+

+-----------+------------+------+-----------+
| GROSS     | COMMISSION | FEES | NET       |
+-----------+------------+------+-----------+
| 148140.00 | 14.81      | 1.37 | 148156.18 |
+-----------+------------+------+-----------+

AMOUNTS IN USD. E&OE.
"""

_A4 = b"/MediaBox [0 0 595 842]"
_FONT = b"/Resources << /Font << /F1 << /Type /Font /Subtype /Type1 /BaseFont /Courier >> >> >>"
_HELLO = b"BT /F1 12 Tf 72 720 Td (hello) Tj ET"


def raw_pdf(objects: list[bytes], *, root: int = 1, header: bytes = b"%PDF-1.7") -> bytes:
    """A PDF of the given object bodies, numbered from 1, with a correct xref table and trailer."""
    out = io.BytesIO()
    out.write(header + b"\n%\xe2\xe3\xcf\xd3\n")
    offsets: list[int] = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(
        b"trailer\n<< /Size %d /Root %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, root, xref)
    )
    return out.getvalue()


def stream(data: bytes, extra: bytes = b"") -> bytes:
    """An uncompressed stream object's body."""
    return b"<< /Length %d %s>>\nstream\n" % (len(data), extra) + data + b"\nendstream"


def flate_stream(compressed: bytes) -> bytes:
    """A FlateDecode stream object's body around already compressed bytes."""
    return stream(compressed, b"/Filter /FlateDecode ")


def one_page(content: bytes, page_extra: bytes = b"") -> bytes:
    """A one-page PDF drawing `content` with Courier as /F1."""
    return raw_pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R " + _A4 + b" " + _FONT + b" /Contents 4 0 R " + page_extra + b">>",
            stream(content),
        ]
    )


@functools.cache
def normal_pdf() -> bytes:
    return render_confirmation_pdf(CONFIRMATION_TEXT, title="Confirmation CNF-0001")


@functools.cache
def encrypted_pdf() -> bytes:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(normal_pdf())))
    writer.encrypt(user_password="secret", owner_password="owner", algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    # pypdf draws the second half of the file /ID at random; the key depends on the first half only,
    # so a fixed one of the same length keeps the file valid (and every offset where it was).
    return re.sub(rb"(/ID \[ <[0-9a-f]{32}> <)[0-9a-f]{32}>", rb"\g<1>" + b"0" * 32 + b">", out.getvalue())


def truncated_pdf() -> bytes:
    content = normal_pdf()
    return content[: len(content) // 2]


def corrupt_pdf() -> bytes:
    """A %PDF- header and 8 KiB of seeded random bytes."""
    return b"%PDF-1.7\n" + random.Random(20240611).randbytes(8192)


def garbled_pdf() -> bytes:
    """The normal PDF with everything between its header and its xref overwritten with random bytes."""
    content = normal_pdf()
    start, end = content.index(b"1 0 obj"), content.rindex(b"\nxref\n")
    return content[:start] + random.Random(7).randbytes(end - start) + content[end:]


def broken_xref_pdf() -> bytes:
    """The normal PDF with every xref offset and the startxref pointing past the end of the file.

    Recoverable: pypdf (strict=False) finds the objects by scanning, as viewers do.
    """
    content = re.sub(rb"\d{10} 00000 n", b"0099999999 00000 n", normal_pdf())
    return re.sub(rb"startxref\s+\d+", b"startxref\n99999999", content)


def missing_root_pdf() -> bytes:
    """An xref and trailer that lead nowhere: /Root names object 9, which the file does not hold."""
    return raw_pdf([b"<< /Type /Pages /Kids [] /Count 0 >>"], root=9)


def empty_file() -> bytes:
    return b""


@functools.cache
def zero_page_pdf() -> bytes:
    out = io.BytesIO()
    PdfWriter().write(out)
    return out.getvalue()


def _inflating_to(size: int, *, fill: bytes = b" ") -> bytes:
    """zlib data that inflates to `size` bytes of `fill` (whitespace: a valid, endless content stream).

    Built in about a megabyte a second from one compressed block repeated: after a full flush the
    compressor starts afresh, so the same input gives the same bytes; the checksum is computed.
    """
    block = 1 << 20
    assert size % block == 0 and block % len(fill) == 0
    chunk = fill * (block // len(fill))
    compressor = zlib.compressobj(9)
    head = compressor.compress(chunk) + compressor.flush(zlib.Z_FULL_FLUSH)
    repeat = compressor.compress(chunk) + compressor.flush(zlib.Z_FULL_FLUSH)
    tail = compressor.flush(zlib.Z_FINISH)
    blocks = size // block
    body = head + repeat * (blocks - 1)
    # The deflate stream ends with an empty final block; the adler32 of the whole output follows.
    # Only the zlib trailer depends on the number of blocks, so rebuild it rather than inflating.
    deflate_end = tail[:-4]
    checksum = 1
    for _ in range(blocks):
        checksum = zlib.adler32(chunk, checksum)
    return body + deflate_end + struct.pack(">I", checksum)


@functools.cache
def single_stream_bomb_pdf() -> bytes:
    return one_page_flate(_inflating_to(1 << 30))


def one_page_flate(compressed: bytes) -> bytes:
    return raw_pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R " + _A4 + b" " + _FONT + b" /Contents 4 0 R >>",
            flate_stream(compressed),
        ]
    )


@functools.cache
def decompression_bomb_pdf(streams: int = 16) -> bytes:
    """One page whose /Contents is `streams` FlateDecode streams of 70 MB of text operators each.

    Each stream stays under pypdf's per-stream ceiling (75 MB); together they inflate to 1.1 GB from
    about 1.7 MB of file. pypdf joins a page's content streams before it reads them: what stops it is
    its limit on the joined output or, before that, the worker's memory limit.
    """
    # "(x) Tj " shows text, so an extractor without limits would have to work through every byte.
    inflating = flate_stream(_inflating_to(70 << 20, fill=b"(x) Tj  "))
    contents = b" ".join(b"%d 0 R" % (4 + index) for index in range(streams))
    return raw_pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R " + _A4 + b" " + _FONT + b" /Contents [" + contents + b"] >>",
            *[inflating] * streams,
        ]
    )


def xobject_fanout_pdf(levels: int = 40, pages: int = 8) -> bytes:
    """Form XObject /X0 draws /X1 twice, /X1 draws /X2 twice, ...: 2**levels text draws a page.

    pypdf stops after 5,000 form invocations per page, which still costs seconds of CPU a page;
    `pages` pages that all draw /X0 multiply that.
    """
    first = 3 + 2 * pages
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b""]
    kids = []
    for index in range(pages):
        page, content = 3 + 2 * index, 4 + 2 * index
        kids.append(b"%d 0 R" % page)
        objects.append(
            b"<< /Type /Page /Parent 2 0 R " + _A4 + b" /Resources << /XObject << /X0 %d 0 R >> >> "
            b"/Contents %d 0 R >>" % (first, content)
        )
        objects.append(stream(b"/X0 Do"))
    objects[1] = b"<< /Type /Pages /Kids [" + b" ".join(kids) + b"] /Count %d >>" % pages
    for level in range(levels):
        if level + 1 < levels:
            resources = b"/Resources << /XObject << /X%d %d 0 R >> >>" % (level + 1, first + level + 1)
            draw = b"/X%d Do /X%d Do" % (level + 1, level + 1)
        else:
            resources = _FONT
            draw = _HELLO
        objects.append(stream(draw, b"/Type /XObject /Subtype /Form /BBox [0 0 595 842] " + resources + b" "))
    return raw_pdf(objects)


def xobject_cycle_pdf() -> bytes:
    """A form XObject that draws itself (and some text): recursion without end, if followed."""
    form = b"/Type /XObject /Subtype /Form /BBox [0 0 595 842] /Resources << /XObject << /X0 5 0 R >> "
    return raw_pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R " + _A4 + b" /Resources << /XObject << /X0 5 0 R >> "
            b"/Font << /F1 << /Type /Font /Subtype /Type1 /BaseFont /Courier >> >> >> /Contents 4 0 R >>",
            stream(_HELLO + b" /X0 Do"),
            stream(
                _HELLO + b" /X0 Do",
                form + b"/Font << /F1 << /Type /Font /Subtype /Type1 /BaseFont /Courier >> >> >> ",
            ),
        ]
    )


def deep_nesting_pdf(depth: int = 100_000) -> bytes:
    """`depth` levels of nested arrays in the page dictionary."""
    nested = b"[" * depth + b"]" * depth
    return one_page(_HELLO, page_extra=b"/Nested " + nested + b" ")


def deep_content_nesting_pdf(depth: int = 100_000) -> bytes:
    """`depth` levels of nested arrays as the operand of a TJ in the page's content stream."""
    return one_page(b"BT /F1 12 Tf 72 720 Td " + b"[" * depth + b"]" * depth + b" TJ ET")


def page_tree_cycle_pdf() -> bytes:
    """The root /Pages (2) has kids 3 (a page) and 5 (a /Pages node) whose only kid is 2 again."""
    return raw_pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R 5 0 R] /Count 2 >>",
            b"<< /Type /Page /Parent 2 0 R " + _A4 + b" " + _FONT + b" /Contents 4 0 R >>",
            stream(_HELLO),
            b"<< /Type /Pages /Parent 2 0 R /Kids [2 0 R] /Count 1 >>",
        ]
    )


@functools.cache
def many_pages_pdf(pages: int = 5_000) -> bytes:
    """`pages` page objects that share one content stream and one resource dictionary."""
    first_page = 5
    kids = b" ".join(b"%d 0 R" % (first_page + index) for index in range(pages))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [" + kids + b"] /Count %d " % pages + _A4 + b" " + _FONT + b" >>",
        stream(_HELLO),
        b"<< >>",
    ]
    objects += [b"<< /Type /Page /Parent 2 0 R /Contents 3 0 R >>"] * pages
    return raw_pdf(objects)


@functools.cache
def image_only_pdf() -> bytes:
    """One page with a grey 64x64 image and no text, as a scanner would send it."""
    image = Image.new("L", (64, 64), color=128)
    pdf = FPDF(format="A4")
    pdf.set_creation_date(PDF_CREATION_DATE)
    pdf.add_page()
    pdf.image(image, x=10, y=10, w=100)
    return bytes(pdf.output())


def png_file() -> bytes:
    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + struct.pack(">I", len(ihdr))
        + b"IHDR"
        + ihdr
        + struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))
    )
