"""Evidence clips: export a range of a camera to one MP4, follow the job, download it."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from fastapi import APIRouter, HTTPException, Query
from pydantic import AwareDatetime, BaseModel

from domain.clips import plan_clip
from domain.rbac import Action, Principal
from serve.deps import Caller, Res, Resources, found_in_scope, require, scoped_tenant
from serve.routes.cameras import camera_in_scope
from serve.time_range import checked_range
from storage import audit, clips, timeline

log = logging.getLogger(__name__)
router = APIRouter(prefix="/clips", tags=["clips"])

DOWNLOAD_URL_TTL = timedelta(minutes=15)


class ClipIn(BaseModel):
    camera_id: UUID
    start: AwareDatetime
    end: AwareDatetime


def clip_json(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"], "camera_id": row["camera_id"], "start": row["start_at"], "end": row["end_at"],
        "state": row["state"], "progress": row["progress"], "bytes": row["bytes"], "sha256": row["sha256"],
        "first_frame_at": row["first_frame_at"], "last_frame_at": row["last_frame_at"], "error": row["error"],
        "requested_by": row["requested_by"], "created_at": row["created_at"], "finished_at": row["finished_at"],
    }


async def _clip_in_scope(caller: Principal, res: Resources, clip_id: UUID) -> dict[str, Any]:
    return await found_in_scope(caller, "clip", lambda: clips.tenant_of(res.pool, clip_id),
                                lambda tenant: clips.get(res.pool, tenant, clip_id))


@router.post("", status_code=202)
async def export_clip(body: ClipIn, caller: Caller, res: Res) -> dict[str, Any]:
    """Queue an export of [start, end): from the keyframe at or before start to the fragment covering end."""
    checked_range(body.start, body.end, timedelta(seconds=res.settings.clip_max_s))
    camera = await camera_in_scope(caller, res, body.camera_id)
    require(caller, Action.WRITE, camera.tenant_id)
    rows = await timeline.chunks(res.pool, camera.tenant_id, camera.id, body.start, body.end, limit=10_000)
    if not plan_clip(rows, body.start, body.end):
        raise HTTPException(422, "no footage of this camera in the range")
    row = await clips.create(res.pool, camera.tenant_id, camera.id, caller.user_id, body.start, body.end)
    await audit.record(res.pool, caller.user_id, "clip.requested", tenant_id=camera.tenant_id, camera_id=camera.id,
                       start=body.start, end=body.end, detail={"clip_id": str(row["id"])})
    _wake_exporter(res)
    return clip_json(row)


def _wake_exporter(res: Resources) -> None:
    try:
        res.actors.wake_clip_exporter()
    except Exception as exc:  # it looks at the queue every few seconds anyway
        log.info("clip exporter not woken: %s", exc)


@router.get("")
async def list_clips(caller: Caller, res: Res, tenant_id: UUID | None = Query(None),
                     limit: int = Query(100, ge=1, le=1000)) -> list[dict[str, Any]]:
    tenant = scoped_tenant(caller, tenant_id)
    return [clip_json(r) for r in await clips.list_for_tenant(res.pool, tenant, limit=limit)]


@router.get("/{clip_id}")
async def get_clip(clip_id: UUID, caller: Caller, res: Res) -> dict[str, Any]:
    row = await _clip_in_scope(caller, res, clip_id)
    if row["state"] in ("queued", "running"):
        _wake_exporter(res)
    return clip_json(row)


@router.get("/{clip_id}/download")
async def download_clip(clip_id: UUID, caller: Caller, res: Res) -> dict[str, Any]:
    """A short-lived URL of the finished clip, with its SHA-256 to verify the copy."""
    row = await _clip_in_scope(caller, res, clip_id)
    if row["state"] != "done":
        raise HTTPException(409, f"the clip is {row['state']}, not ready for download")
    url = await asyncio.to_thread(res.store.presigned_get, row["object_key"], DOWNLOAD_URL_TTL)
    await audit.record(res.pool, caller.user_id, "clip.downloaded", tenant_id=row["tenant_id"],
                       camera_id=row["camera_id"], start=row["start_at"], end=row["end_at"],
                       detail={"clip_id": str(clip_id), "sha256": row["sha256"]})
    return {"url": url, "sha256": row["sha256"], "bytes": row["bytes"],
            "expires_at": datetime.now(UTC) + DOWNLOAD_URL_TTL}
