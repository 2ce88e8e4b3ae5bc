"""The recording index: one row per chunk object."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import asyncpg
from asyncpg import Range

from domain.recording import ChunkMeta, FragmentEntry, IndexedChunk, ThumbnailCandidate
from storage.rows import records


async def insert(pool: asyncpg.Pool, meta: ChunkMeta) -> int:
    """Index a chunk whose object is already stored. Idempotent on the object key."""
    chunk_id: int = await pool.fetchval(
        "INSERT INTO recordings (tenant_id, camera_id, time_range, object_key, bytes, init_length,"
        " codec, width, height, fragments, media_start_ms) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11)"
        " ON CONFLICT (object_key) DO UPDATE SET object_key = EXCLUDED.object_key RETURNING id",
        meta.tenant_id, meta.camera_id, Range(meta.start, meta.end, lower_inc=True, upper_inc=False),
        meta.object_key, meta.size, meta.init_length, meta.codec, meta.width, meta.height,
        [f.as_row() for f in meta.fragments], meta.media_start_ms,
    )
    return chunk_id


def fragment_table(stored: list[list[int]]) -> tuple[FragmentEntry, ...]:
    """The index's fragment table (one [offset, length, start_ms, duration_ms] per fragment) as entries."""
    return tuple(FragmentEntry.from_row(f) for f in stored)


async def in_range(
    pool: asyncpg.Pool, tenant_id: UUID, camera_id: UUID, start: datetime, end: datetime, *, limit: int = 1000
) -> list[IndexedChunk]:
    """Chunks of a camera overlapping [start, end), oldest first."""
    rows = await pool.fetch(
        "SELECT id, camera_id, lower(time_range) AS start, upper(time_range) AS end, object_key, bytes,"
        " init_length, codec, width, height, fragments FROM recordings"
        " WHERE tenant_id = $1 AND camera_id = $2 AND time_range && tstzrange($3, $4)"
        " AND lower(time_range) >= $3::timestamptz - interval '1 hour' AND lower(time_range) < $4"
        " ORDER BY lower(time_range) LIMIT $5",
        tenant_id, camera_id, start, end, limit,
    )
    return records(IndexedChunk, rows, fragments=fragment_table)


async def set_thumbnail(pool: asyncpg.Pool, object_key: str, thumbnail_key: str, thumbnail_bytes: int) -> bool:
    """The chunk's thumbnail, and its size (what the city stores is counted from it: migration 0017); False if the
    chunk is no longer indexed (purged)."""
    status: str = await pool.execute(
        "UPDATE recordings SET thumbnail_key = $2, thumbnail_bytes = $3 WHERE object_key = $1",
        object_key, thumbnail_key, thumbnail_bytes)
    return status != "UPDATE 0"


async def thumbnail_candidates(pool: asyncpg.Pool, tenant_id: UUID, camera_id: UUID, start: datetime, end: datetime,
                               *, limit: int = 20_000) -> list[ThumbnailCandidate]:
    """Chunks starting in [start, end), oldest first, with their thumbnail (if made) and where their first GOP ends."""
    rows = await pool.fetch(
        "SELECT lower(time_range) AS start, upper(time_range) AS end, object_key, thumbnail_key,"
        " (fragments->0->>0)::bigint + (fragments->0->>1)::bigint AS first_gop_end FROM recordings"
        " WHERE tenant_id = $1 AND camera_id = $2 AND lower(time_range) >= $3 AND lower(time_range) < $4"
        " ORDER BY lower(time_range) LIMIT $5",
        tenant_id, camera_id, start, end, limit,
    )
    return records(ThumbnailCandidate, rows)
