"""User rows; passwords arrive here already hashed.

Deleting is soft (``deleted_at``): audit entries, clips and reports keep naming
the user. Disabling, deleting and setting a password end all of the user's
sessions in the same transaction (storage/sessions.py).
"""

from __future__ import annotations

from uuid import UUID, uuid4

import asyncpg

from domain.rbac import Role
from domain.user import User
from storage import sessions
from storage.rows import record, record_or_none, records

_COLUMNS = "id, tenant_id, username, role, created_at, disabled_at"
_ACTIVE = "disabled_at IS NULL AND deleted_at IS NULL"


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
    """The active (neither disabled nor deleted) user who logs in with this name, and its password hash.

    Names are unique per city and among platform admins (migration 0009). With ``tenant_id``: that city's user.
    Without: the platform admin of that name, else the one city user of that name; None when several cities
    have one (the login must then name the city)."""
    if tenant_id is not None:
        row = await pool.fetchrow(f"SELECT {_COLUMNS}, password_hash FROM users"
                                  f" WHERE username = $1 AND tenant_id = $2 AND {_ACTIVE}", username, tenant_id)
    else:
        rows = await pool.fetch(f"SELECT {_COLUMNS}, password_hash FROM users WHERE username = $1 AND {_ACTIVE}"
                                " ORDER BY tenant_id IS NULL DESC LIMIT 2", username)
        row = rows[0] if rows and (rows[0]["tenant_id"] is None or len(rows) == 1) else None
    return None if row is None else (record(User, row, role=Role), row["password_hash"])


async def get(pool: asyncpg.Pool, user_id: UUID) -> User | None:
    """The user unless deleted (a disabled one too)."""
    row = await pool.fetchrow(f"SELECT {_COLUMNS} FROM users WHERE id = $1 AND deleted_at IS NULL", user_id)
    return record_or_none(User, row, role=Role)


async def password_hash(pool: asyncpg.Pool, user_id: UUID) -> str | None:
    """The active user's password hash (to check the current password before changing it)."""
    hashed: str | None = await pool.fetchval(f"SELECT password_hash FROM users WHERE id = $1 AND {_ACTIVE}", user_id)
    return hashed


async def disable(pool: asyncpg.Pool, user_id: UUID) -> None:
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("UPDATE users SET disabled_at = coalesce(disabled_at, now()) WHERE id = $1", user_id)
        await sessions.end_all_of_user(conn, user_id)


async def enable(pool: asyncpg.Pool, user_id: UUID) -> None:
    """The user may log in again (the sessions that disabling ended stay ended)."""
    await pool.execute("UPDATE users SET disabled_at = NULL WHERE id = $1", user_id)


async def delete(pool: asyncpg.Pool, user_id: UUID) -> None:
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("UPDATE users SET deleted_at = now() WHERE id = $1 AND deleted_at IS NULL", user_id)
        await sessions.end_all_of_user(conn, user_id)


async def set_password(pool: asyncpg.Pool, user_id: UUID, password_hash: str) -> None:
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("UPDATE users SET password_hash = $2 WHERE id = $1", user_id, password_hash)
        await sessions.end_all_of_user(conn, user_id)


async def set_role(conn: asyncpg.Connection, user_id: UUID, role: Role) -> None:
    """The user's new role; their sessions end (their tokens carry the old one). Call in a transaction."""
    await conn.execute("UPDATE users SET role = $2 WHERE id = $1", user_id, role.value)
    await sessions.end_all_of_user(conn, user_id)


async def list_for_tenant(pool: asyncpg.Pool, tenant_id: UUID | None) -> list[User]:
    rows = await pool.fetch(
        f"SELECT {_COLUMNS} FROM users WHERE tenant_id IS NOT DISTINCT FROM $1 AND deleted_at IS NULL"
        " ORDER BY username", tenant_id
    )
    return records(User, rows, role=Role)


async def any_admin(pool: asyncpg.Pool) -> bool:
    return bool(await pool.fetchval("SELECT EXISTS (SELECT 1 FROM users WHERE role = 'admin')"))
