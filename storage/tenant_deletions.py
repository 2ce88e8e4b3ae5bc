"""Scheduled and completed city deletions (``tenant_deletions``, migration 0014), and the deletion of a city's
rows: every table with a ``tenant_id`` column, found in the catalog (so a table added later is not forgotten),
except those the city's record lives on in (domain/city_deletion.py ``KEPT_TABLES``)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

from domain.city_deletion import KEPT_TABLES, TenantDeletion, city_prefix
from storage import sessions
from storage.rows import record, record_or_none, records

_COLUMNS = ("id, tenant_id, tenant_name, requested_at, requested_by, requested_by_name, due_at, state, cancelled_at,"
            " objects, rows_deleted, completed_at, report, report_key")
_OPEN = "state IN ('scheduled', 'deleting')"
_TABLE_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")
_LAST = ("cameras", "users")  # referenced by other tables of the city: deleted after them, so each count is its own


@dataclass(frozen=True)
class Scheduling:
    """What scheduling found: the city's open deletion (``created`` if this call made it), or the holds that
    prevent one; both empty when there is no such city."""

    deletion: TenantDeletion | None
    created: bool
    active_holds: int


def _deletion(row: asyncpg.Record) -> TenantDeletion:
    return record(TenantDeletion, row)


async def schedule(pool: asyncpg.Pool, tenant_id: UUID, *, requested_by: UUID, requested_by_name: str | None,
                   due_at: datetime) -> Scheduling:
    """Schedule the city's deletion unless a hold is active or one is already open; disable its active users
    and end their sessions (they cannot log in until a restore). One transaction: all of it or nothing."""
    async with pool.acquire() as conn, conn.transaction():
        name = await conn.fetchval("SELECT name FROM tenants WHERE id = $1 FOR UPDATE", tenant_id)
        if name is None:
            return Scheduling(None, False, 0)
        holds: int = await conn.fetchval(
            "SELECT count(*) FROM legal_holds WHERE tenant_id = $1 AND released_at IS NULL", tenant_id)
        if holds:
            return Scheduling(None, False, holds)
        existing = await conn.fetchrow(f"SELECT {_COLUMNS} FROM tenant_deletions WHERE tenant_id = $1 AND {_OPEN}",
                                       tenant_id)
        if existing is not None:
            return Scheduling(_deletion(existing), False, 0)
        disabled = [r["id"] for r in await conn.fetch(
            "UPDATE users SET disabled_at = now() WHERE tenant_id = $1 AND disabled_at IS NULL AND deleted_at IS NULL"
            " RETURNING id", tenant_id)]
        for user_id in disabled:
            await sessions.end_all_of_user(conn, user_id)
        row = await conn.fetchrow(
            "INSERT INTO tenant_deletions (tenant_id, tenant_name, requested_by, requested_by_name, due_at,"
            f" disabled_users) VALUES ($1, $2, $3, $4, $5, $6) RETURNING {_COLUMNS}",
            tenant_id, name, requested_by, requested_by_name, due_at, disabled)
        return Scheduling(_deletion(row), True, 0)


async def cancel(pool: asyncpg.Pool, tenant_id: UUID, cancelled_by: UUID) -> TenantDeletion | None:
    """Cancel the city's scheduled deletion and enable again the users it disabled. Returns the open deletion as
    it now stands (``cancelled``, or ``deleting`` when it had begun and was left alone); None if none is open."""
    async with pool.acquire() as conn, conn.transaction():
        row = await conn.fetchrow(
            f"SELECT {_COLUMNS}, disabled_users FROM tenant_deletions WHERE tenant_id = $1 AND {_OPEN} FOR UPDATE",
            tenant_id)
        if row is None or row["state"] != "scheduled":
            return record_or_none(TenantDeletion, row)
        await conn.execute("UPDATE users SET disabled_at = NULL WHERE id = ANY($1::uuid[]) AND deleted_at IS NULL",
                           row["disabled_users"])
        cancelled = await conn.fetchrow(
            "UPDATE tenant_deletions SET state = 'cancelled', cancelled_at = now(), cancelled_by = $2"
            f" WHERE id = $1 RETURNING {_COLUMNS}", row["id"], cancelled_by)
        return _deletion(cancelled)


async def latest(pool: asyncpg.Pool, tenant_id: UUID) -> TenantDeletion | None:
    """The city's newest deletion request (open, done or cancelled)."""
    row = await pool.fetchrow(f"SELECT {_COLUMNS} FROM tenant_deletions WHERE tenant_id = $1 ORDER BY id DESC LIMIT 1",
                              tenant_id)
    return record_or_none(TenantDeletion, row)


