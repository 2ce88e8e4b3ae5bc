"""Creating and changing cities (platform admins), each change with its audit row: the value before and after.

The API checks the caller is a platform admin. Deleting a city is not here (serve/routes/tenants.py).
"""

from __future__ import annotations

from uuid import UUID

import asyncpg

from domain.camera_targets import Network
from domain.rbac import Principal
from domain.tenant import Tenant
from services.scope import found
from storage import audit, camera_networks, tenants


async def create(pool: asyncpg.Pool, caller: Principal, name: str) -> Tenant:
    tenant = await tenants.create(pool, name)
    await audit.record(pool, caller.user_id, "tenant.created", tenant_id=tenant.id, detail={"name": tenant.name})
    return tenant


async def rename(pool: asyncpg.Pool, caller: Principal, tenant_id: UUID, name: str) -> Tenant:
    before = found(await tenants.get(pool, tenant_id), "tenant")
    after = found(await tenants.rename(pool, tenant_id, name), "tenant")
    await audit.record(pool, caller.user_id, "tenant.renamed", tenant_id=tenant_id,
                       detail={"from": before.name, "to": after.name})
    return after


async def set_time_zone(pool: asyncpg.Pool, caller: Principal, tenant_id: UUID, time_zone: str) -> Tenant:
    before = found(await tenants.get(pool, tenant_id), "tenant")
    after = found(await tenants.set_time_zone(pool, tenant_id, time_zone), "tenant")
    await audit.record(pool, caller.user_id, "tenant.time_zone", tenant_id=tenant_id,
                       detail={"from": before.time_zone, "to": after.time_zone})
    return after


async def set_camera_networks(pool: asyncpg.Pool, caller: Principal, tenant_id: UUID,
                              networks: tuple[Network, ...] | None) -> None:
    """The CIDRs the city's camera URLs may point into (None: back to the deployment's)."""
    before = await camera_networks.get(pool, tenant_id)
    found(await camera_networks.set_networks(pool, tenant_id, networks) or None, "tenant")
    await audit.record(pool, caller.user_id, "tenant.camera_networks", tenant_id=tenant_id,
                       detail={"from": _listed(before), "to": _listed(networks)})


def _listed(networks: tuple[Network, ...] | None) -> list[str] | None:
    return None if networks is None else [str(n) for n in networks]
