"""Plate reads as CSV, one line at a time (a search's export is streamed, never built whole in memory).

Bounded: one export covers at most ``MAX_EXPORT_SPAN`` and ``MAX_EXPORT_ROWS`` reads. Safe to open in a
spreadsheet: a cell a spreadsheet would read as a formula (``= + - @``, or a tab or carriage return first) gets a
leading apostrophe (OWASP's CSV injection advice), so a plate or a sender's field typed as ``=HYPERLINK(...)``
stays text. Quoting is the csv module's.
"""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from domain.lpr.stored import StoredRead

CSV_COLUMNS = ("id", "camera_id", "plate", "captured_at", "confidence", "direction", "vehicle_color", "vehicle_type",
               "sender")
MAX_EXPORT_SPAN = timedelta(days=31)
MAX_EXPORT_ROWS = 1_000_000
EXPORT_PAGE_ROWS = 1000  # one short query per page: no connection is held while the client reads

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: str) -> str:
    """``value``, with a leading apostrophe if a spreadsheet would take it for a formula."""
    return "'" + value if value.startswith(_FORMULA_STARTS) else value


def _line(cells: list[str]) -> bytes:
    out = io.StringIO()
    # RFC 4180's CRLF: the csv module quotes a cell holding any character of the line terminator, so a CR or LF
    # inside a field stays inside its quoted cell instead of starting a new row.
    csv.writer(out, lineterminator="\r\n").writerow([safe_cell(cell) for cell in cells])
    return out.getvalue().encode()


def csv_header() -> bytes:
    return _line(list(CSV_COLUMNS))


def csv_line(read: StoredRead) -> bytes:
    """One read; empty cells for missing values; the csv module quotes what needs quoting."""
    return _line(["" if (value := getattr(read, column)) is None else str(value) for column in CSV_COLUMNS])
