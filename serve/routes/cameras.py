"""Cameras of the caller's tenant: CRUD, live status and the recording index."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal
from uuid import UUID

from fastapi import APIRouter, HTTPException, Query, Response
from pydantic import BaseModel, Field, model_validator

from domain.camera import Camera
from domain.camera_vendors import StreamKind, Vendor, build_stream_url, build_substream_url
from domain.rbac import Action
from domain.stream_url import STREAM_FIELDS, StreamUrl, parse_stream_url, parse_substream_url, patched_stream
from domain.uptime import uptime
from serve.deps import Caller, Res
from serve.media_grants import BearerGrant
from serve.time_range import checked_range
from services import camera_admin
from services.camera_targets import check_target
from services.media_access import record_look
from services.scope import camera_in_scope, require, scoped_tenant
from storage import cameras, recordings, status_history

log = logging.getLogger(__name__)
router = APIRouter(prefix="/cameras", tags=["cameras"])

MAX_RECORDINGS_SPAN = timedelta(days=31)


_SUBSTREAM_DOC = ("the camera's lighter stream, watched by mosaic tiles (live only, never recorded); validated like"
                  " rtsp_url, and opened with the main stream's login (credentials in it must be those)")


class CameraIn(BaseModel):
    """A camera: give ``rtsp_url``, or ``host`` (+ channel/stream) for a known vendor (whose builder also fills
    ``substream_url`` when the main stream is asked for and no sub-stream is given)."""

    name: str = Field(min_length=1, max_length=200)
    vendor: Vendor = Vendor.GENERIC
    rtsp_url: str | None = Field(None, max_length=2048)
    substream_url: str | None = Field(None, max_length=2048, description=_SUBSTREAM_DOC)
    host: str | None = Field(None, min_length=1, max_length=255)
    port: int = Field(554, ge=1, le=65535)
    channel: int = Field(1, ge=1, le=256)
    stream: StreamKind = StreamKind.MAIN
    username: str | None = Field(None, max_length=200)
    password: str | None = Field(None, max_length=200)
    enabled: bool = True
    latitude: float | None = Field(None, ge=-90, le=90)
    longitude: float | None = Field(None, ge=-180, le=180)
    tenant_id: UUID | None = None

    @model_validator(mode="after")
    def _url_or_host(self) -> CameraIn:
        if (self.rtsp_url is None) == (self.host is None):
            raise ValueError("give exactly one of rtsp_url or host")
        return self


class CameraPatch(BaseModel):
    name: str | None = Field(None, min_length=1, max_length=200)
    rtsp_url: str | None = Field(None, max_length=2048)
    substream_url: str | None = Field(None, max_length=2048, description=_SUBSTREAM_DOC + "; null removes it")
    username: str | None = Field(None, max_length=200)
    password: str | None = Field(None, max_length=200)
    enabled: bool | None = None
    latitude: float | None = Field(None, ge=-90, le=90)
    longitude: float | None = Field(None, ge=-180, le=180)


def camera_json(camera: Camera) -> dict[str, Any]:
    return {
        "id": camera.id, "tenant_id": camera.tenant_id, "name": camera.name, "vendor": camera.vendor,
        "rtsp_url": camera.stream.public_url, "username": camera.stream.username,
        "substream_url": None if camera.substream is None else camera.substream.public_url,
        "has_password": camera.sealed_password is not None, "enabled": camera.enabled,
        "latitude": camera.latitude, "longitude": camera.longitude,
        "created_at": camera.created_at, "updated_at": camera.updated_at,
    }


@router.post("", status_code=201)
async def create_camera(body: CameraIn, caller: Caller, res: Res) -> dict[str, Any]:
    tenant = scoped_tenant(caller, body.tenant_id)
    require(caller, Action.WRITE, tenant)
    substream: StreamUrl | None = None
    if body.rtsp_url is not None:
        stream = parse_stream_url(body.rtsp_url, body.username, body.password)
    else:
        assert body.host is not None
        stream = build_stream_url(body.vendor, body.host, channel=body.channel, stream=body.stream,
                                  port=body.port, username=body.username, password=body.password)
        if body.stream == StreamKind.MAIN:
            substream = build_substream_url(body.vendor, body.host, channel=body.channel, port=body.port)
    if body.substream_url is not None:
        substream = parse_substream_url(body.substream_url, stream)
    await check_target(res.pool, res.settings, tenant, stream)
    if substream is not None:
        await check_target(res.pool, res.settings, tenant, substream)
    camera = await camera_admin.create(res.pool, caller, tenant, name=body.name.strip(), vendor=body.vendor.value,
                                       stream=stream, enabled=body.enabled, latitude=body.latitude,
                                       longitude=body.longitude, sealer=res.sealer, substream=substream)
    return camera_json(camera)


@router.get("")
async def list_cameras(
    caller: Caller, res: Res, tenant_id: UUID | None = Query(None),
    limit: int = Query(1000, ge=1, le=1000), offset: int = Query(0, ge=0),
) -> list[dict[str, Any]]:
    tenant = scoped_tenant(caller, tenant_id)
    return [camera_json(c) for c in await cameras.list_for_tenant(res.pool, tenant, limit=limit, offset=offset)]


@router.get("/{camera_id}")
async def get_camera(camera_id: UUID, caller: Caller, res: Res) -> dict[str, Any]:
    return camera_json(await camera_in_scope(res.pool, caller, camera_id))


@router.patch("/{camera_id}")
async def update_camera(camera_id: UUID, body: CameraPatch, caller: Caller, res: Res) -> dict[str, Any]:
    camera = await camera_in_scope(res.pool, caller, camera_id)
    require(caller, Action.WRITE, camera.tenant_id)
    changes = body.model_dump(exclude_unset=True)
    stream_changes = {field: changes.pop(field) for field in STREAM_FIELDS if field in changes}
    # the stream is validated again as a whole, with the password it keeps: opened only for this edit
    stream = patched_stream(camera.opened_stream(res.sealer), stream_changes) if stream_changes else None
    if stream is not None and stream.public_url != camera.stream.public_url:
        await check_target(res.pool, res.settings, camera.tenant_id, stream)
    if changes.get("substream_url") is not None:
        substream = parse_substream_url(changes["substream_url"], stream or camera.opened_stream(res.sealer))
        if camera.substream is None or substream.public_url != camera.substream.public_url:
            await check_target(res.pool, res.settings, camera.tenant_id, substream)
        changes["substream_url"] = substream.public_url
    return camera_json(await camera_admin.update(res.pool, caller, camera, changes, stream, res.sealer))


@router.delete("/{camera_id}", status_code=204)
async def delete_camera(camera_id: UUID, caller: Caller, res: Res) -> Response:
    camera = await camera_in_scope(res.pool, caller, camera_id)
    require(caller, Action.WRITE, camera.tenant_id)
    await camera_admin.delete(res.pool, caller, camera)
    return Response(status_code=204)


@router.get("/{camera_id}/status")
async def camera_status(camera_id: UUID, caller: Caller, res: Res) -> dict[str, Any]:
    camera = await camera_in_scope(res.pool, caller, camera_id)
    if not camera.enabled:
        return {"camera_id": camera_id, "state": "disabled"}
    try:
        status = await res.actors.camera_status(camera_id)
    except Exception:
        log.exception("camera status lookup failed")
        raise HTTPException(503, "camera status is unavailable right now: the fleet is not reachable") from None
    if status is None:  # enabled but not placed yet: the Fleet's next pass starts it
        return {"camera_id": camera_id, "state": "starting"}
    return status


@router.get("/{camera_id}/recordings")
async def list_recordings(
    camera_id: UUID, grant: BearerGrant, res: Res,
    start: datetime = Query(..., description="ISO 8601 with time zone"),
    end: datetime = Query(..., description="ISO 8601 with time zone"),
    limit: int = Query(1000, ge=1, le=5000),
    urls: Literal["none", "presigned"] = Query("presigned"),
) -> dict[str, Any]:
    """The index rows of [start, end); with ``urls=presigned`` (an audited look at the footage) each chunk's
    object URL, valid as long as the request's token (at most a media token's lifetime)."""
    checked_range(start, end, MAX_RECORDINGS_SPAN)
    camera = await camera_in_scope(res.pool, grant.who, camera_id)
    chunks = await recordings.in_range(res.pool, camera.tenant_id, camera_id, start, end, limit=limit)
    listed = [c.to_json() for c in chunks]
    answer: dict[str, Any] = {"camera_id": camera_id, "start": start, "end": end, "chunks": listed}
    if urls == "presigned":
        ttl = grant.ttl()
        signed = await asyncio.to_thread(lambda: [res.store.presigned_get(c.object_key, ttl) for c in chunks])
        for entry, url in zip(listed, signed, strict=True):
            entry["url"] = url
        await record_look(res.pool, grant.who, camera.tenant_id, camera.id, "recordings.urls", start=start, end=end,
                          detail={"urls": len(chunks)})
        answer["expires_at"] = grant.expires
    return answer


@router.get("/{camera_id}/uptime")
async def camera_uptime(
    camera_id: UUID, caller: Caller, res: Res,
    day: date = Query(..., description="UTC day, YYYY-MM-DD"),
) -> dict[str, Any]:
    """Seconds per health state and the streaming ratio over one UTC day (up to now for today)."""
    camera = await camera_in_scope(res.pool, caller, camera_id)
    start = datetime.combine(day, time(0), tzinfo=UTC)
    end = min(start + timedelta(days=1), datetime.now(UTC))
    if end <= start:
        raise HTTPException(422, "day is in the future")
    transitions = await status_history.between(res.pool, camera.tenant_id, camera_id, start, end)
    result = uptime([(t.at, t.state.value) for t in transitions], start, end)
    return {"camera_id": camera_id, "start": start, "end": end, "seconds_by_state": result.seconds_by_state,
            "uptime_ratio": result.uptime_ratio}
