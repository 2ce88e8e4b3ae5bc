"""Live view: fMP4 over WebSocket (sub-second, for MediaSource) and live HLS (Safari, native players).

WebSocket protocol (``/cameras/{id}/live``): binary messages are fMP4 — an init
segment, alone in its message (it starts with an ``ftyp`` box; a new one may
come when the stream restarts), then fragments starting at a keyframe, one per
frame, several concatenated in one message (moof/mdat pairs, oldest first)
whenever more than one is pending: a viewer gets at most one message per
``live_send_interval_ms`` and a replica's viewers together at most
``live_messages_per_s`` (domain/live_messages.py), so a crowd makes messages
bigger, not more. With ``?meta=1`` each binary message is preceded by a JSON
text message ``{"seq", "keyframe", "init", "received_at", "pieces"}``: the
first piece's fields, and ``pieces`` lists every piece of the message as
``{"seq", "keyframe", "received_at", "bytes"}`` (``received_at``: when the
camera actor received the frame, epoch seconds). Errors close the socket with 4401
(authentication), 4403 (forbidden), 4404 (no such camera), 4429 (the city
watches as many live streams as its plan allows: domain/viewer_admission.py) and a reason; an
open socket whose session ends (logout, user disabled, password changed) is
closed with 4401 "session revoked" within a few seconds.

``?stream=sub`` (WebSocket and HLS) watches the camera's sub-stream, its lighter one (mosaic tiles); a camera
without one (``substream_url`` null in its settings) serves its main stream instead, the same as ``stream=main``.
The audit row's detail says which stream was served (``"stream": "main" | "sub"``).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable
from typing import Literal, TypeVar
from uuid import UUID

from fastapi import APIRouter, HTTPException, Query, Response, WebSocket, WebSocketDisconnect

from actor_client.client import CameraNotRunning
from domain.camera import Camera
from domain.hls import LiveSegment, live_playlist
from domain.live_messages import live_messages, send_interval_s
from media.live import LiveGop
from serve import tokens
from serve.deps import MediaCaller, Res, media_bearer, resources
from serve.errors import status_for
from serve.look_once import LookOnce
from serve.media_grants import MediaGrantOf
from serve.metrics import counted_viewer
from serve.session_check import SESSION_REVOKED
from serve.sockets import refuse, until_closed, until_revoked
from services.media_access import record_look
from services.refusals import Refusal, TooMany
from services.scope import camera_in_scope

log = logging.getLogger(__name__)
router = APIRouter(prefix="/cameras", tags=["live"])
T = TypeVar("T")

_IDLE_PING_S = 10.0
_hls_audited = LookOnce()  # live HLS sessions already in the audit log (this replica)

Stream = Literal["main", "sub"]
_STREAM = Query("main", description="sub: the camera's sub-stream (mosaic tiles); its main stream if it has none")


def _served(camera: Camera, asked: Stream) -> bool:
    """Whether the sub-stream is served: asked for, and the camera has one (else its main stream)."""
    return asked == "sub" and camera.substream is not None


@router.websocket("/{camera_id}/live")
async def live_socket(websocket: WebSocket, camera_id: UUID, meta: bool = Query(False),
                      stream: Stream = _STREAM) -> None:
    await websocket.accept()
    res = resources(websocket)
    try:
        who = await media_bearer(websocket, camera_id)
        camera = await camera_in_scope(res.pool, who.principal, camera_id)
        sub = _served(camera, stream)
        await record_look(res.pool, who.principal, camera.tenant_id, camera.id, "live.view",
                          detail={"transport": "websocket", "stream": "sub" if sub else "main"})
    except HTTPException as exc:
        await refuse(websocket, exc.status_code, str(exc.detail))
        return
    except Refusal as exc:
        await refuse(websocket, status_for(exc), str(exc))
        return
    closed = asyncio.create_task(until_closed(websocket))
    revoked = asyncio.create_task(until_revoked(res.sessions, who))
    settings = res.settings
    loop = asyncio.get_running_loop()
    try:
        async with res.leases.admitted(res.pool, camera.tenant_id, camera_id, who.principal.user_id), \
                res.live.watch(camera_id, sub) as viewer, counted_viewer(camera.tenant_id, camera_id):
            next_send = 0.0
            while True:
                pause = next_send - loop.time()
                if pause > 0:  # sent a moment ago: what arrives meanwhile goes out together
                    await asyncio.wait({closed, revoked}, timeout=pause)
                batch = asyncio.ensure_future(viewer.next(_IDLE_PING_S))
                await asyncio.wait({batch, closed, revoked}, return_when=asyncio.FIRST_COMPLETED)
                if closed.done() or revoked.done():
                    batch.cancel()
                    if revoked.done() and not closed.done():
                        await refuse(websocket, 401, SESSION_REVOKED)
                    break
                messages = live_messages(batch.result())
                for message in messages:
                    if meta:
                        await websocket.send_text(json.dumps(message.meta()))
                    await websocket.send_bytes(message.data)
                if viewer.error is not None and meta:
                    await websocket.send_text(json.dumps({"error": viewer.error}))
                if messages:
                    next_send = loop.time() + send_interval_s(
                        res.live.all_viewers(), 2 if meta else 1, settings.live_send_interval_ms / 1000,
                        settings.live_messages_per_s)
    except TooMany as exc:  # the city watches as many live streams as its plan allows
        await refuse(websocket, 429, str(exc))
    except (WebSocketDisconnect, RuntimeError):  # the client went away mid-send
        pass
    finally:
        closed.cancel()
        revoked.cancel()


@router.get("/{camera_id}/live.m3u8")
async def live_hls(camera_id: UUID, grant: MediaGrantOf, res: Res, stream: Stream = _STREAM) -> Response:
    """The live window as HLS: the camera's latest GOP fragments, straight from its memory.

    The first fetch with a token is audited (``live.view``, transport hls), not each reload nor the segments
    (serve/look_once.py); segment URLs carry a media token that expires with the request's own."""
    camera = await camera_in_scope(res.pool, grant.who, camera_id)
    sub = _served(camera, stream)
    gops: list[LiveGop] = await _call(res.actors.live_gops(camera_id, sub))
    token = grant.media_token or tokens.issue(grant.holder, res.settings.key("media"), kind=tokens.MEDIA,
                                              ttl_s=grant.ttl_s(), camera_id=camera_id)
    served = "sub" if sub else "main"
    if _hls_audited.first(grant.session, f"{camera_id}/{served}", grant.expires_at):
        await record_look(res.pool, grant.who, camera.tenant_id, camera.id, "live.view",
                          detail={"transport": "hls", "stream": served})
    query = f"?token={token}&stream={served}"
    playlist = live_playlist(
        [LiveSegment(g.seq, g.init_id, g.start_ms, g.duration_s) for g in gops],
        init_uri=lambda init_id: f"live/init-{init_id}.mp4{query}",
        segment_uri=lambda seq: f"live/{seq}.m4s{query}",
    )
    return Response(playlist, media_type="application/vnd.apple.mpegurl", headers={"cache-control": "no-cache"})


@router.get("/{camera_id}/live/init-{init_id}.mp4")
async def live_hls_init(camera_id: UUID, init_id: int, caller: MediaCaller, res: Res,
                        stream: Stream = _STREAM) -> Response:
    camera = await camera_in_scope(res.pool, caller, camera_id)
    init: bytes = await _call(res.actors.live_init(camera_id, init_id, _served(camera, stream)))
    return Response(init, media_type="video/mp4", headers={"cache-control": "max-age=3600"})


@router.get("/{camera_id}/live/{seq}.m4s")
async def live_hls_segment(camera_id: UUID, seq: int, caller: MediaCaller, res: Res,
                           stream: Stream = _STREAM) -> Response:
    camera = await camera_in_scope(res.pool, caller, camera_id)
    gop: LiveGop = await _call(res.actors.live_gop(camera_id, seq, _served(camera, stream)))
    return Response(gop.data, media_type="video/iso.segment", headers={"cache-control": "max-age=60"})


async def _call(call: Awaitable[T]) -> T:
    try:
        return await call
    except CameraNotRunning as exc:
        raise HTTPException(404, f"not live: {exc}") from None
