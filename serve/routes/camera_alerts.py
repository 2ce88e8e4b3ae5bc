"""A city's camera alert delays: ``GET`` / ``PUT /tenants/{id}/alerts`` (docs/cities.md "Camera alerts")."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any
from uuid import UUID

from fastapi import APIRouter
from pydantic import BaseModel, Field

from domain.camera_alerts import MAX_DELAY_S, MIN_DELAY_S, AlertSettings
from serve.deps import Caller, Res
from services import camera_alert_settings

router = APIRouter(prefix="/tenants", tags=["tenants"])


class AlertSettingsIn(BaseModel):
    offline_after_s: int = Field(ge=MIN_DELAY_S, le=MAX_DELAY_S,
                                 description="a camera down this long raises camera.offline")
    online_after_s: int = Field(ge=MIN_DELAY_S, le=MAX_DELAY_S,
                                description="after camera.offline, recording this long raises camera.online")


@router.get("/{tenant_id}/alerts")
async def get_alert_settings(tenant_id: UUID, caller: Caller, res: Res) -> dict[str, Any]:
    return asdict(await camera_alert_settings.settings_of(res.pool, caller, tenant_id))


@router.put("/{tenant_id}/alerts")
async def put_alert_settings(tenant_id: UUID, settings: AlertSettingsIn, caller: Caller, res: Res) -> dict[str, Any]:
    """Managers of the city and platform admins; audited ``tenant.camera_alerts``."""
    return asdict(await camera_alert_settings.set_settings(
        res.pool, caller, tenant_id, AlertSettings(settings.offline_after_s, settings.online_after_s)))
