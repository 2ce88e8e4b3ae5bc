"""A plain tabular PDF: a title, a key/value header and a table — the shape of every report we hand out.

Rendered with fpdf2's core fonts, which cover Latin-1 only: Portuguese is fine, anything else is
replaced (never dropped silently: it becomes ``?``), so a report never fails on an odd plate or name.
"""

from __future__ import annotations

from datetime import datetime

from fpdf import FPDF
from fpdf.fonts import FontFace

_FONT = "Helvetica"


def latin1(text: str) -> str:
    """``text`` as the core fonts can draw it."""
    return text.encode("latin-1", errors="replace").decode("latin-1")


def render_pdf(title: str, header: list[tuple[str, str]], columns: list[str], rows: list[list[str]], *,
               created_at: datetime | None = None) -> bytes:
    """An A4 PDF: ``title``, then ``header`` as "key: value" lines, then ``rows`` under ``columns``.

    With ``created_at`` the PDF says it was made then, and the same content gives the same bytes (a signed
    report's manifest can be fetched apart from it); without, it says now."""
    pdf = FPDF(format="A4")
    if created_at is not None:
        pdf.set_creation_date(created_at)
    pdf.set_title(latin1(title))
    pdf.set_creator("GT-Vision")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    pdf.set_font(_FONT, style="B", size=14)
    pdf.multi_cell(0, 8, latin1(title), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.set_font(_FONT, size=9)
    for key, value in header:
        pdf.multi_cell(0, 5, latin1(f"{key}: {value}"), new_x="LMARGIN", new_y="NEXT")
    if columns:
        pdf.ln(3)
        pdf.set_font(_FONT, size=8)
        with pdf.table(headings_style=FontFace(emphasis="BOLD"), text_align="LEFT") as table:
            table.row([latin1(c) for c in columns])
            for row in rows:
                table.row([latin1(cell) for cell in row])
    return bytes(pdf.output())
