"""Which hours the orphan sweep lists next, and what it calls an orphan."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from domain.orphans import compare, hours_to_sweep

NOW = datetime(2026, 11, 23, 12, 30, tzinfo=UTC)


def test_hours_resume_where_the_last_sweep_stopped_and_leave_the_unsettled_ones() -> None:
    created = datetime(2026, 11, 23, 5, 10, tzinfo=UTC)
    first = hours_to_sweep(None, created, NOW, limit=3)
    assert first == [datetime(2026, 11, 23, h, tzinfo=UTC) for h in (5, 6, 7)]
    rest = hours_to_sweep(first[-1] + timedelta(hours=1), created, NOW, limit=100)
    assert rest == [datetime(2026, 11, 23, h, tzinfo=UTC) for h in (8, 9)], "10:00 and later may still be uploading"
    assert hours_to_sweep(datetime(2026, 11, 23, 10, tzinfo=UTC), created, NOW, limit=100) == []


def test_orphans_both_ways() -> None:
    found = compare(objects=["a.mp4", "a.jpg", "b.mp4", "stray.mp4", "queued.mp4"],
                    row_keys=["a.mp4", "a.jpg", "b.mp4", "lost.mp4"], also_expected=["queued.mp4"])
    assert found.objects_without_rows == ["stray.mp4"]
    assert found.rows_without_objects == ["lost.mp4"]
