"""Plate masking settings: a city's ``plate_masking`` policy and a viewer's ``plate_full_view`` grant (0012)."""

from __future__ import annotations

from uuid import UUID

import asyncpg


async def settings_of(pool: asyncpg.Pool, tenant_id: UUID, user_id: UUID) -> tuple[bool, bool]:
    """(the city masks plates, the user was granted full view) — one query, on every search and socket."""
    row = await pool.fetchrow(
        "SELECT (SELECT plate_masking FROM tenants WHERE id = $1) AS masking,"
        " (SELECT plate_full_view FROM users WHERE id = $2) AS full_view", tenant_id, user_id)
    return bool(row["masking"]), bool(row["full_view"])


async def policy(pool: asyncpg.Pool, tenant_id: UUID) -> bool | None:
    """The city's policy; None if there is no such city."""
    on: bool | None = await pool.fetchval("SELECT plate_masking FROM tenants WHERE id = $1", tenant_id)
    return on


async def set_policy(pool: asyncpg.Pool, tenant_id: UUID, on: bool) -> bool:
    """Whether the city exists (and now has the policy)."""
    done: str = await pool.execute("UPDATE tenants SET plate_masking = $2 WHERE id = $1", tenant_id, on)
    return done.endswith(" 1")


async def set_full_view(pool: asyncpg.Pool, user_id: UUID, on: bool) -> None:
    await pool.execute("UPDATE users SET plate_full_view = $2 WHERE id = $1", user_id, on)
