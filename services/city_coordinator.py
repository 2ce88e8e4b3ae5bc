"""One city's coordinator: its share, accounting, queues and live health, rebuilt from PostgreSQL at any time.

A plain asyncio object (many run in one city-host actor process, as camera
supervisors do in a camera host: actors/city_host.py). It owns the city's
**live** view — what the city stores by kind against its fair share, its clip
jobs by state, its live viewers, its cameras by state — refreshed every
``REFRESH_S`` from the rows that are the truth (docs/cities.md "Coordinators"
says what stays in PostgreSQL and why). Nothing in it exists only in memory:
a coordinator whose process was killed comes back, rebuilds, and knows the
same counts.
"""

from __future__ import annotations

import asyncio
import logging
from uuid import UUID

import asyncpg

from domain.city_state import CityState
from domain.viewer_admission import LEASE_S
from storage import city_storage, clips, live_viewers, tenant_health

log = logging.getLogger(__name__)

REFRESH_S = 5.0


async def city_state(pool: asyncpg.Pool, tenant_id: UUID, capacity_bytes: int | None) -> CityState:
    """The city's state as PostgreSQL holds it now (a handful of indexed lookups, no scan of the store)."""
    quota, cities = await city_storage.share_inputs(pool, tenant_id)
    share = quota if quota is not None else (capacity_bytes // cities if capacity_bytes and cities else None)
    return CityState(
        tenant_id=tenant_id, storage=await city_storage.of_city(pool, tenant_id), share_bytes=share,
        clip_jobs=await clips.count_by_state(pool, tenant_id),
        live_viewers=sum((await live_viewers.by_camera(pool, tenant_id, LEASE_S)).values()),
        cameras=await tenant_health.states_of_city(pool, tenant_id))


class CityCoordinator:
    """Keeps one city's state current until cancelled; ``state`` is None until the first rebuild."""

    def __init__(self, tenant_id: UUID, capacity_bytes: int | None) -> None:
        self.tenant_id = tenant_id
        self.capacity_bytes = capacity_bytes
        self.state: CityState | None = None
        self.rebuilds = 0

    async def rebuild(self, pool: asyncpg.Pool) -> CityState:
        self.state = await city_state(pool, self.tenant_id, self.capacity_bytes)
        self.rebuilds += 1
        return self.state

    async def run(self, pool: asyncpg.Pool) -> None:
        """Refresh every ``REFRESH_S`` after the first rebuild (a failed refresh keeps the last state and tries
        again next time)."""
        while True:
            await asyncio.sleep(REFRESH_S)
            try:
                await self.rebuild(pool)
            except (asyncpg.PostgresError, OSError) as exc:
                log.warning("city %s: state not refreshed: %s", self.tenant_id, exc)
