"""Clip requests: who may ask for an export of which range, whether there is footage to export, and the
job (queued in PostgreSQL, audited) that the clip exporter then takes; and deleting a clip (audited), which a
legal hold over its range forbids."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from uuid import UUID

import asyncpg

from domain.clip_manifest import clip_manifest_key
from domain.clips import ClipJob, plan_clip
from domain.plans import clip_jobs_refusal
from domain.rbac import Action, Principal
from services.clip_export import MAX_CHUNKS
from services.refusals import Conflict, Invalid, NotFound, TooMany
from services.scope import camera_in_scope, found_in_scope, require
from storage import audit, clips, holds, plans, purges, timeline
from storage.objects import ObjectStore

log = logging.getLogger(__name__)


async def request_clip(pool: asyncpg.Pool, caller: Principal, camera_id: UUID, start: datetime,
                       end: datetime) -> ClipJob:
    """Queue an export of [start, end) of a camera the caller may write to; Invalid if nothing is recorded,
    TooMany if the city already has as many exports queued or running as its plan allows (``clip_jobs_max``)."""
    camera = await camera_in_scope(pool, caller, camera_id)
    require(caller, Action.WRITE, camera.tenant_id)
    chunks = await timeline.chunks(pool, camera.tenant_id, camera.id, start, end, limit=MAX_CHUNKS)
    if not plan_clip(chunks, start, end):
        raise Invalid("no footage of this camera in the range")
    # The city's row stays locked until the job is inserted: concurrent requests (any replica) cannot both take
    # the last place.
    async with pool.acquire() as conn, conn.transaction():
        plan = await plans.of_tenant(conn, camera.tenant_id, lock=True)
        if plan is None:
            raise NotFound("the camera's city does not exist")
        refusal = clip_jobs_refusal(plan, await clips.pending(conn, camera.tenant_id))
        if refusal is not None:
            raise TooMany(refusal)
        job = await clips.create(conn, camera.tenant_id, camera.id, caller.user_id, start, end)
        await audit.record(conn, caller.user_id, "clip.requested", tenant_id=camera.tenant_id, camera_id=camera.id,
                           start=start, end=end, detail={"clip_id": str(job.id)})
    return job


async def clip_in_scope(pool: asyncpg.Pool, caller: Principal, clip_id: UUID) -> ClipJob:
    return await found_in_scope(pool, caller, "clip", clip_id, lambda tenant: clips.get(pool, tenant, clip_id))


async def delete_clip(pool: asyncpg.Pool, store: ObjectStore, caller: Principal, clip_id: UUID) -> None:
    """Delete a clip (managers of its city, admins): its row and audit row (``clip.deleted``) together, then its
    object. Conflict while a legal hold covers its range or while it is being exported."""
    job = await clip_in_scope(pool, caller, clip_id)
    require(caller, Action.WRITE, job.tenant_id)
    hold = await holds.active_covering(pool, job.camera_id, job.start_at, job.end_at)
    if hold is not None:
        raise Conflict(f"the clip is evidence under legal hold {hold.id} (case {hold.case_number}): release the hold"
                       " before deleting it")
    async with pool.acquire() as conn, conn.transaction():
        deleted, key = await clips.delete_unless_running(conn, job.tenant_id, job.id)
        if not deleted:
            raise Conflict("the clip is being exported: delete it once it is done or failed")
        keys = [] if key is None else [key, clip_manifest_key(key)]
        await purges.enqueue(conn, keys)
        await audit.record(conn, caller.user_id, "clip.deleted", tenant_id=job.tenant_id, camera_id=job.camera_id,
                           start=job.start_at, end=job.end_at,
                           detail={"clip_id": str(job.id), "sha256": job.sha256, "state": job.state})
    if keys:
        try:
            if not await asyncio.to_thread(store.delete_many, keys):
                await purges.dequeue(pool, keys)
        except Exception as exc:  # it stays queued: the next retention pass deletes it
            log.warning("clip %s: object not deleted yet (%s); the retention pass will", job.id, exc)
