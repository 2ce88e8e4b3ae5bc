"""The bounds of a pushed plate read, field by field (domain/lpr/bounds.py), and the writer's month window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.lpr import bounds
from domain.lpr.bounds import OutOfBounds
from domain.lpr.dead_letter import printable_error

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)

TEXT_REFUSALS = [
    ("x" * 65, 64, "longer than 64"),
    ("a\x00b", 64, "control character (U+0000)"),
    ("a\x07b", 64, "control character (U+0007)"),
    ("a\u202eb", 64, "control character (U+202E)"),  # right-to-left override: a format character
    ("a\ud800b", 64, "lone surrogate"),
    ("a\udc80", 64, "lone surrogate"),
    ("line\u2028", 64, "control character"),
]


@pytest.mark.parametrize(("value", "limit", "reason"), TEXT_REFUSALS)
def test_free_text_is_bounded_and_printable(value: str, limit: int, reason: str) -> None:
    with pytest.raises(OutOfBounds, match=r"vehicle\.color") as refused:
        bounds.bounded_text(value, "vehicle.color", limit)
    assert reason in str(refused.value)


def test_ordinary_text_passes() -> None:
    for value in ("Prata", "São Paulo — câmera 1", "x" * 64, "ÁÉÍÓÚ ç", "車"):
        assert bounds.bounded_text(value, "field", 64) == value


TIMES = [
    (NOW + timedelta(hours=23), None),
    (NOW - timedelta(days=399), None),
    (NOW + timedelta(hours=25), "ahead"),
    (NOW - timedelta(days=401), "days old"),
    (datetime(9999, 12, 31, tzinfo=UTC), "ahead"),
    (datetime(1970, 1, 1, tzinfo=UTC), "days old"),
]


@pytest.mark.parametrize(("captured_at", "reason"), TIMES)
def test_capture_time_lies_within_a_day_ahead_and_400_days_back(captured_at: datetime, reason: str | None) -> None:
    if reason is None:
        assert bounds.capture_time(captured_at, NOW) == captured_at
    else:
        with pytest.raises(OutOfBounds, match=reason):
            bounds.capture_time(captured_at, NOW)


@pytest.mark.parametrize(("size", "ok"), [(0, False), (15, False), (16, True), (2 * 1024 * 1024, True),
                                          (2 * 1024 * 1024 + 1, False)])
def test_image_sizes(size: int, ok: bool) -> None:
    if ok:
        assert len(bounds.image_size(b"x" * size, 0)) == size
    else:
        with pytest.raises(OutOfBounds, match=r"images\[0\]"):
            bounds.image_size(b"x" * size, 0)


def test_the_writer_keeps_a_bounded_window_of_months() -> None:
    first, last = bounds.writable_months(NOW)
    assert first == datetime(2025, 10, 1, tzinfo=UTC) and last == datetime(2026, 12, 1, tzinfo=UTC)
    assert bounds.outside_writable_window(NOW - timedelta(days=405), NOW) is None, "a week's grace for a late writer"
    assert "outside the months" in (bounds.outside_writable_window(datetime(9999, 12, 31, 23, tzinfo=UTC), NOW) or "")
    assert "outside the months" in (bounds.outside_writable_window(NOW - timedelta(days=3 * 365), NOW) or "")
    assert "time zone" in (bounds.outside_writable_window(datetime(2026, 11, 1), NOW) or "")
    assert bounds.premade_months(NOW) == [datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 11, 1, tzinfo=UTC),
                                          datetime(2026, 12, 1, tzinfo=UTC)]
    assert bounds.premade_months(datetime(2026, 12, 31, 23, tzinfo=UTC))[2] == datetime(2027, 1, 1, tzinfo=UTC)


def test_a_dead_letters_error_is_storable_text() -> None:
    text = printable_error(ValueError("bad \x00 and \udc80" + "y" * 5000))
    assert "\x00" not in text and text.encode("utf-8") and len(text) <= 2000
    assert text.startswith("ValueError: bad \\x00 and \\udc80")
