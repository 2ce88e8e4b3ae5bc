"""Who watches live now, over every API replica (``live_viewers``, leased rows: migration 0018)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from uuid import UUID

import asyncpg

_FRESH = "seen_at > now() - make_interval(secs => $2)"


@dataclass(frozen=True)
class Standing:
    """What admitting one more viewer of a city depends on."""

    plan_name: str
    plan_max: int | None
    users: int
    watching: int


@asynccontextmanager
async def admission(pool: asyncpg.Pool, tenant_id: UUID, lease_s: float) -> AsyncIterator[tuple[asyncpg.Connection,
                                                                                                   Standing | None]]:
    """A transaction holding the city's admission lock (so two replicas cannot both admit the last place), with
    the city's standing (None: no such city). Stale leases of the city are dropped first."""
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended('live_viewers:' || $1::uuid::text, 0))",
                           tenant_id)
        await conn.execute(f"DELETE FROM live_viewers WHERE tenant_id = $1 AND NOT ({_FRESH})", tenant_id, lease_s)
        row = await conn.fetchrow(
            "SELECT p.name, p.live_viewers_max,"
            " (SELECT count(*) FROM users u WHERE u.tenant_id = t.id AND u.deleted_at IS NULL) AS users,"
            " (SELECT count(*) FROM live_viewers v WHERE v.tenant_id = t.id) AS watching"
            " FROM tenants t JOIN plans p ON p.id = t.plan_id WHERE t.id = $1", tenant_id)
        yield conn, None if row is None else Standing(row["name"], row["live_viewers_max"], int(row["users"]),
                                                      int(row["watching"]))


async def add(conn: asyncpg.Connection, viewer_id: UUID, tenant_id: UUID, camera_id: UUID,
              user_id: UUID | None) -> None:
    await conn.execute("INSERT INTO live_viewers (id, tenant_id, camera_id, user_id) VALUES ($1, $2, $3, $4)",
                       viewer_id, tenant_id, camera_id, user_id)


async def renew(pool: asyncpg.Pool, viewer_ids: list[UUID]) -> None:
    await pool.execute("UPDATE live_viewers SET seen_at = now() WHERE id = ANY($1::uuid[])", viewer_ids)


async def remove(pool: asyncpg.Pool, viewer_id: UUID) -> None:
    await pool.execute("DELETE FROM live_viewers WHERE id = $1", viewer_id)


async def by_camera(pool: asyncpg.Pool, tenant_id: UUID, lease_s: float) -> dict[UUID, int]:
    """The city's live viewers now, per camera."""
    rows = await pool.fetch(f"SELECT camera_id, count(*) AS n FROM live_viewers WHERE tenant_id = $1 AND {_FRESH}"
                            " GROUP BY camera_id", tenant_id, lease_s)
    return {r["camera_id"]: int(r["n"]) for r in rows}
