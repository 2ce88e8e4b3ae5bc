"""Storage watermarks: levels and how much to free."""

from __future__ import annotations

from domain.watermarks import Level, Watermarks


def test_levels_and_bytes_to_free() -> None:
    marks = Watermarks(warning=0.8, critical=0.9)
    assert [marks.level(used, 100) for used in (10, 80, 89, 90, 100)] == [
        Level.OK, Level.WARNING, Level.WARNING, Level.CRITICAL, Level.CRITICAL]
    assert marks.bytes_to_free(95, 100) == 15 and marks.bytes_to_free(50, 100) == 0
    assert marks.level(5, 0) == Level.OK, "unknown capacity is never an emergency"
