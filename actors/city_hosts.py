"""Where each city's coordinator runs: every city on one city host, at most ``cities_per_host`` per host.

The Fleet's reconcile pass calls ``reconcile`` (desired: every city in
PostgreSQL; running: what the hosts report), as it does for cameras: a host Ray
restarted empty reports nothing, and its cities are placed again — each
coordinator rebuilding its state from PostgreSQL.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from typing import Any
from uuid import UUID

import asyncpg
import ray

from actor_client.names import city_host_name
from actors.city_host import CityHost
from actors.host_actor import ON_HEAD, host_actor
from domain.placement import LOCAL, HostLoad, choose_slot
from domain.settings import Settings
from storage import tenants

log = logging.getLogger(__name__)

_CALL_TIMEOUT_S = 30.0


class CityHosts:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._hosts: dict[int, Any] = {}  # slot → actor handle
        self._placement: dict[UUID, int] = {}  # city → slot

    async def reconcile(self, pool: asyncpg.Pool) -> dict[str, int]:
        """One pass: every city coordinated, nothing else; how many were placed and removed."""
        desired = await tenants.ids(pool)
        running: set[UUID] = set()
        for slot, handle in list(self._hosts.items()):
            try:
                reported = set(await self._call(handle.running.remote()))
            except Exception as exc:  # dead or restarting: its cities count as not coordinated
                log.warning("city host %d did not answer: %s", slot, exc)
                reported = set()
            for city in [c for c, s in self._placement.items() if s == slot and c not in reported]:
                del self._placement[city]
            running |= reported
        removed = 0
        for city in running - desired:  # a deleted city
            if city in self._placement:
                await self._call(self._hosts[self._placement.pop(city)].remove.remote(city))
                removed += 1
        placed = 0
        for city in sorted(desired - running):
            hosts = {s: HostLoad(LOCAL, n) for s, n in self._load().items()}
            slot = choose_slot(hosts, LOCAL, self.settings.cities_per_host)
            try:
                await self._call(self._host(slot).add.remote(city))
            except Exception as exc:
                log.error("could not place city %s on city host %d: %s", city, slot, exc)
                continue
            self._placement[city] = slot
            placed += 1
        return {"placed": placed, "removed": removed}

    async def state(self, tenant_id: UUID) -> dict[str, Any] | None:
        slot = self._placement.get(tenant_id)
        if slot is None:
            return None
        state: dict[str, Any] | None = await self._call(self._hosts[slot].state.remote(tenant_id))
        if state is not None:
            state["host"] = city_host_name(slot)
        return state

    async def close(self) -> None:
        await asyncio.gather(*(self._call(h.shutdown.remote()) for h in self._hosts.values()),
                             return_exceptions=True)
        for handle in self._hosts.values():
            ray.kill(handle, no_restart=True)
        self._hosts.clear()
        self._placement.clear()

    def _load(self) -> dict[int, int]:
        load = Counter(self._placement.values())
        return {slot: load.get(slot, 0) for slot in self._hosts}

    def _host(self, slot: int) -> Any:
        if slot not in self._hosts:
            self._hosts[slot] = host_actor(CityHost, city_host_name(slot), self.settings, slot,
                                           ray_options={"resources": ON_HEAD})  # control plane: docs/cluster.md
        return self._hosts[slot]

    async def _call(self, ref: Any) -> Any:
        return await asyncio.wait_for(ref, _CALL_TIMEOUT_S)
