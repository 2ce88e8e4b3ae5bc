"""Which city owns a thing addressed by its id alone — how platform admins, who belong to no city, reach it."""

from __future__ import annotations

from typing import Literal
from uuid import UUID

import asyncpg

Owned = Literal["camera", "clip", "hold", "mosaic"]

_OWNER_SQL: dict[str, str] = {
    "camera": "SELECT tenant_id FROM cameras WHERE id = $1 AND deleted_at IS NULL",
    "clip": "SELECT tenant_id FROM clips WHERE id = $1",
    "hold": "SELECT tenant_id FROM legal_holds WHERE id = $1",
    "mosaic": "SELECT tenant_id FROM mosaics WHERE id = $1",
}


async def tenant_of(pool: asyncpg.Pool, what: Owned, thing_id: UUID) -> UUID | None:
    tenant: UUID | None = await pool.fetchval(_OWNER_SQL[what], thing_id)
    return tenant
