"""Saved mosaics: per user, optionally shared with the user's tenant."""

from __future__ import annotations

from uuid import UUID, uuid4

import asyncpg

from domain.mosaic import Mosaic
from storage.rows import record, record_or_none, records

_COLUMNS = "id, tenant_id, owner_id, name, layout, cameras, shared, created_at, updated_at"


def _slots(stored: list[str | None]) -> list[UUID | None]:
    return [UUID(c) if c else None for c in stored]


def _stored(cameras: list[UUID | None]) -> list[str | None]:
    return [str(c) if c else None for c in cameras]


async def create(pool: asyncpg.Pool, tenant_id: UUID, owner_id: UUID, name: str, layout: str,
                 cameras: list[UUID | None], shared: bool) -> Mosaic:
    row = await pool.fetchrow(
        f"INSERT INTO mosaics (id, tenant_id, owner_id, name, layout, cameras, shared)"
        f" VALUES ($1,$2,$3,$4,$5,$6,$7) RETURNING {_COLUMNS}",
        uuid4(), tenant_id, owner_id, name, layout, _stored(cameras), shared)
    return record(Mosaic, row, cameras=_slots)


async def visible(pool: asyncpg.Pool, tenant_id: UUID, user_id: UUID) -> list[Mosaic]:
    """The user's own mosaics and those shared in the tenant, by name."""
    rows = await pool.fetch(
        f"SELECT {_COLUMNS} FROM mosaics WHERE tenant_id = $1 AND (owner_id = $2 OR shared) ORDER BY name, id",
        tenant_id, user_id)
    return records(Mosaic, rows, cameras=_slots)


async def get_visible(pool: asyncpg.Pool, tenant_id: UUID, user_id: UUID, mosaic_id: UUID, *,
                      any_owner: bool = False) -> Mosaic | None:
    """The mosaic if ``user_id`` owns it or it is shared (or ``any_owner``, for platform admins)."""
    return record_or_none(Mosaic, await pool.fetchrow(
        f"SELECT {_COLUMNS} FROM mosaics WHERE tenant_id = $1 AND id = $3 AND (owner_id = $2 OR shared OR $4)",
        tenant_id, user_id, mosaic_id, any_owner), cameras=_slots)


async def update(pool: asyncpg.Pool, mosaic_id: UUID, *, name: str, layout: str, cameras: list[UUID | None],
                 shared: bool) -> Mosaic | None:
    return record_or_none(Mosaic, await pool.fetchrow(
        f"UPDATE mosaics SET name = $2, layout = $3, cameras = $4, shared = $5, updated_at = now()"
        f" WHERE id = $1 RETURNING {_COLUMNS}",
        mosaic_id, name, layout, _stored(cameras), shared), cameras=_slots)


async def delete(pool: asyncpg.Pool, mosaic_id: UUID) -> None:
    await pool.execute("DELETE FROM mosaics WHERE id = $1", mosaic_id)
