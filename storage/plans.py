"""Plans and the quotas they set, enforced in the same transaction as the insert they guard."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from uuid import UUID, uuid4

import asyncpg

from domain.plans import Plan, Quota, quota_refusal
from storage.rows import record, record_or_none, records

_COLUMNS = ("id, name, retention_days, camera_quota, manager_quota, viewer_quota, storage_quota_bytes,"
            " lpr_retention_days, clip_jobs_max, clip_jobs_running_max, clip_retention_days, live_viewers_max")


class QuotaExceeded(Exception):
    """One more camera or user would exceed the tenant's plan (answered with 409)."""


async def list_all(pool: asyncpg.Pool) -> list[Plan]:
    return records(Plan, await pool.fetch(f"SELECT {_COLUMNS} FROM plans ORDER BY retention_days, name"))


async def create(pool: asyncpg.Pool, *, name: str, retention_days: int, camera_quota: int, manager_quota: int,
                 viewer_quota: int, storage_quota_bytes: int | None, lpr_retention_days: int | None = None,
                 clip_jobs_max: int = 20, clip_jobs_running_max: int = 1,
                 clip_retention_days: int | None = None, live_viewers_max: int | None = None) -> Plan:
    row = await pool.fetchrow(
        f"INSERT INTO plans ({_COLUMNS}) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12) RETURNING {_COLUMNS}",
        uuid4(), name, retention_days, camera_quota, manager_quota, viewer_quota, storage_quota_bytes,
        lpr_retention_days, clip_jobs_max, clip_jobs_running_max, clip_retention_days, live_viewers_max)
    return record(Plan, row)


async def of_tenant(db: asyncpg.Pool | asyncpg.Connection, tenant_id: UUID, *, lock: bool = False) -> Plan | None:
    """The tenant's plan; ``lock`` holds the tenant's row until the transaction ends (quota checks)."""
    row = await db.fetchrow(
        f"SELECT {', '.join('p.' + c for c in _COLUMNS.split(', '))} FROM tenants t JOIN plans p ON p.id = t.plan_id"
        f" WHERE t.id = $1{' FOR UPDATE OF t' if lock else ''}", tenant_id)
    return record_or_none(Plan, row)


async def clip_retention_by_city(pool: asyncpg.Pool) -> dict[UUID, int]:
    """Days each city keeps its finished clips, of the cities whose plan sets a limit."""
    rows = await pool.fetch("SELECT t.id, p.clip_retention_days FROM tenants t JOIN plans p ON p.id = t.plan_id"
                            " WHERE p.clip_retention_days IS NOT NULL ORDER BY t.name")
    return {r["id"]: int(r["clip_retention_days"]) for r in rows}


async def assign(pool: asyncpg.Pool, tenant_id: UUID, plan_id: UUID) -> bool:
    done: str = await pool.execute("UPDATE tenants SET plan_id = $2 WHERE id = $1", tenant_id, plan_id)
    return done.endswith(" 1")


_COUNTS = {
    Quota.CAMERAS: "SELECT count(*) FROM cameras WHERE tenant_id = $1 AND deleted_at IS NULL",
    Quota.MANAGERS: "SELECT count(*) FROM users WHERE tenant_id = $1 AND role = 'manager' AND deleted_at IS NULL",
    Quota.VIEWERS: "SELECT count(*) FROM users WHERE tenant_id = $1 AND role = 'viewer' AND deleted_at IS NULL",
}


@asynccontextmanager
async def within_quota(pool: asyncpg.Pool, tenant_id: UUID, quota: Quota) -> AsyncIterator[asyncpg.Connection]:
    """A transaction in which one more ``quota`` item of the tenant fits; raises QuotaExceeded if not.

    The tenant's row stays locked until the insert commits, so concurrent
    requests (any replica) cannot both take the last place.
    """
    async with pool.acquire() as conn, conn.transaction():
        plan = await of_tenant(conn, tenant_id, lock=True)
        if plan is None:
            raise QuotaExceeded("tenant not found")
        refusal = quota_refusal(plan, quota, await conn.fetchval(_COUNTS[quota], tenant_id))
        if refusal is not None:
            raise QuotaExceeded(refusal)
        yield conn

