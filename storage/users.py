"""User rows; passwords arrive here already hashed."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

import asyncpg

_COLUMNS = "id, tenant_id, username, role, created_at"


async def create(
    pool: asyncpg.Pool | asyncpg.Connection, *, username: str, password_hash: str, role: str, tenant_id: UUID | None
) -> dict[str, Any]:
    row = await pool.fetchrow(
        f"INSERT INTO users (id, tenant_id, username, password_hash, role) VALUES ($1, $2, $3, $4, $5)"
        f" RETURNING {_COLUMNS}",
        uuid4(), tenant_id, username, password_hash, role,
    )
    return dict(row)


async def credentials(pool: asyncpg.Pool, username: str) -> dict[str, Any] | None:
    row = await pool.fetchrow(f"SELECT {_COLUMNS}, password_hash FROM users WHERE username = $1", username)
    return dict(row) if row else None


async def get(pool: asyncpg.Pool, user_id: UUID) -> dict[str, Any] | None:
    row = await pool.fetchrow(f"SELECT {_COLUMNS} FROM users WHERE id = $1", user_id)
    return dict(row) if row else None


async def list_for_tenant(pool: asyncpg.Pool, tenant_id: UUID | None) -> list[dict[str, Any]]:
    rows = await pool.fetch(
        f"SELECT {_COLUMNS} FROM users WHERE tenant_id IS NOT DISTINCT FROM $1 ORDER BY username", tenant_id
    )
    return [dict(r) for r in rows]


async def any_admin(pool: asyncpg.Pool) -> bool:
    return bool(await pool.fetchval("SELECT EXISTS (SELECT 1 FROM users WHERE role = 'admin')"))
