"""The orphan sweep's bookkeeping: per-camera cursors and what was found (two strikes before any fix)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import asyncpg

from domain.orphans import OrphanFinding, SweepCursor
from storage.rows import records


async def cameras_to_sweep(pool: asyncpg.Pool, limit: int) -> list[SweepCursor]:
    """Cameras (deleted ones too: their objects count) least recently swept first."""
    rows = await pool.fetch(
        "SELECT c.id, c.tenant_id, c.created_at, s.swept_until FROM cameras c"
        " LEFT JOIN orphan_sweep s ON s.camera_id = c.id ORDER BY s.swept_until NULLS FIRST, c.id LIMIT $1", limit)
    return records(SweepCursor, rows)


async def indexed_keys(pool: asyncpg.Pool, camera_id: UUID, hour: datetime) -> set[str]:
    """Chunk and thumbnail keys of the camera's chunks starting in [hour, hour + 1 h), plus queued deletions."""
    rows = await pool.fetch(
        "SELECT object_key, thumbnail_key FROM recordings WHERE camera_id = $1"
        " AND lower(time_range) >= $2 AND lower(time_range) < $2 + interval '1 hour'", camera_id, hour)
    return {r["object_key"] for r in rows} | {r["thumbnail_key"] for r in rows if r["thumbnail_key"]}


async def queued_with_prefix(pool: asyncpg.Pool, prefix: str) -> set[str]:
    rows = await pool.fetch("SELECT object_key FROM purge_queue WHERE object_key LIKE $1 || '%'", prefix)
    return {r["object_key"] for r in rows}


async def advance(pool: asyncpg.Pool, camera_id: UUID, swept_until: datetime) -> None:
    await pool.execute(
        "INSERT INTO orphan_sweep (camera_id, swept_until) VALUES ($1, $2)"
        " ON CONFLICT (camera_id) DO UPDATE SET swept_until = EXCLUDED.swept_until", camera_id, swept_until)


async def record(pool: asyncpg.Pool, kind: str, keys: list[str], tenant_id: UUID, camera_id: UUID) -> None:
    await pool.executemany(
        "INSERT INTO orphan_findings (object_key, kind, tenant_id, camera_id) VALUES ($1, $2, $3, $4)"
        " ON CONFLICT (object_key) DO NOTHING", [(k, kind, tenant_id, camera_id) for k in keys])


async def unresolved(pool: asyncpg.Pool, found_before: datetime, limit: int) -> list[OrphanFinding]:
    rows = await pool.fetch(
        "SELECT object_key, kind, tenant_id, camera_id, found_at FROM orphan_findings"
        " WHERE resolved_at IS NULL AND found_at < $1 ORDER BY found_at LIMIT $2", found_before, limit)
    return records(OrphanFinding, rows)


async def still_indexed(pool: asyncpg.Pool, key: str) -> bool:
    found: bool = await pool.fetchval(
        "SELECT EXISTS (SELECT 1 FROM recordings WHERE object_key = $1 OR thumbnail_key = $1)", key)
    return found


async def resolve(pool: asyncpg.Pool, key: str, action: str) -> None:
    await pool.execute("UPDATE orphan_findings SET resolved_at = now(), action = $2 WHERE object_key = $1", key, action)


async def delete_row(pool: asyncpg.Pool, key: str) -> None:
    await pool.execute("DELETE FROM recordings WHERE object_key = $1", key)


async def findings(pool: asyncpg.Pool, tenant_id: UUID | None, *, limit: int = 1000) -> list[OrphanFinding]:
    rows = await pool.fetch(
        "SELECT object_key, kind, tenant_id, camera_id, found_at, resolved_at, action FROM orphan_findings"
        " WHERE $1::uuid IS NULL OR tenant_id = $1 ORDER BY found_at DESC LIMIT $2", tenant_id, limit)
    return records(OrphanFinding, rows)
