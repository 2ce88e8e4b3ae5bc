"""Storing spooled chunks: one closed chunk file, and every chunk a node's spool holds for cameras not recorded there.

A camera's uploader stores its own chunks as they close (actors/camera/uploader.py). The spool of a node that
was lost and came back (same disk) holds chunks of cameras the Fleet has since placed on other nodes: no
supervisor there will ever look at them, so ``store_leftovers`` does, taking each camera's writer lock as a
supervisor would (a camera recording on this node is left to its own uploader). Object first, index row second,
file deleted last, as everywhere (docs/spool.md): a sweep that dies half-way repeats an idempotent PUT and INSERT.
"""

from __future__ import annotations

import asyncio
import logging
import mmap
from dataclasses import dataclass
from pathlib import Path
from uuid import UUID

import asyncpg

from domain.recording import ChunkMeta
from media.chunk_file import describe_chunk
from storage import cameras
from storage.chunks import store_chunk
from storage.file_lock import FileLock
from storage.objects import ObjectStore
from storage.spool import WRITER_LOCK, pending, recover, start_ms_of

log = logging.getLogger(__name__)


async def store_spooled_chunk(path: Path, tenant_id: UUID, camera_id: UUID, store: ObjectStore,
                              pool: asyncpg.Pool) -> ChunkMeta:
    """Store and index one closed chunk, then delete its file; its index entry.

    Only the chunk's boxes are read (the file is mapped, the media data never touched): the object store
    takes the file itself, which a directory store links rather than copies."""
    meta = await asyncio.to_thread(_described, path, tenant_id, camera_id)
    await store_chunk(store, pool, meta, path)
    await asyncio.to_thread(path.unlink)  # only now: the row is committed
    return meta


def _described(path: Path, tenant_id: UUID, camera_id: UUID) -> ChunkMeta:
    with path.open("rb") as file, mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ) as data:
        return describe_chunk(data, tenant_id=tenant_id, camera_id=camera_id, start_ms=start_ms_of(path))


@dataclass(frozen=True)
class Leftovers:
    cameras: int  # camera spools swept (not recorded on this node, not locked by anyone)
    chunks: int  # chunks stored and indexed
    bytes: int


async def store_leftovers(root: Path, store: ObjectStore, pool: asyncpg.Pool) -> Leftovers:
    """Recover and store every chunk under ``root`` whose camera nobody records here. Raises on the first chunk
    that cannot be stored (it stays spooled; the caller sweeps again later)."""
    swept = chunks = stored_bytes = 0
    directories = await asyncio.to_thread(lambda: sorted(p for p in root.iterdir() if p.is_dir())
                                          if root.is_dir() else [])
    for directory in directories:
        try:
            camera_id = UUID(directory.name)
        except ValueError:  # not a camera's spool (e.g. the LPR spool)
            continue
        lock = FileLock(directory / WRITER_LOCK)
        if not await asyncio.to_thread(lock.acquire, {"sweep": True, "camera_id": str(camera_id)}):
            continue  # a supervisor records this camera here: its uploader stores its spool
        try:
            await asyncio.to_thread(recover, directory)
            paths = await asyncio.to_thread(pending, directory)
            tenant_id = await cameras.tenant_of(pool, camera_id)
            if tenant_id is None:
                log.warning("spool of unknown camera %s (%d chunks) left in place", camera_id, len(paths))
                continue
            for path in paths:
                meta = await store_spooled_chunk(path, tenant_id, camera_id, store, pool)
                chunks += 1
                stored_bytes += meta.size
            swept += 1
        finally:
            lock.release()
    return Leftovers(swept, chunks, stored_bytes)
