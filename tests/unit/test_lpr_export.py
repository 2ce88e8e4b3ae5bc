"""The LPR CSV export's cells (domain/lpr/export.py): a spreadsheet never takes a read's field for a formula."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from uuid import uuid4

import pytest

from domain.lpr.export import csv_header, csv_line, safe_cell
from domain.lpr.stored import StoredRead


def _read(**fields: object) -> StoredRead:
    values: dict[str, object] = {
        "id": uuid4(), "camera_id": uuid4(), "plate": "ABC1D23", "captured_at": datetime(2026, 1, 1, tzinfo=UTC),
        "received_at": datetime(2026, 1, 1, tzinfo=UTC), "confidence": 0.9, "direction": "in",
        "vehicle_color": "red", "vehicle_type": "car", "sender": "generic", "image_keys": []}
    return StoredRead(**{**values, **fields})  # type: ignore[arg-type]


@pytest.mark.parametrize("value", ['=HYPERLINK("http://x","y")', "+1+1", "-2+3", "@SUM(A1)", "\tcmd", "\r=1"])
def test_a_formula_looking_cell_gets_a_leading_apostrophe(value: str) -> None:
    assert safe_cell(value) == "'" + value
    (row,) = csv.DictReader(io.StringIO((csv_header() + csv_line(_read(vehicle_color=value))).decode(),
                                        newline=""))
    assert row["vehicle_color"] == "'" + value


def test_a_formula_in_the_plate_and_a_comma_both_survive_as_text() -> None:
    (row,) = csv.DictReader(io.StringIO((csv_header() + csv_line(
        _read(plate="=1+2", direction='in, "north"'))).decode()))
    assert row["plate"] == "'=1+2" and row["direction"] == 'in, "north"'


@pytest.mark.parametrize("value", ["ABC1D23", "0.5", "", "a=b", "x-1"])
def test_ordinary_cells_are_unchanged(value: str) -> None:
    assert safe_cell(value) == value


@pytest.mark.parametrize("value", ["red\rblue", "red\nblue", "red\r\n=1+1"])
def test_a_line_break_inside_a_field_never_starts_a_row(value: str) -> None:
    rows = list(csv.DictReader(io.StringIO((csv_header() + csv_line(_read(vehicle_color=value))).decode(),
                                           newline="")))
    assert len(rows) == 1 and rows[0]["vehicle_color"] == value
