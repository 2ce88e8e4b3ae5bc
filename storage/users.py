"""User rows; passwords arrive here already hashed."""

from __future__ import annotations

from uuid import UUID, uuid4

import asyncpg

from domain.rbac import Role
from domain.user import User
from storage.rows import record, record_or_none, records

_COLUMNS = "id, tenant_id, username, role, created_at"


async def create(
    pool: asyncpg.Pool | asyncpg.Connection, *, username: str, password_hash: str, role: str, tenant_id: UUID | None
) -> User:
    row = await pool.fetchrow(
        f"INSERT INTO users (id, tenant_id, username, password_hash, role) VALUES ($1, $2, $3, $4, $5)"
        f" RETURNING {_COLUMNS}",
        uuid4(), tenant_id, username, password_hash, role,
    )
    return record(User, row, role=Role)


async def credentials(pool: asyncpg.Pool, username: str, tenant_id: UUID | None = None) -> tuple[User, str] | None:
    """The user who logs in with this name, and its password hash.

    Names are unique per city and among platform admins (migration 0009). With ``tenant_id``: that city's user.
    Without: the platform admin of that name, else the one city user of that name; None when several cities
    have one (the login must then name the city)."""
    if tenant_id is not None:
        row = await pool.fetchrow(f"SELECT {_COLUMNS}, password_hash FROM users WHERE username = $1 AND tenant_id = $2",
                                  username, tenant_id)
    else:
        rows = await pool.fetch(f"SELECT {_COLUMNS}, password_hash FROM users WHERE username = $1"
                                " ORDER BY tenant_id IS NULL DESC LIMIT 2", username)
        row = rows[0] if rows and (rows[0]["tenant_id"] is None or len(rows) == 1) else None
    return None if row is None else (record(User, row, role=Role), row["password_hash"])


async def get(pool: asyncpg.Pool, user_id: UUID) -> User | None:
    return record_or_none(User, await pool.fetchrow(f"SELECT {_COLUMNS} FROM users WHERE id = $1", user_id), role=Role)


async def list_for_tenant(pool: asyncpg.Pool, tenant_id: UUID | None) -> list[User]:
    rows = await pool.fetch(
        f"SELECT {_COLUMNS} FROM users WHERE tenant_id IS NOT DISTINCT FROM $1 ORDER BY username", tenant_id
    )
    return records(User, rows, role=Role)


async def any_admin(pool: asyncpg.Pool) -> bool:
    return bool(await pool.fetchval("SELECT EXISTS (SELECT 1 FROM users WHERE role = 'admin')"))
