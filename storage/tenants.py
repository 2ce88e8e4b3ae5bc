"""Tenant (city) rows."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

import asyncpg

_COLUMNS = "id, name, plan_id, time_zone, created_at"


async def create(pool: asyncpg.Pool, name: str) -> dict[str, Any]:
    row = await pool.fetchrow(
        f"INSERT INTO tenants (id, name) VALUES ($1, $2) RETURNING {_COLUMNS}", uuid4(), name
    )
    return dict(row)


async def get(pool: asyncpg.Pool, tenant_id: UUID) -> dict[str, Any] | None:
    row = await pool.fetchrow(f"SELECT {_COLUMNS} FROM tenants WHERE id = $1", tenant_id)
    return dict(row) if row else None


async def get_by_name(pool: asyncpg.Pool, name: str) -> dict[str, Any] | None:
    row = await pool.fetchrow(f"SELECT {_COLUMNS} FROM tenants WHERE name = $1", name)
    return dict(row) if row else None


async def list_all(pool: asyncpg.Pool, *, limit: int = 100, offset: int = 0) -> list[dict[str, Any]]:
    rows = await pool.fetch(
        f"SELECT {_COLUMNS} FROM tenants ORDER BY name LIMIT $1 OFFSET $2", limit, offset
    )
    return [dict(r) for r in rows]


async def rename(pool: asyncpg.Pool, tenant_id: UUID, name: str) -> dict[str, Any] | None:
    row = await pool.fetchrow(
        f"UPDATE tenants SET name = $2 WHERE id = $1 RETURNING {_COLUMNS}", tenant_id, name
    )
    return dict(row) if row else None


async def delete(pool: asyncpg.Pool, tenant_id: UUID) -> bool:
    return await pool.execute("DELETE FROM tenants WHERE id = $1", tenant_id) == "DELETE 1"


async def set_time_zone(pool: asyncpg.Pool, tenant_id: UUID, time_zone: str) -> dict[str, Any] | None:
    row = await pool.fetchrow(f"UPDATE tenants SET time_zone = $2 WHERE id = $1 RETURNING {_COLUMNS}",
                              tenant_id, time_zone)
    return dict(row) if row else None
