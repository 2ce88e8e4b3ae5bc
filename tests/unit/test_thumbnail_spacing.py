"""Chunk thumbnails: at least one per minute of video, not one per chunk when chunks are short."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, cast
from uuid import uuid4

from actors.camera.thumbnailer import Thumbnailer
from domain.recording import ChunkMeta, thumbnail_due

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


def _chunk(start_s: float, length_s: float) -> ChunkMeta:
    start = T0 + timedelta(seconds=start_s)
    return ChunkMeta(tenant_id=uuid4(), camera_id=uuid4(), start=start, end=start + timedelta(seconds=length_s),
                     size=1, init_length=1, codec="h264", width=320, height=180, fragments=(), media_start_ms=0)


def test_the_thumbnailer_queues_only_the_chunks_due() -> None:
    thumbnails = Thumbnailer(uuid4(), cast(Any, None), cast(Any, None))
    for i in range(12):
        thumbnails.offer(_chunk(10 * i, 10), b"gop")
    queued = []
    while not thumbnails._queue.empty():
        queued.append(thumbnails._queue.get_nowait()[0])
    assert len(queued) == 3  # of chunks starting at 0, 50 and 100 s
