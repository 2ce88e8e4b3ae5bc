"""Rules that moved out of the routes: keyset cursors, CSV lines of plate reads, a camera's stream on update."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from uuid import uuid4

import pytest

from domain.errors import DomainError
from domain.keyset import cursor_key, page_cursor
from domain.lpr.export import csv_header, csv_line
from domain.lpr.stored import StoredRead
from domain.stream_url import StreamUrl, patched_stream


def test_a_cursor_stands_for_the_last_rows_key_and_anything_else_is_refused() -> None:
    at, row_id = datetime(2026, 11, 30, 12, 0, 0, 123000, tzinfo=UTC), uuid4()
    assert cursor_key(page_cursor(at, row_id)) == (at, row_id)
    for bad in ("nope", "bm9wZQ==", "!!"):
        with pytest.raises(DomainError, match="bad cursor"):
            cursor_key(bad)


def test_a_read_is_one_csv_line_with_its_commas_quoted_not_lost() -> None:
    read = StoredRead(id=uuid4(), camera_id=uuid4(), plate="ABC1D23", captured_at=datetime(2026, 1, 1, tzinfo=UTC),
                      received_at=datetime(2026, 1, 1, tzinfo=UTC), confidence=None, direction="leaving",
                      vehicle_color="red, dark", vehicle_type=None, sender="generic", image_keys=[])
    (row,) = csv.DictReader(io.StringIO((csv_header() + csv_line(read)).decode()))
    assert row["plate"] == "ABC1D23" and row["vehicle_color"] == "red, dark" and row["confidence"] == ""
    assert row["captured_at"] == "2026-01-01 00:00:00+00:00"


def test_an_update_changes_only_the_stream_fields_given() -> None:
    current = StreamUrl("rtsp://10.0.0.1/live", "op", "secret")
    assert patched_stream(current, {"password": "new"}) == StreamUrl("rtsp://10.0.0.1/live", "op", "new")
    assert patched_stream(current, {"password": None}) == StreamUrl("rtsp://10.0.0.1/live", "op", None)
    moved = patched_stream(current, {"rtsp_url": "rtsp://10.0.0.2/main"})
    assert moved == StreamUrl("rtsp://10.0.0.2/main", "op", "secret")
    with pytest.raises(DomainError):
        patched_stream(current, {"rtsp_url": "http://10.0.0.2/"})
