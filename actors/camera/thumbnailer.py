"""Thumbnails of a camera's stored chunks: a small JPEG of a chunk's first keyframe, one per minute of video.

Best effort and off the recording path: decoding and storing a JPEG must never
slow down or fail storing the chunk itself. The queue is small and bounded;
when the thumbnailer is behind, chunks go without a thumbnail, and a failed
thumbnail is not retried.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime, timedelta
from uuid import UUID

import asyncpg

from domain.recording import ChunkMeta, thumbnail_due, thumbnail_object_key
from media.snapshot import recorded_jpeg
from storage import recordings
from storage.objects import ObjectStore

log = logging.getLogger(__name__)

_QUEUE_LIMIT = 4
THUMBNAIL_WIDTH = 320


class Thumbnailer:
    """Turns (object key, first GOP) into a stored JPEG and its row's ``thumbnail_key``."""

    def __init__(self, camera_id: UUID, store: ObjectStore, pool: asyncpg.Pool, *,
                 every: timedelta = timedelta(minutes=1)) -> None:
        self._camera_id = camera_id
        self._store = store
        self._pool = pool
        self._every = every
        self._last_start: datetime | None = None  # of the last chunk given a thumbnail
        self._queue: asyncio.Queue[tuple[str, bytes]] = asyncio.Queue(maxsize=_QUEUE_LIMIT)

    def offer(self, chunk: ChunkMeta, first_gop: bytes) -> None:
        """A chunk was stored, with its init segment and first fragment: queue its thumbnail if one is due
        (domain/recording.py); dropped when the queue is full."""
        if not thumbnail_due(self._last_start, chunk.end, self._every):
            return
        with contextlib.suppress(asyncio.QueueFull):
            self._queue.put_nowait((chunk.object_key, first_gop))
            self._last_start = chunk.start

    async def run(self) -> None:
        while True:
            object_key, first_gop = await self._queue.get()
            try:
                jpeg, _ = await asyncio.to_thread(recorded_jpeg, first_gop, 0.0, THUMBNAIL_WIDTH)
                thumbnail_key = thumbnail_object_key(object_key)
                await asyncio.to_thread(self._store.put, thumbnail_key, jpeg, "image/jpeg")
                await recordings.set_thumbnail(self._pool, object_key, thumbnail_key, len(jpeg))
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # a chunk without a thumbnail is still a recorded chunk
                log.info("camera %s: no thumbnail for %s: %s", self._camera_id, object_key, exc)
