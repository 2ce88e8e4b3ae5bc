"""A city's watchlist rows."""

from __future__ import annotations

from uuid import UUID, uuid4

import asyncpg

from domain.lpr.watchlist import WatchEntry
from storage.rows import record, records

_COLUMNS = "id, tenant_id, pattern, reason, created_by, created_at"


async def create(pool: asyncpg.Pool, tenant_id: UUID, pattern: str, reason: str, created_by: UUID) -> WatchEntry:
    row = await pool.fetchrow(
        f"INSERT INTO lpr_watchlist (id, tenant_id, pattern, reason, created_by) VALUES ($1,$2,$3,$4,$5)"
        f" RETURNING {_COLUMNS}", uuid4(), tenant_id, pattern, reason, created_by)
    return record(WatchEntry, row)


async def list_for_tenant(pool: asyncpg.Pool, tenant_id: UUID) -> list[WatchEntry]:
    """Every entry of the city, by pattern (what the writer matches reads against, and what the API lists)."""
    rows = await pool.fetch(f"SELECT {_COLUMNS} FROM lpr_watchlist WHERE tenant_id = $1 ORDER BY pattern", tenant_id)
    return records(WatchEntry, rows)


async def delete(pool: asyncpg.Pool, tenant_id: UUID, entry_id: UUID) -> bool:
    done: str = await pool.execute("DELETE FROM lpr_watchlist WHERE tenant_id = $1 AND id = $2", tenant_id, entry_id)
    return done.endswith(" 1")
