"""The spool uploader: stores each closed spool chunk of one camera, oldest first.

Object first, index row second, spool file deleted last. So a row never points
at a missing or partial object, and a spooled chunk is never deleted before
its row commits; a crash in between repeats the same PUT and an idempotent
INSERT, never a duplicate. While the object store or PostgreSQL is down the
uploader retries the same chunk with backoff (capped at 10 s) for as long as
it runs: an outage only grows the spool, and the backlog drains in order once
they return. The backlog (spooled chunk → bytes), the last upload error and
how far the index has come are what the camera's status shows of it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from datetime import datetime
from functools import partial
from pathlib import Path
from uuid import UUID

import asyncpg

from actors.camera.handoff import LoopHandoff
from services.retry import retrying
from services.spooled_chunks import store_spooled_chunk
from storage.objects import ObjectStore
from storage.spool import pending

log = logging.getLogger(__name__)

_RETRY_CAP_S = 10.0
_RESCAN_SPOOL_S = 5.0  # a chunk whose wake-up was missed is still found
_DRAIN_POLL_S = 0.5


class SpoolUploader:
    """Moves one camera's closed chunks from its spool into the object store and the index."""

    def __init__(self, tenant_id: UUID, camera_id: UUID, spool_dir: Path, store: ObjectStore, pool: asyncpg.Pool,
                 handoff: LoopHandoff) -> None:
        self._tenant_id = tenant_id
        self._camera_id = camera_id
        self._spool_dir = spool_dir
        self._store = store
        self._pool = pool
        self._handoff = handoff
        self._new_chunk = asyncio.Event()
        self._spool_empty = asyncio.Event()
        self.backlog: dict[Path, int] = {}  # spooled chunk → bytes, until stored and indexed
        self.upload_error: str | None = None
        self.chunks_stored = 0
        self.newest_indexed_end: datetime | None = None

    async def scan_backlog(self) -> None:
        """Count what is already spooled (a crash's leftovers, once recovered) as the backlog."""
        self.backlog = await asyncio.to_thread(lambda: {p: p.stat().st_size for p in pending(self._spool_dir)})

    def chunk_closed(self, path: Path) -> None:
        """The ingest thread closed a chunk: count it and wake the uploader."""
        self._handoff(self._add, path, path.stat().st_size)

    def _add(self, path: Path, size: int) -> None:
        self.backlog[path] = size
        self._spool_empty.clear()
        self._new_chunk.set()

    async def drain(self, within_s: float) -> None:
        """Wait up to ``within_s`` for the spool to be empty; at once while the store is failing."""
        deadline = time.monotonic() + within_s
        while not self._spool_empty.is_set() and self.upload_error is None and time.monotonic() < deadline:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._spool_empty.wait(), _DRAIN_POLL_S)

    async def run(self) -> None:
        while True:
            self._new_chunk.clear()
            paths = await asyncio.to_thread(pending, self._spool_dir)
            for path in paths:
                await retrying(partial(self._upload, path), what=f"store {path.name} of camera {self._camera_id}",
                               cap_s=_RETRY_CAP_S, on_failure=self._failed, log=log)
                self.upload_error = None
            if paths:
                continue  # more may have closed meanwhile
            if not self._new_chunk.is_set():
                self._spool_empty.set()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._new_chunk.wait(), _RESCAN_SPOOL_S)

    def _failed(self, exc: Exception) -> None:  # store or database down: the chunk stays spooled
        self.upload_error = f"{type(exc).__name__}: {str(exc)[:200]}"

    async def _upload(self, path: Path) -> None:
        meta = await store_spooled_chunk(path, self._tenant_id, self._camera_id, self._store, self._pool)
        self.backlog.pop(path, None)
        self.chunks_stored += 1
        if self.newest_indexed_end is None or meta.end > self.newest_indexed_end:
            self.newest_indexed_end = meta.end
