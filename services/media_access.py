"""Media access: a look at a camera's footage is allowed only in the caller's scope, and every look is audited.

Live view, playback, recorded snapshots, clip downloads and media tokens all
pass here, so the audit trail answers "who saw what of which camera, when".
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

from domain.camera import Camera
from domain.rbac import Principal
from services.scope import camera_in_scope
from storage import audit


async def open_footage(pool: asyncpg.Pool, who: Principal, camera_id: UUID, action: str, *,
                       start: datetime | None = None, end: datetime | None = None,
                       detail: dict[str, Any] | None = None) -> Camera:
    """The camera, if the caller may see it, after writing the audit row (``action``: live.view, playback, …)."""
    camera = await camera_in_scope(pool, who, camera_id)
    await record_look(pool, who, camera.tenant_id, camera.id, action, start=start, end=end, detail=detail)
    return camera


async def record_look(pool: asyncpg.Pool, who: Principal, tenant_id: UUID, camera_id: UUID, action: str, *,
                      start: datetime | None = None, end: datetime | None = None,
                      detail: dict[str, Any] | None = None) -> None:
    """The audit row of a look whose scope was already checked (after finding what there is to see, or a clip
    download: ``clip.downloaded``)."""
    await audit.record(pool, who.user_id, action, tenant_id=tenant_id, camera_id=camera_id, start=start, end=end,
                       detail=detail)
