"""A city's camera alert delays: who may see and change them (the city's managers and platform admins)."""

from __future__ import annotations

from dataclasses import asdict
from uuid import UUID

import asyncpg

from domain.camera_alerts import AlertSettings, InvalidAlertSettings
from domain.rbac import Action, Principal
from services.refusals import Invalid, NotFound
from services.scope import require, scoped_tenant
from storage import audit, camera_alerts


async def settings_of(pool: asyncpg.Pool, caller: Principal, tenant_id: UUID) -> AlertSettings:
    tenant = scoped_tenant(caller, tenant_id)
    require(caller, Action.READ, tenant)
    settings = await camera_alerts.settings_of(pool, tenant)
    if settings is None:
        raise NotFound("tenant not found")
    return settings


async def set_settings(pool: asyncpg.Pool, caller: Principal, tenant_id: UUID, offline_after_s: int,
                       online_after_s: int) -> AlertSettings:
    """Audited ``tenant.camera_alerts``; the alert watch uses the new delays within a few seconds."""
    tenant = scoped_tenant(caller, tenant_id)
    require(caller, Action.WRITE, tenant)
    try:
        settings = AlertSettings(offline_after_s, online_after_s)
    except InvalidAlertSettings as exc:
        raise Invalid(str(exc)) from None
    if not await camera_alerts.set_settings(pool, tenant, settings):
        raise NotFound("tenant not found")
    await audit.record(pool, caller.user_id, "tenant.camera_alerts", tenant_id=tenant, detail=asdict(settings))
    return settings
