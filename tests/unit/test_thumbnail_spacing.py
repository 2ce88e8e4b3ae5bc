"""Timeline thumbnails: one per minute of video, not one per chunk when chunks are short."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from domain.recording import ThumbnailCandidate, thumbnail_due, thumbnail_picks

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


def test_minute_long_chunks_each_get_one() -> None:
    assert thumbnail_due(None, T0 + MINUTE, MINUTE)
    assert thumbnail_due(T0, T0 + timedelta(seconds=119.9), MINUTE)  # the next, a GOP short of a minute


def test_ten_second_chunks_get_one_a_minute() -> None:
    last, given = None, []
    for i in range(18):  # three minutes
        start = T0 + timedelta(seconds=10 * i)
        if thumbnail_due(last, start + timedelta(seconds=10), MINUTE):
            last = start
            given.append(i)
    assert given == [0, 5, 10, 15]  # each the first chunk reaching a minute past the last thumbnail


def test_every_chunk_when_the_spacing_is_zero() -> None:
    assert all(thumbnail_due(T0, T0 + timedelta(seconds=s), timedelta(0)) for s in (0, 1, 3))


def _chunk(start_s: float, length_s: float) -> ThumbnailCandidate:
    start = T0 + timedelta(seconds=start_s)
    return ThumbnailCandidate(start, start + timedelta(seconds=length_s), f"c/{start_s}.mp4", None, 100)


def test_the_picks_are_the_chunks_due() -> None:
    chunks = [_chunk(10 * i, 10) for i in range(12)]
    assert [c.start for c in thumbnail_picks(chunks, MINUTE)] == [T0 + timedelta(seconds=s) for s in (0, 50, 100)]


def test_a_recording_gap_starts_the_spacing_again() -> None:
    chunks = [_chunk(0, 10), _chunk(600, 10), _chunk(610, 10)]  # ten minutes without video between
    assert [c.start - T0 for c in thumbnail_picks(chunks, MINUTE)] == [timedelta(0), timedelta(seconds=600)]
