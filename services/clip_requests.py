"""Clip requests: who may ask for an export of which range, whether there is footage to export, and the
job (queued in PostgreSQL, audited) that the clip exporter then takes."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import asyncpg

from domain.clips import ClipJob, plan_clip
from domain.rbac import Action, Principal
from services.clip_export import MAX_CHUNKS
from services.refusals import Invalid
from services.scope import camera_in_scope, found_in_scope, require
from storage import audit, clips, timeline


async def request_clip(pool: asyncpg.Pool, caller: Principal, camera_id: UUID, start: datetime,
                       end: datetime) -> ClipJob:
    """Queue an export of [start, end) of a camera the caller may write to; Invalid if nothing is recorded."""
    camera = await camera_in_scope(pool, caller, camera_id)
    require(caller, Action.WRITE, camera.tenant_id)
    chunks = await timeline.chunks(pool, camera.tenant_id, camera.id, start, end, limit=MAX_CHUNKS)
    if not plan_clip(chunks, start, end):
        raise Invalid("no footage of this camera in the range")
    job = await clips.create(pool, camera.tenant_id, camera.id, caller.user_id, start, end)
    await audit.record(pool, caller.user_id, "clip.requested", tenant_id=camera.tenant_id, camera_id=camera.id,
                       start=start, end=end, detail={"clip_id": str(job.id)})
    return job


async def clip_in_scope(pool: asyncpg.Pool, caller: Principal, clip_id: UUID) -> ClipJob:
    return await found_in_scope(pool, caller, "clip", clip_id, lambda tenant: clips.get(pool, tenant, clip_id))
