"""Saved mosaics: per user, optionally shared with the user's tenant."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

import asyncpg

_COLUMNS = "id, tenant_id, owner_id, name, layout, cameras, shared, created_at, updated_at"


def _row(row: asyncpg.Record | None) -> dict[str, Any] | None:
    if row is None:
        return None
    result = dict(row)
    result["cameras"] = [UUID(c) if c else None for c in result["cameras"]]
    return result


async def create(pool: asyncpg.Pool, tenant_id: UUID, owner_id: UUID, name: str, layout: str,
                 cameras: list[UUID | None], shared: bool) -> dict[str, Any]:
    row = await pool.fetchrow(
        f"INSERT INTO mosaics (id, tenant_id, owner_id, name, layout, cameras, shared)"
        f" VALUES ($1,$2,$3,$4,$5,$6,$7) RETURNING {_COLUMNS}",
        uuid4(), tenant_id, owner_id, name, layout, [str(c) if c else None for c in cameras], shared)
    result = _row(row)
    assert result is not None
    return result


async def visible(pool: asyncpg.Pool, tenant_id: UUID, user_id: UUID) -> list[dict[str, Any]]:
    """The user's own mosaics and those shared in the tenant, by name."""
    rows = await pool.fetch(
        f"SELECT {_COLUMNS} FROM mosaics WHERE tenant_id = $1 AND (owner_id = $2 OR shared) ORDER BY name, id",
        tenant_id, user_id)
    return [r for r in map(_row, rows) if r is not None]


async def get_visible(pool: asyncpg.Pool, tenant_id: UUID, user_id: UUID, mosaic_id: UUID, *,
                      any_owner: bool = False) -> dict[str, Any] | None:
    """The mosaic if ``user_id`` owns it or it is shared (or ``any_owner``, for platform admins)."""
    return _row(await pool.fetchrow(
        f"SELECT {_COLUMNS} FROM mosaics WHERE tenant_id = $1 AND id = $3 AND (owner_id = $2 OR shared OR $4)",
        tenant_id, user_id, mosaic_id, any_owner))


async def tenant_of(pool: asyncpg.Pool, mosaic_id: UUID) -> UUID | None:
    tenant: UUID | None = await pool.fetchval("SELECT tenant_id FROM mosaics WHERE id = $1", mosaic_id)
    return tenant


async def update(pool: asyncpg.Pool, mosaic_id: UUID, *, name: str, layout: str, cameras: list[UUID | None],
                 shared: bool) -> dict[str, Any] | None:
    return _row(await pool.fetchrow(
        f"UPDATE mosaics SET name = $2, layout = $3, cameras = $4, shared = $5, updated_at = now()"
        f" WHERE id = $1 RETURNING {_COLUMNS}",
        mosaic_id, name, layout, [str(c) if c else None for c in cameras], shared))


async def delete(pool: asyncpg.Pool, mosaic_id: UUID) -> None:
    await pool.execute("DELETE FROM mosaics WHERE id = $1", mosaic_id)
