"""A city's watchlist rows."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

import asyncpg

from domain.watchlist import WatchEntry


async def create(pool: asyncpg.Pool, tenant_id: UUID, pattern: str, reason: str, created_by: UUID) -> dict[str, Any]:
    row = await pool.fetchrow(
        "INSERT INTO lpr_watchlist (id, tenant_id, pattern, reason, created_by) VALUES ($1,$2,$3,$4,$5)"
        " RETURNING id, tenant_id, pattern, reason, created_by, created_at", uuid4(), tenant_id, pattern, reason,
        created_by)
    return dict(row)


async def list_for_tenant(pool: asyncpg.Pool, tenant_id: UUID) -> list[dict[str, Any]]:
    rows = await pool.fetch("SELECT id, tenant_id, pattern, reason, created_by, created_at FROM lpr_watchlist"
                            " WHERE tenant_id = $1 ORDER BY pattern", tenant_id)
    return [dict(r) for r in rows]


async def entries(pool: asyncpg.Pool, tenant_id: UUID) -> list[WatchEntry]:
    rows = await pool.fetch("SELECT id, pattern, reason FROM lpr_watchlist WHERE tenant_id = $1", tenant_id)
    return [WatchEntry(r["id"], r["pattern"], r["reason"]) for r in rows]


async def delete(pool: asyncpg.Pool, tenant_id: UUID, entry_id: UUID) -> bool:
    done: str = await pool.execute("DELETE FROM lpr_watchlist WHERE tenant_id = $1 AND id = $2", tenant_id, entry_id)
    return done.endswith(" 1")
