"""Pure rules behind watching: timeline gaps, HLS playlists, clip plans, mosaic slots."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import m3u8
import pytest

from domain.clips import plan_clip
from domain.hls import LiveSegment, PlaybackChunk, live_playlist, vod_playlist
from domain.mosaic import Layout, fill_slots
from domain.recording import FragmentEntry, IndexedChunk, fragment_at, to_epoch_ms
from domain.timeline import Span, gaps

T0 = datetime(2026, 3, 8, 6, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def chunk(start_s: float, gops: int, *, new_run: bool, gop_ms: int = 2000) -> PlaybackChunk:
    fragments = tuple(FragmentEntry(800 + i * 1000, 1000, i * gop_ms, gop_ms) for i in range(gops))
    return PlaybackChunk(at(start_s), f"https://s3/chunk-{start_s}.mp4?sig=x", 800, fragments, new_run)


def test_gaps_are_the_range_minus_the_runs() -> None:
    runs = [Span(at(-10), at(10)), Span(at(30), at(40)), Span(at(50), at(70))]
    assert gaps(runs, at(0), at(60)) == [Span(at(10), at(30)), Span(at(40), at(50))]
    assert gaps([], at(0), at(5)) == [Span(at(0), at(5))]
    assert gaps(runs, at(31), at(39)) == []


def test_vod_playlist_addresses_byte_ranges_and_marks_the_gap() -> None:
    chunks = [chunk(0, 3, new_run=True), chunk(6, 3, new_run=False), chunk(20, 2, new_run=True)]
    text = vod_playlist(chunks, at(3), at(21))
    playlist = m3u8.loads(text)
    assert playlist.is_endlist and playlist.playlist_type == "vod" and playlist.version == 7
    starts = [(s.uri.split("?")[0].rsplit("-", 1)[1], s.byterange) for s in playlist.segments]
    assert starts == [("0.mp4", "1000@1800"), ("0.mp4", "1000@2800"),  # from the keyframe before 3 s
                      ("6.mp4", "1000@800"), ("6.mp4", "1000@1800"), ("6.mp4", "1000@2800"),
                      ("20.mp4", "1000@800")]
    assert [s.discontinuity for s in playlist.segments] == [False] * 5 + [True]
    assert playlist.segments[0].program_date_time == at(2)
    assert playlist.segments[5].program_date_time == at(20)
    assert playlist.segments[0].init_section.byterange == "800@0"
    assert playlist.target_duration == 2


def test_live_playlist_slides_and_restarts_at_a_new_init() -> None:
    segments = [LiveSegment(7, 1, to_epoch_ms(at(0)), 2.0), LiveSegment(8, 1, to_epoch_ms(at(2)), 2.0),
                LiveSegment(9, 3, to_epoch_ms(at(10)), 1.5)]
    playlist = m3u8.loads(live_playlist(segments, lambda i: f"init-{i}.mp4", lambda s: f"{s}.m4s"))
    assert not playlist.is_endlist and playlist.media_sequence == 7
    assert [s.uri for s in playlist.segments] == ["7.m4s", "8.m4s", "9.m4s"]
    assert [s.discontinuity for s in playlist.segments] == [False, False, True]
    assert playlist.segments[2].init_section.uri == "init-3.mp4"


def _chunk(start: datetime, key: str, init_length: int) -> IndexedChunk:
    """A minute of 2 s fragments right after the init segment."""
    fragments = tuple(FragmentEntry(init_length + i * 1000, 1000, i * 2000, 2000) for i in range(30))
    return IndexedChunk(id=0, camera_id=uuid4(), start=start, end=start + timedelta(seconds=60), object_key=key,
                        bytes=init_length + 30_000, init_length=init_length, codec="h264", width=640, height=360,
                        fragments=fragments)


def test_a_clip_starts_at_the_keyframe_before_start_and_covers_end() -> None:
    rows = [_chunk(at(0), "a", 800), _chunk(at(60), "b", 700)]
    plan = plan_clip(rows, at(57.5), at(62.1))
    assert [(p.object_key, p.offset, p.length, p.wall_start_ms, p.duration_ms) for p in plan] == [
        ("a", 800 + 28 * 1000, 2000, to_epoch_ms(at(56)), 4000),
        ("b", 700, 2000, to_epoch_ms(at(60)), 4000),
    ]
    assert plan_clip(rows, at(200), at(300)) == []


def test_the_fragment_playing_at_an_instant() -> None:
    fragments = tuple(FragmentEntry(0, 1, i * 2000, 2000) for i in range(3))
    assert fragment_at(fragments, timedelta(seconds=3.9)).start_ms == 2000
    assert fragment_at(fragments, timedelta(seconds=-1)).start_ms == 0
    assert fragment_at(fragments, timedelta(seconds=99)).start_ms == 4000


def test_mosaic_slots() -> None:
    a, b = uuid4(), uuid4()
    assert fill_slots(Layout.FOUR, [a, None, b]) == [a, None, b, None]
    assert len(fill_slots(Layout.SIXTEEN, [])) == 16
    with pytest.raises(ValueError, match="4 slots"):
        fill_slots(Layout.FOUR, [a, b, None, None, None])
    with pytest.raises(ValueError, match="twice"):
        fill_slots(Layout.NINE, [a, a])
