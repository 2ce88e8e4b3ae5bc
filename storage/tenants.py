"""Tenant (city) rows."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

import asyncpg


async def create(pool: asyncpg.Pool, name: str) -> dict[str, Any]:
    row = await pool.fetchrow(
        "INSERT INTO tenants (id, name) VALUES ($1, $2) RETURNING id, name, created_at", uuid4(), name
    )
    return dict(row)


async def get(pool: asyncpg.Pool, tenant_id: UUID) -> dict[str, Any] | None:
    row = await pool.fetchrow("SELECT id, name, created_at FROM tenants WHERE id = $1", tenant_id)
    return dict(row) if row else None


async def get_by_name(pool: asyncpg.Pool, name: str) -> dict[str, Any] | None:
    row = await pool.fetchrow("SELECT id, name, created_at FROM tenants WHERE name = $1", name)
    return dict(row) if row else None


async def list_all(pool: asyncpg.Pool, *, limit: int = 100, offset: int = 0) -> list[dict[str, Any]]:
    rows = await pool.fetch(
        "SELECT id, name, created_at FROM tenants ORDER BY name LIMIT $1 OFFSET $2", limit, offset
    )
    return [dict(r) for r in rows]


async def rename(pool: asyncpg.Pool, tenant_id: UUID, name: str) -> dict[str, Any] | None:
    row = await pool.fetchrow(
        "UPDATE tenants SET name = $2 WHERE id = $1 RETURNING id, name, created_at", tenant_id, name
    )
    return dict(row) if row else None


async def delete(pool: asyncpg.Pool, tenant_id: UUID) -> bool:
    return await pool.execute("DELETE FROM tenants WHERE id = $1", tenant_id) == "DELETE 1"
