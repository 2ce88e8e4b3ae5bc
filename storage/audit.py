"""The audit log: who did what — watched, exported, logged in, changed a user, camera or city — and when.

Rows are append-only and hash-chained by the database itself (migration 0011, domain/audit_chain.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

from domain.audit import ActionFilter, AuditEntry
from storage.request_source import current_source
from storage.rows import records

ANY_ACTION = ActionFilter()


async def record(pool: asyncpg.Pool | asyncpg.Connection, user_id: UUID | None, action: str, *,
                 tenant_id: UUID | None, camera_id: UUID | None = None, start: datetime | None = None,
                 end: datetime | None = None, detail: dict[str, Any] | None = None,
                 source: str | None = None) -> str:
    """Append one row to the chain (the database hashes and links it, migration 0011); its hash, hex.

    ``source`` defaults to the client address of the API request being served, if any (storage/request_source.py).
    """
    row_hash: bytes = await pool.fetchval(
        "INSERT INTO audit_log (tenant_id, user_id, action, camera_id, range_start, range_end, detail, source)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING row_hash",
        tenant_id, user_id, action, camera_id, start, end, detail or {}, source or current_source(),
    )
    return row_hash.hex()


async def search(pool: asyncpg.Pool, tenant_id: UUID, start: datetime, end: datetime, *,
                 camera_id: UUID | None = None, user_id: UUID | None = None, action: ActionFilter = ANY_ACTION,
                 before_id: int | None = None, limit: int = 1000) -> list[AuditEntry]:
    """Entries of a tenant in [start, end), newest (highest id: chain order) first; ``before_id``: the page after
    the one that ended with that id."""
    rows = await pool.fetch(
        "SELECT id, at, tenant_id, user_id, action, camera_id, range_start, range_end, detail, source,"
        " encode(row_hash, 'hex') AS row_hash FROM audit_log"
        " WHERE tenant_id = $1 AND at >= $2 AND at < $3 AND ($4::uuid IS NULL OR camera_id = $4)"
        " AND ($5::uuid IS NULL OR user_id = $5) AND ($6::text IS NULL OR action = $6)"
        " AND ($7::text IS NULL OR starts_with(action, $7)) AND ($8::bigint IS NULL OR id < $8)"
        " ORDER BY id DESC LIMIT $9",
        tenant_id, start, end, camera_id, user_id, action.exact, action.prefix, before_id, limit,
    )
    return records(AuditEntry, rows)


async def at_and_action(pool: asyncpg.Pool, row_id: int) -> tuple[datetime, str] | None:
    """When row ``row_id`` was written and its action (to name a broken link), or None if there is no such row."""
    row = await pool.fetchrow("SELECT at, action FROM audit_log WHERE id = $1", row_id)
    return (row["at"], row["action"]) if row else None
