"""A confirmation's text as the PDF a broker would send: rendering is I/O on a library, so it lives
outside the simulation, which produces only the text (services/market/sim/confirmations.py)."""

from __future__ import annotations

import datetime as dt

# PDFs carry a creation date; a fixed one keeps the same document byte-identical run after run.
PDF_CREATION_DATE = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)


def render_confirmation_pdf(text: str, *, title: str, created: dt.datetime = PDF_CREATION_DATE) -> bytes:
    """One A4 page (more if long) of the text in Courier, so fixed-width layouts keep their columns.

    Deterministic: fpdf2 derives the file /ID from the content and the creation date, and the
    creation date is fixed. Courier is a core PDF font limited to Latin-1; other characters become "?".
    """
    # Imported here, not with the module: fpdf2 (with the Pillow and fontTools it loads) costs the
    # market process about 58 MiB resident, and a PDF is rendered only when GetConfirmation asks
    # for one, which most runs never do.
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.set_creation_date(created)
    pdf.set_title(title)
    pdf.set_author("opsuite market simulation")
    pdf.set_creator("opsuite")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    pdf.set_font("Courier", size=9)
    for line in text.splitlines():
        safe = line.encode("latin-1", errors="replace").decode("latin-1")
        pdf.multi_cell(0, 4.5, safe if safe else " ", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