async def due(pool: asyncpg.Pool, now: datetime, *, limit: int = 10) -> list[TenantDeletion]:
    """Deletions to carry out: scheduled ones past their date, and any a crash left half done."""
    rows = await pool.fetch(
        f"SELECT {_COLUMNS} FROM tenant_deletions WHERE state = 'deleting' OR (state = 'scheduled' AND due_at <= $1)"
        " ORDER BY due_at LIMIT $2", now, limit)
    return records(TenantDeletion, rows)


async def begin(pool: asyncpg.Pool, deletion_id: int) -> tuple[bool, int]:
    """Move a due deletion to ``deleting`` (it can no longer be cancelled) unless a hold has been placed since:
    (began, active holds)."""
    async with pool.acquire() as conn, conn.transaction():
        row = await conn.fetchrow(
            "SELECT d.state, (SELECT count(*) FROM legal_holds h WHERE h.tenant_id = d.tenant_id"
            " AND h.released_at IS NULL) AS holds FROM tenant_deletions d WHERE d.id = $1 FOR UPDATE", deletion_id)
        if row is None or row["state"] not in ("scheduled", "deleting") or row["holds"]:
            return False, int(row["holds"]) if row else 0
        await conn.execute("UPDATE tenant_deletions SET state = 'deleting' WHERE id = $1", deletion_id)
        return True, 0


async def record_objects(pool: asyncpg.Pool, deletion_id: int, counts: dict[str, dict[str, int]]) -> None:
    await pool.execute("UPDATE tenant_deletions SET objects = $2 WHERE id = $1", deletion_id, counts)


async def tenant_tables(pool: asyncpg.Pool | asyncpg.Connection) -> list[str]:
    """Every table of the schema with a ``tenant_id`` column (partitioned tables once, not per partition)."""
    rows = await pool.fetch(
        "SELECT c.relname FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid"
        " JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE a.attname = 'tenant_id' AND NOT a.attisdropped AND c.relkind IN ('r', 'p') AND NOT c.relispartition"
        " AND n.nspname = current_schema() ORDER BY c.relname")
    return [str(r["relname"]) for r in rows]


async def rows_of_city(pool: asyncpg.Pool, tenant_id: UUID) -> dict[str, int]:
    """How many rows of the city each table holds (kept tables included): what a deletion leaves behind."""
    counts: dict[str, int] = {}
    for table in await tenant_tables(pool):
        counts[table] = int(await pool.fetchval(f'SELECT count(*) FROM "{_checked(table)}" WHERE tenant_id = $1',
                                                tenant_id))
    counts["tenants"] = int(await pool.fetchval("SELECT count(*) FROM tenants WHERE id = $1", tenant_id))
    return counts


async def delete_rows(pool: asyncpg.Pool, deletion_id: int, tenant_id: UUID) -> dict[str, int]:
    """Delete every row of the city but the kept tables', in one transaction with the record of the counts
    (table → rows). Returns the counts already recorded when a previous call did it."""
    async with pool.acquire() as conn, conn.transaction():
        done = await conn.fetchval("SELECT rows_deleted FROM tenant_deletions WHERE id = $1 FOR UPDATE", deletion_id)
        if done is not None:
            return {str(k): int(v) for k, v in done.items()}
        tables = [t for t in await tenant_tables(conn) if t not in KEPT_TABLES]
        ordered = [t for t in tables if t not in _LAST] + [t for t in _LAST if t in tables]
        counts: dict[str, int] = {}
        counts["sessions"] = _count(await conn.execute(
            "DELETE FROM sessions WHERE user_id IN (SELECT id FROM users WHERE tenant_id = $1)", tenant_id))
        counts["purge_queue"] = _count(await conn.execute(
            "DELETE FROM purge_queue WHERE starts_with(object_key, $1)", city_prefix(tenant_id)))
        for table in ordered:
            counts[table] = _count(await conn.execute(f'DELETE FROM "{_checked(table)}" WHERE tenant_id = $1',
                                                      tenant_id))
        counts["tenants"] = _count(await conn.execute("DELETE FROM tenants WHERE id = $1", tenant_id))
        await conn.execute("UPDATE tenant_deletions SET rows_deleted = $2 WHERE id = $1", deletion_id, counts)
        return counts


async def complete(pool: asyncpg.Pool, deletion_id: int, *, completed_at: datetime, report: dict[str, Any],
                   report_key: str) -> None:
    await pool.execute("UPDATE tenant_deletions SET state = 'deleted', completed_at = $2, report = $3, report_key = $4"
                       " WHERE id = $1", deletion_id, completed_at, report, report_key)


def _checked(table: str) -> str:
    if not _TABLE_NAME.match(table):
        raise ValueError(f"unexpected table name {table!r}")
    return table


def _count(status: str) -> int:
    return int(status.split()[-1])
