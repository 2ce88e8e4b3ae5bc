"""A city host: one Ray actor process running many city coordinators (services/city_coordinator.py).

One process per city would cost ≈ 49 MiB each (docs/architecture.md); a
coordinator is a plain asyncio object costing a few KiB, so a host carries
``cities_per_host`` of them (default 100), exactly as a camera host carries
camera supervisors. The Fleet places cities on hosts (actors/city_hosts.py)
and refills a host Ray restarted empty; each coordinator rebuilds its city
from PostgreSQL. Hosts are named ``city-host-<n>`` and each shows the cities
it coordinates in the Ray dashboard (``__repr__``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from typing import Any
from uuid import UUID

from actors.platform_actor import PlatformActor
from domain.settings import Settings
from services.city_coordinator import CityCoordinator

log = logging.getLogger(__name__)


class CityHost(PlatformActor):
    """Runs the coordinators the Fleet places here over one small pool (they read a few indexed rows each)."""

    uses_store = False
    uses_bus = False
    pool_size = 4

    def __init__(self, settings: Settings, slot: int) -> None:
        super().__init__(settings)
        self.slot = slot
        self._coordinators: dict[UUID, tuple[CityCoordinator, asyncio.Task[None]]] = {}

    def __repr__(self) -> str:
        return f"CityHost(slot={self.slot}, cities={len(self._coordinators)})"

    async def add(self, tenant_id: UUID) -> None:
        """Coordinate the city here (its state rebuilt from PostgreSQL before this returns)."""
        await self.start()
        if tenant_id in self._coordinators:
            return
        coordinator = CityCoordinator(tenant_id, self.settings.object_store_capacity_bytes)
        await coordinator.rebuild(self.pool)
        task = asyncio.create_task(coordinator.run(self.pool), name=f"city-{tenant_id}")
        self._coordinators[tenant_id] = (coordinator, task)

    async def remove(self, tenant_id: UUID) -> None:
        coordinator = self._coordinators.pop(tenant_id, None)
        if coordinator is not None:
            coordinator[1].cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await coordinator[1]

    async def running(self) -> list[UUID]:
        return list(self._coordinators)

    async def state(self, tenant_id: UUID) -> dict[str, Any] | None:
        """The city's state as its coordinator holds it (None: not coordinated here)."""
        held = self._coordinators.get(tenant_id)
        if held is None or held[0].state is None:
            return None
        return {**held[0].state.to_json(), "rebuilds": held[0].rebuilds, "host_pid": os.getpid()}

    async def pid(self) -> int:
        return os.getpid()

    async def shutdown(self) -> None:
        for tenant_id in list(self._coordinators):
            await self.remove(tenant_id)
        await self.stop()
