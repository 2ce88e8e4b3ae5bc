"""The bytes each city stores, by kind (``tenant_storage``, kept by triggers as rows change: migration 0017)."""

from __future__ import annotations

from collections import defaultdict
from uuid import UUID

import asyncpg

from domain.city_storage import CityStorage


async def of_city(pool: asyncpg.Pool | asyncpg.Connection, tenant_id: UUID) -> CityStorage:
    rows = await pool.fetch("SELECT kind, bytes FROM tenant_storage WHERE tenant_id = $1", tenant_id)
    return CityStorage(**{r["kind"]: int(r["bytes"]) for r in rows})


async def every_city(pool: asyncpg.Pool) -> dict[UUID, CityStorage]:
    kinds: dict[UUID, dict[str, int]] = defaultdict(dict)
    for r in await pool.fetch("SELECT tenant_id, kind, bytes FROM tenant_storage"):
        kinds[r["tenant_id"]][r["kind"]] = int(r["bytes"])
    return {tenant_id: CityStorage(**by_kind) for tenant_id, by_kind in kinds.items()}


async def recounted(pool: asyncpg.Pool, tenant_id: UUID) -> CityStorage:
    """The same bytes summed from the rows (a scan): what the tests compare the counters with."""
    row = await pool.fetchrow(
        """SELECT (SELECT coalesce(sum(bytes), 0) FROM recordings WHERE tenant_id = $1) AS recordings,
                  (SELECT coalesce(sum(thumbnail_bytes), 0) FROM recordings WHERE tenant_id = $1) AS thumbnails,
                  (SELECT coalesce(sum(bytes), 0) FROM clips WHERE tenant_id = $1) AS clips,
                  (SELECT coalesce(sum(image_bytes), 0) FROM lpr_events WHERE tenant_id = $1) AS lpr_images""",
        tenant_id)
    return CityStorage(**{k: int(v) for k, v in dict(row).items()})


async def share_inputs(pool: asyncpg.Pool, tenant_id: UUID) -> tuple[int | None, int]:
    """(the city's plan quota, how many cities there are): what its fair share is computed from."""
    row = await pool.fetchrow("SELECT p.storage_quota_bytes, (SELECT count(*) FROM tenants) AS cities"
                              " FROM tenants t JOIN plans p ON p.id = t.plan_id WHERE t.id = $1", tenant_id)
    return (None, 0) if row is None else (row["storage_quota_bytes"], int(row["cities"]))
