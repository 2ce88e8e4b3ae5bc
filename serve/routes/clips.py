"""Evidence clips: export a range of a camera to one MP4, follow the job, download it."""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import timedelta
from typing import Any
from uuid import UUID

from fastapi import APIRouter, HTTPException, Query, Response
from fastapi.responses import JSONResponse
from pydantic import AwareDatetime, BaseModel

from domain.clip_manifest import clip_file_name, clip_manifest_key
from domain.clips import ClipJob
from serve.deps import Caller, Res, Resources
from serve.media_grants import BearerGrant
from serve.time_range import checked_range
from services.clip_requests import clip_in_scope, delete_clip, request_clip
from services.media_access import record_look
from services.scope import scoped_tenant
from storage import clips
from storage.objects import ObjectNotFound

log = logging.getLogger(__name__)
router = APIRouter(prefix="/clips", tags=["clips"])

class ClipIn(BaseModel):
    camera_id: UUID
    start: AwareDatetime
    end: AwareDatetime


def clip_json(job: ClipJob) -> dict[str, Any]:
    return {
        "id": job.id, "camera_id": job.camera_id, "start": job.start_at, "end": job.end_at,
        "state": job.state, "progress": job.progress, "bytes": job.bytes, "sha256": job.sha256,
        "first_frame_at": job.first_frame_at, "last_frame_at": job.last_frame_at, "error": job.error,
        "requested_by": job.requested_by, "created_at": job.created_at, "finished_at": job.finished_at,
    }


@router.post("", status_code=202)
async def export_clip(request: ClipIn, caller: Caller, res: Res) -> dict[str, Any]:
    """Queue an export of [start, end): from the keyframe at or before start to the fragment covering end."""
    checked_range(request.start, request.end, timedelta(seconds=res.settings.clip_max_s))
    job = await request_clip(res.pool, caller, request.camera_id, request.start, request.end)
    _wake_exporter(res)
    return clip_json(job)


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
    job = await clip_in_scope(res.pool, caller, clip_id)
    if job.state in ("queued", "running"):
        _wake_exporter(res)
    return clip_json(job)


@router.get("/{clip_id}/download")
async def download_clip(clip_id: UUID, grant: BearerGrant, res: Res) -> dict[str, Any]:
    """A URL of the finished clip that lives as long as the request's token (at most a media token's lifetime),
    with its SHA-256 to verify the copy."""
    caller = grant.who
    job = await clip_in_scope(res.pool, caller, clip_id)
    if job.state != "done" or job.object_key is None:
        raise HTTPException(409, f"the clip is {job.state}, not ready for download")
    url = await asyncio.to_thread(res.store.presigned_get, job.object_key, grant.ttl())
    await record_look(res.pool, caller, job.tenant_id, job.camera_id, "clip.downloaded", start=job.start_at,
                      end=job.end_at, detail={"clip_id": str(job.id), "sha256": job.sha256})
    return {"url": url, "sha256": job.sha256, "bytes": job.bytes,
            "expires_at": grant.expires}


@router.get("/{clip_id}/manifest")
async def clip_manifest(clip_id: UUID, grant: BearerGrant, res: Res) -> Any:
    """The clip's signed manifest (docs/evidence.md): who may download the clip may fetch it. Check a copy offline
    with ``gtvision verify CLIP.mp4 MANIFEST.json --public-key KEY.pem`` (the key: GET /evidence-key)."""
    caller = grant.who
    job = await clip_in_scope(res.pool, caller, clip_id)
    if job.state != "done" or job.object_key is None:
        raise HTTPException(409, f"the clip is {job.state}: its manifest is signed when the export finishes")
    try:
        manifest = json.loads(await asyncio.to_thread(res.store.get, clip_manifest_key(job.object_key)))
    except ObjectNotFound:
        raise HTTPException(404, "this clip was exported before clips had signed manifests") from None
    await record_look(res.pool, caller, job.tenant_id, job.camera_id, "clip.manifest_downloaded", start=job.start_at,
                      end=job.end_at, detail={"clip_id": str(job.id), "sha256": job.sha256})
    return JSONResponse(manifest, headers={
        "content-disposition": f'attachment; filename="{clip_file_name(job.id).removesuffix(".mp4")}.manifest.json"'})


@router.delete("/{clip_id}", status_code=204)
async def remove_clip(clip_id: UUID, caller: Caller, res: Res) -> Response:
    """Delete a clip and its file (managers of its city, admins; audited). 409 while a legal hold covers its range
    or while it is being exported."""
    await delete_clip(res.pool, res.store, caller, clip_id)
    return Response(status_code=204)
