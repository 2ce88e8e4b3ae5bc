"""The names signed documents give next to the ids: a camera's (even if deleted since), its city's name and
time zone, and who exported a clip (even if deleted since: the soft-deleted row keeps the name)."""

from __future__ import annotations

from uuid import UUID

import asyncpg

from domain.clip_manifest import ClipLabels


async def clip_labels(pool: asyncpg.Pool, tenant_id: UUID, camera_id: UUID, user_id: UUID) -> ClipLabels | None:
    row = await pool.fetchrow(
        "SELECT c.name AS camera_name, t.name AS city_name, t.time_zone,"
        " (SELECT username FROM users WHERE id = $3) AS username"
        " FROM cameras c JOIN tenants t ON t.id = c.tenant_id WHERE c.id = $2 AND c.tenant_id = $1",
        tenant_id, camera_id, user_id)
    if row is None:
        return None
    return ClipLabels(row["camera_name"], row["city_name"], row["time_zone"], row["username"])


async def names(pool: asyncpg.Pool, tenant_ids: list[UUID], camera_ids: list[UUID]) -> tuple[dict[UUID, str], dict[UUID, str]]:
    """City and camera names by id (deleted cameras too: a report names what it deleted)."""
    cities = await pool.fetch("SELECT id, name FROM tenants WHERE id = ANY($1::uuid[])", tenant_ids)
    cams = await pool.fetch("SELECT id, name FROM cameras WHERE id = ANY($1::uuid[])", camera_ids)
    return {r["id"]: r["name"] for r in cities}, {r["id"]: r["name"] for r in cams}
