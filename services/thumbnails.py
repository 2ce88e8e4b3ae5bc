"""Timeline thumbnails, made the first time someone scrubs past them.

A thumbnail costs a keyframe decode, about 9 ms of CPU at 720p. Made for every minute of every camera as it
records, that was about a twentieth of what a dense host spends recording, most of its margin to ffmpeg
(docs/density.md), for pictures of video most of which nobody ever looks at. So the recorder makes none: a
request for a span picks one chunk per ``every`` of video, makes the thumbnails those chunks lack (a bounded
number per request, a few decodes at a time) from each chunk's first GOP (one range read), stores them beside
their chunks and indexes them; later requests only sign their URLs.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from uuid import UUID

import asyncpg

from domain.recording import ChunkThumbnail, ThumbnailCandidate, thumbnail_object_key, thumbnail_picks
from media.snapshot import recorded_jpeg
from storage import recordings
from storage.objects import ObjectStore

log = logging.getLogger(__name__)

MAX_LISTED = 240  # per request: over a day, one per 6 minutes
MAX_MADE = 48  # per request; a span with more missing gets the rest on its next request
THUMBNAIL_WIDTH = 320
_DECODES_AT_ONCE = 2


async def thumbnails_over(pool: asyncpg.Pool, store: ObjectStore, tenant_id: UUID, camera_id: UUID,
                          start: datetime, end: datetime, every: timedelta) -> list[ChunkThumbnail]:
    """One thumbnail per ``every`` of video starting in [start, end) (spaced wider when the span would list more
    than MAX_LISTED), oldest first; those not made yet are made now, up to MAX_MADE."""
    every = max(every, (end - start) / MAX_LISTED)
    picked = thumbnail_picks(await recordings.thumbnail_candidates(pool, tenant_id, camera_id, start, end), every)
    missing = [c for c in picked if c.thumbnail_key is None and c.first_gop_end is not None][:MAX_MADE]
    decodes = asyncio.Semaphore(_DECODES_AT_ONCE)
    made = await asyncio.gather(*(_made(decodes, pool, store, c) for c in missing))
    keys = {c.object_key: key for c, key in zip(missing, made, strict=True) if key is not None}
    return [ChunkThumbnail(c.start, key) for c in picked if (key := c.thumbnail_key or keys.get(c.object_key))]


async def _made(decodes: asyncio.Semaphore, pool: asyncpg.Pool, store: ObjectStore,
                chunk: ThumbnailCandidate) -> str | None:
    """The chunk's thumbnail, stored and indexed; None if it cannot be made (the chunk purged meanwhile, or its
    first GOP does not decode): the span is listed without it."""
    assert chunk.first_gop_end is not None
    key = thumbnail_object_key(chunk.object_key)
    async with decodes:
        try:
            first_gop = await asyncio.to_thread(store.get_range, chunk.object_key, 0, chunk.first_gop_end)
            jpeg, _ = await asyncio.to_thread(recorded_jpeg, first_gop, 0.0, THUMBNAIL_WIDTH)
            await asyncio.to_thread(store.put, key, jpeg, "image/jpeg")
        except Exception as exc:  # one missing picture must not fail the list
            log.info("no thumbnail for %s: %s", chunk.object_key, exc)
            return None
    if not await recordings.set_thumbnail(pool, chunk.object_key, key, len(jpeg)):
        await asyncio.to_thread(store.delete_many, [key])  # the chunk was purged meanwhile: so is its picture
        return None
    return key
