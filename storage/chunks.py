"""Storing a recorded chunk: object first, index row second.

The order is the guarantee: an index row never points at an object that is
not (completely) stored.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import asyncpg

from domain.recording import ChunkMeta
from storage import recordings
from storage.objects import ObjectStore


async def store_chunk(store: ObjectStore, pool: asyncpg.Pool, meta: ChunkMeta, path: Path) -> int:
    """Store the closed chunk file at ``path`` (left in place) and index it."""
    await asyncio.to_thread(store.put_file, meta.object_key, path, "video/mp4")
    return await recordings.insert(pool, meta)
