"""Recorded video: the timeline, HLS playback, snapshots and thumbnails.

Everything here is an index lookup (storage/timeline.py) plus range reads of
chunk objects; nothing scans recordings or copies video.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, HTTPException, Query, Response

from actor_client.client import CameraNotRunning
from domain.camera import Camera
from domain.hls import PlaybackChunk, playback_fragments, vod_playlist
from domain.recording import fragment_at, to_epoch_ms
from domain.timeline import RecordedRun, clip, gaps
from media.live import Keyframe
from media.snapshot import keyframe_jpeg, recorded_jpeg
from serve.deps import Caller, MediaCaller, Res, Resources
from serve.media_grants import BearerGrant, MediaGrantOf
from serve.time_range import checked_range
from services.media_access import record_look
from services.scope import camera_in_scope
from services.thumbnails import thumbnails_over
from storage import camera_alerts, recordings, timeline

router = APIRouter(tags=["playback"])

MAX_TIMELINE_SPAN = timedelta(days=31)
MAX_TIMELINE_CAMERAS = 16
MAX_PLAYLIST_CHUNKS = 20_000
When = Annotated[datetime, Query(description="ISO 8601 with time zone, ms precision")]


def _timeline_json(camera_id: UUID, recorded: list[RecordedRun], start: datetime, end: datetime) -> dict[str, Any]:
    runs = clip([r.span for r in recorded if r.camera_id == camera_id], start, end)
    return {
        "camera_id": camera_id, "start": start, "end": end,
        "runs": [{"start": r.start, "end": r.end} for r in runs],
        "gaps": [{"start": g.start, "end": g.end} for g in gaps(runs, start, end)],
        "recorded_s": round(sum((r.end - r.start).total_seconds() for r in runs), 3),
    }


@router.get("/cameras/{camera_id}/timeline")
async def camera_timeline(camera_id: UUID, caller: Caller, res: Res, start: When,
                          end: When) -> dict[str, Any]:
    """Recorded runs and gaps of one camera over [start, end) (up to 31 days), and its ``camera.offline`` /
    ``camera.online`` alerts in it (``at``: when the outage began, or recording resumed)."""
    checked_range(start, end, MAX_TIMELINE_SPAN)
    camera = await camera_in_scope(res.pool, caller, camera_id)
    runs = await timeline.runs(res.pool, camera.tenant_id, [camera_id], start, end)
    alerts = await camera_alerts.of_camera_between(res.pool, camera.tenant_id, camera_id, start, end)
    return {**_timeline_json(camera_id, runs, start, end),
            "alerts": [{"kind": kind, "at": at, "reason": reason} for kind, at, reason in alerts]}


@router.get("/timeline")
async def timelines(caller: Caller, res: Res, start: When, end: When,
                    cameras: str = Query(..., description="comma-separated camera ids")) -> dict[str, Any]:
    """Runs and gaps of up to 16 cameras at once (a mosaic's worth), in one query."""
    checked_range(start, end, MAX_TIMELINE_SPAN)
    try:
        ids = list(dict.fromkeys(UUID(part.strip()) for part in cameras.split(",") if part.strip()))
    except ValueError:
        raise HTTPException(422, "cameras must be comma-separated camera ids") from None
    if not 1 <= len(ids) <= MAX_TIMELINE_CAMERAS:
        raise HTTPException(422, f"give 1 to {MAX_TIMELINE_CAMERAS} cameras")
    found = [await camera_in_scope(res.pool, caller, cid) for cid in ids]
    tenants = {c.tenant_id for c in found}
    if len(tenants) > 1:
        raise HTTPException(422, "cameras of one tenant at a time")
    runs = await timeline.runs(res.pool, tenants.pop(), ids, start, end)
    return {"start": start, "end": end, "cameras": [_timeline_json(cid, runs, start, end) for cid in ids]}


@router.get("/cameras/{camera_id}/playback.m3u8")
async def playback(camera_id: UUID, grant: MediaGrantOf, res: Res, start: When,
                   end: When) -> Response:
    """An HLS VOD playlist of [start, end): byte ranges of the chunk objects, discontinuities at gaps.

    The object URLs live only as long as the token of this request (serve/media_grants.py); the playlist is
    re-signed on every fetch and not cached, so a player that reloads it keeps playing."""
    caller = grant.who
    checked_range(start, end, timedelta(seconds=res.settings.playback_max_s))
    camera = await camera_in_scope(res.pool, caller, camera_id)
    indexed = await timeline.chunks(res.pool, camera.tenant_id, camera_id, start, end, limit=MAX_PLAYLIST_CHUNKS)
    ttl = grant.ttl()
    urls = await asyncio.to_thread(lambda: [res.store.presigned_get(c.object_key, ttl) for c in indexed])
    chunks = [PlaybackChunk(c.start, url, c.init_length, c.fragments, c.new_run)
              for c, url in zip(indexed, urls, strict=True)]
    if not any(playback_fragments(c, start, end) for c in chunks):
        raise HTTPException(404, "no recordings in this range")
    await record_look(res.pool, caller, camera.tenant_id, camera.id, "playback", start=start, end=end)
    return Response(vod_playlist(chunks, start, end), media_type="application/vnd.apple.mpegurl",
                    headers={"cache-control": "no-store"})


@router.get("/cameras/{camera_id}/snapshot.jpg")
async def snapshot(camera_id: UUID, caller: MediaCaller, res: Res,
                   at: datetime | None = Query(None, description="a recorded instant; the live picture if absent"),
                   width: int | None = Query(None, ge=16, le=7680, description="scale down to this width")) -> Response:
    """A JPEG of the latest keyframe, or of the recorded frame at ``at``."""
    camera = await camera_in_scope(res.pool, caller, camera_id)
    if at is None:
        try:
            keyframe: Keyframe = await res.actors.keyframe(camera_id)
        except CameraNotRunning as exc:
            raise HTTPException(404, f"no live picture: {exc}") from None
        jpeg = await asyncio.to_thread(keyframe_jpeg, keyframe.codec, keyframe.extradata, keyframe.data, width)
        taken = datetime.fromtimestamp(keyframe.received_at, UTC)
        await record_look(res.pool, caller, camera.tenant_id, camera.id, "snapshot", start=taken, end=taken,
                          detail={"live": True})
    else:
        if at.tzinfo is None:
            raise HTTPException(422, "at needs a time zone (e.g. 2026-01-01T00:00:00Z)")
        jpeg, taken = await _recorded_picture(res, camera, at, width)
        await record_look(res.pool, caller, camera.tenant_id, camera.id, "snapshot", start=taken, end=taken)
    return Response(jpeg, media_type="image/jpeg", headers={"x-frame-time": taken.isoformat(timespec="milliseconds")})


async def _recorded_picture(res: Resources, camera: Camera, at: datetime, width: int | None) -> tuple[bytes, datetime]:
    found = await recordings.in_range(res.pool, camera.tenant_id, camera.id, at, at + timedelta(milliseconds=1),
                                      limit=1)
    if not found:
        raise HTTPException(404, "nothing recorded at that instant")
    chunk = found[0]
    fragment = fragment_at(chunk.fragments, at - chunk.start)
    init, data = await asyncio.gather(
        asyncio.to_thread(res.store.get_range, chunk.object_key, 0, chunk.init_length),
        asyncio.to_thread(res.store.get_range, chunk.object_key, fragment.offset, fragment.length))
    fragment_start = chunk.start + timedelta(milliseconds=fragment.start_ms)
    jpeg, offset_s = await asyncio.to_thread(recorded_jpeg, init + data, (at - fragment_start).total_seconds(), width)
    return jpeg, fragment_start + timedelta(seconds=offset_s)


@router.get("/cameras/{camera_id}/thumbnails")
async def thumbnails(camera_id: UUID, grant: BearerGrant, res: Res, start: When,
                     end: When) -> dict[str, Any]:
    """Small JPEGs over [start, end) (up to a day), one per minute of video or wider apart over a long span, for
    scrubbing the timeline; made on the first request for them (services/thumbnails.py). The URLs live as long as
    the request's token (at most a media token's lifetime)."""
    checked_range(start, end, timedelta(days=1))
    camera = await camera_in_scope(res.pool, grant.who, camera_id)
    found = await thumbnails_over(res.pool, res.store, camera.tenant_id, camera_id, start, end,
                                  timedelta(seconds=res.settings.thumbnail_every_s))
    ttl = grant.ttl()
    urls = await asyncio.to_thread(lambda: [res.store.presigned_get(t.thumbnail_key, ttl) for t in found])
    await record_look(res.pool, grant.who, camera.tenant_id, camera.id, "thumbnails", start=start, end=end,
                      detail={"urls": len(found)})
    return {"camera_id": camera_id, "expires_at": grant.expires, "thumbnails": [
        {"at": t.start, "at_ms": to_epoch_ms(t.start), "url": url} for t, url in zip(found, urls, strict=True)]}
