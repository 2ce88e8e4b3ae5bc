"""Plate reads as CSV, one line at a time (a search's export is streamed, never built whole in memory)."""

from __future__ import annotations

import csv
import io

from domain.lpr.stored import StoredRead

CSV_COLUMNS = ("id", "camera_id", "plate", "captured_at", "confidence", "direction", "vehicle_color", "vehicle_type",
               "sender")


def _line(cells: list[str]) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(cells)
    return out.getvalue().encode()


def csv_header() -> bytes:
    return _line(list(CSV_COLUMNS))


def csv_line(read: StoredRead) -> bytes:
    """One read; empty cells for missing values; the csv module quotes what needs quoting."""
    return _line(["" if (value := getattr(read, column)) is None else str(value) for column in CSV_COLUMNS])
