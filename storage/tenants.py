"""Tenant (city) rows."""

from __future__ import annotations

from uuid import UUID, uuid4

import asyncpg

from domain.tenant import Tenant
from storage.rows import record, record_or_none, records

_COLUMNS = "id, name, plan_id, time_zone, created_at"


async def create(pool: asyncpg.Pool, name: str) -> Tenant:
    row = await pool.fetchrow(
        f"INSERT INTO tenants (id, name) VALUES ($1, $2) RETURNING {_COLUMNS}", uuid4(), name
    )
    return record(Tenant, row)


async def get(pool: asyncpg.Pool, tenant_id: UUID) -> Tenant | None:
    return record_or_none(Tenant, await pool.fetchrow(f"SELECT {_COLUMNS} FROM tenants WHERE id = $1", tenant_id))


async def get_by_name(pool: asyncpg.Pool, name: str) -> Tenant | None:
    return record_or_none(Tenant, await pool.fetchrow(f"SELECT {_COLUMNS} FROM tenants WHERE name = $1", name))


async def list_all(pool: asyncpg.Pool, *, limit: int = 100, offset: int = 0) -> list[Tenant]:
    rows = await pool.fetch(
        f"SELECT {_COLUMNS} FROM tenants ORDER BY name LIMIT $1 OFFSET $2", limit, offset
    )
    return records(Tenant, rows)


async def rename(pool: asyncpg.Pool, tenant_id: UUID, name: str) -> Tenant | None:
    row = await pool.fetchrow(
        f"UPDATE tenants SET name = $2 WHERE id = $1 RETURNING {_COLUMNS}", tenant_id, name
    )
    return record_or_none(Tenant, row)


async def delete(pool: asyncpg.Pool, tenant_id: UUID) -> bool:
    done: str = await pool.execute("DELETE FROM tenants WHERE id = $1", tenant_id)
    return done == "DELETE 1"


async def set_time_zone(pool: asyncpg.Pool, tenant_id: UUID, time_zone: str) -> Tenant | None:
    row = await pool.fetchrow(f"UPDATE tenants SET time_zone = $2 WHERE id = $1 RETURNING {_COLUMNS}",
                              tenant_id, time_zone)
    return record_or_none(Tenant, row)


async def ids(pool: asyncpg.Pool) -> set[UUID]:
    """Every city's id (each has a coordinator: actors/city_hosts.py)."""
    return {r["id"] for r in await pool.fetch("SELECT id FROM tenants")}
