"""Clip remux on real recorded chunks: exact to the keyframe, real time across gaps, one MP4 that plays."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path

import av
import pytest

from domain.recording import to_epoch_ms
from media.clip import ClipPiece, remux_clip
from tests.unit.test_media import FPS, _record


def _pieces(tmp_path: Path) -> list[tuple[int, bytes]]:
    return [(to_epoch_ms(c.meta.start), c.data) for c in _record(tmp_path / "spool", loops=3, max_chunk_ms=4000)]


def test_a_clip_of_several_chunks_plays_and_keeps_wall_time(tmp_path: Path) -> None:
    chunks = _pieces(tmp_path)  # three 4 s chunks of one run
    origin = chunks[0][0]
    out = tmp_path / "clip.mp4"
    done: list[int] = []
    result = remux_clip([ClipPiece(ms, data) for ms, data in chunks], out, origin_ms=origin, title="cam x",
                        progress=done.append)
    assert done == [1, 2, 3]
    assert result.video_frames == 12 * FPS
    assert result.first_frame_ms == origin and result.last_frame_ms == origin + 12_000 - 1000 // FPS
    data = out.read_bytes()
    assert data.index(b"moov") < data.index(b"mdat"), "faststart: the index comes first"
    with av.open(io.BytesIO(data)) as clip:
        times = [f.time for f in clip.decode(video=0)]
        assert clip.metadata.get("title") == "cam x"
    assert len(times) == 120 and times[0] == pytest.approx(0) and times[-1] == pytest.approx(11.9, abs=0.01)


def test_a_gap_between_pieces_stays_a_gap_in_the_clip(tmp_path: Path) -> None:
    chunks = _pieces(tmp_path)
    origin = chunks[0][0]
    late = chunks[2][0] + int(timedelta(seconds=30).total_seconds() * 1000)  # as if recorded 30 s later
    out = tmp_path / "gap.mp4"
    result = remux_clip([ClipPiece(chunks[0][0], chunks[0][1]), ClipPiece(late, chunks[2][1])], out, origin_ms=origin)
    assert result.last_frame_ms == late + 4000 - 100
    with av.open(str(out)) as clip:
        times = [f.time for f in clip.decode(video=0)]
    assert times[39] == pytest.approx(3.9, abs=0.01) and times[40] == pytest.approx((late - origin) / 1000, abs=0.01)
