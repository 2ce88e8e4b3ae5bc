"""Legal holds: ranges of a camera's footage that retention must never delete."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID, uuid4

import asyncpg
from asyncpg import Range

from domain.holds import Hold
from storage.rows import record_or_none, records

_COLUMNS = ("id, tenant_id, camera_id, lower(time_range) AS start, upper(time_range) AS \"end\", reason, case_number,"
            " created_by, created_at, released_at, released_by, release_reason")


def unheld_sql(camera: str, time_range: str) -> str:
    """SQL true when no active hold of ``camera`` (a column) overlaps ``time_range`` (an SQL range expression): the
    one rule every purge, expiry and anonymization pass shares, so a hold protects the same footage in all."""
    return (f"NOT EXISTS (SELECT 1 FROM legal_holds h WHERE h.camera_id = {camera} AND h.released_at IS NULL"
            f" AND h.time_range && {time_range})")


async def create(pool: asyncpg.Pool, *, tenant_id: UUID, camera_ids: list[UUID], start: datetime, end: datetime,
                 reason: str, case_number: str, created_by: UUID) -> list[Hold]:
    """One hold per camera, all in one transaction."""
    async with pool.acquire() as conn, conn.transaction():
        rows = [await conn.fetchrow(
            f"INSERT INTO legal_holds (id, tenant_id, camera_id, time_range, reason, case_number, created_by)"
            f" VALUES ($1,$2,$3,$4,$5,$6,$7) RETURNING {_COLUMNS}",
            uuid4(), tenant_id, camera_id, Range(start, end), reason, case_number, created_by) for camera_id in camera_ids]
    return records(Hold, rows)


async def list_for_tenant(pool: asyncpg.Pool, tenant_id: UUID, *, active_only: bool = False,
                          limit: int = 1000) -> list[Hold]:
    rows = await pool.fetch(
        f"SELECT {_COLUMNS} FROM legal_holds WHERE tenant_id = $1 AND (NOT $2 OR released_at IS NULL)"
        f" ORDER BY created_at DESC LIMIT $3", tenant_id, active_only, limit)
    return records(Hold, rows)


async def get(pool: asyncpg.Pool, tenant_id: UUID, hold_id: UUID) -> Hold | None:
    row = await pool.fetchrow(f"SELECT {_COLUMNS} FROM legal_holds WHERE tenant_id = $1 AND id = $2", tenant_id, hold_id)
    return record_or_none(Hold, row)


async def release(pool: asyncpg.Pool, hold_id: UUID, released_by: UUID, reason: str) -> Hold | None:
    """Release an active hold; None if it was already released."""
    row = await pool.fetchrow(
        f"UPDATE legal_holds SET released_at = now(), released_by = $2, release_reason = $3"
        f" WHERE id = $1 AND released_at IS NULL RETURNING {_COLUMNS}", hold_id, released_by, reason)
    return record_or_none(Hold, row)


async def active_covering(pool: asyncpg.Pool, camera_id: UUID, start: datetime, end: datetime) -> Hold | None:
    """An active hold of the camera overlapping [start, end), if any."""
    row = await pool.fetchrow(
        f"SELECT {_COLUMNS} FROM legal_holds WHERE camera_id = $1 AND released_at IS NULL"
        f" AND time_range && tstzrange($2, $3) ORDER BY created_at LIMIT 1", camera_id, start, end)
    return record_or_none(Hold, row)
