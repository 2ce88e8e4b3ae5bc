"""A city's camera alert delays: who may see and change them (the city's managers and platform admins).

Shaped like the other city changes (services/tenant_admin.py): the city in the caller's scope, the role
checked, "tenant not found" for a city that is not there, one audit row with the value before and after.
"""

from __future__ import annotations

from dataclasses import asdict
from uuid import UUID

import asyncpg

from domain.camera_alerts import AlertSettings
from domain.rbac import Action, Principal
from services.scope import found, require, scoped_tenant
from storage import audit, camera_alerts


async def settings_of(pool: asyncpg.Pool, caller: Principal, tenant_id: UUID) -> AlertSettings:
    tenant = scoped_tenant(caller, tenant_id)
    require(caller, Action.READ, tenant)
    return found(await camera_alerts.settings_of(pool, tenant), "tenant")


async def set_settings(pool: asyncpg.Pool, caller: Principal, tenant_id: UUID,
                       settings: AlertSettings) -> AlertSettings:
    """Audited ``tenant.camera_alerts``; the alert watch uses the new delays within a few seconds."""
    tenant = scoped_tenant(caller, tenant_id)
    require(caller, Action.WRITE, tenant)
    before = found(await camera_alerts.settings_of(pool, tenant), "tenant")
    found(await camera_alerts.set_settings(pool, tenant, settings) or None, "tenant")
    await audit.record(pool, caller.user_id, "tenant.camera_alerts", tenant_id=tenant,
                       detail={"from": asdict(before), "to": asdict(settings)})
    return settings
