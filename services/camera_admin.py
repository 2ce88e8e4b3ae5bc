"""Adding, editing and removing a city's cameras, each with its audit row (domain/camera_audit.py says what
the row holds: the settings, never the stream's credentials).

The API checks who may do it and that the stream's target is allowed (services/camera_targets.py); a new camera
counts against the city's plan, and its row and audit row commit together.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import asyncpg

from domain.camera import Camera
from domain.camera_audit import camera_changes, camera_settings
from domain.plans import Quota
from domain.rbac import Principal
from domain.sealing import Sealer
from domain.stream_url import StreamUrl
from services.scope import found
from storage import audit, cameras, plans


async def create(pool: asyncpg.Pool, caller: Principal, tenant_id: UUID, *, name: str, vendor: str,
                 stream: StreamUrl, enabled: bool, latitude: float | None, longitude: float | None,
                 sealer: Sealer, substream: StreamUrl | None = None) -> Camera:
    async with plans.within_quota(pool, tenant_id, Quota.CAMERAS) as conn:
        camera = await cameras.create(conn, tenant_id=tenant_id, name=name, vendor=vendor, stream=stream,
                                      enabled=enabled, latitude=latitude, longitude=longitude, sealer=sealer,
                                      substream=substream)
        await audit.record(conn, caller.user_id, "camera.created", tenant_id=tenant_id, camera_id=camera.id,
                           detail=camera_settings(camera))
    return camera


async def update(pool: asyncpg.Pool, caller: Principal, camera: Camera, changes: dict[str, Any],
                 stream: StreamUrl | None, sealer: Sealer) -> Camera:
    """Apply the edit: ``changes`` to plain fields, ``stream`` (with its password opened) if the stream changed."""
    credentials_changed = stream is not None and _credentials(stream) != _credentials(camera.opened_stream(sealer))
    updated = found(await cameras.update(pool, camera.tenant_id, camera.id, changes, stream, sealer), "camera")
    await audit.record(pool, caller.user_id, "camera.updated", tenant_id=camera.tenant_id, camera_id=camera.id,
                       detail={"changes": camera_changes(camera, updated, credentials_changed)})
    return updated


async def delete(pool: asyncpg.Pool, caller: Principal, camera: Camera) -> None:
    """Hide the camera and stop its recording (its footage stays until retention removes it)."""
    if await cameras.soft_delete(pool, camera.tenant_id, camera.id):
        await audit.record(pool, caller.user_id, "camera.deleted", tenant_id=camera.tenant_id, camera_id=camera.id,
                           detail=camera_settings(camera))


def _credentials(stream: StreamUrl) -> tuple[str | None, str | None]:
    return stream.username, stream.password
