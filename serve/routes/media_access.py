"""Media tokens: URLs a ``<video>`` tag, an HLS player or a browser WebSocket can use."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from fastapi import APIRouter

from serve.deps import CallerSession, Res, issue_media_token
from services.media_access import open_footage

router = APIRouter(prefix="/cameras", tags=["live", "playback"])


@router.post("/{camera_id}/media-token")
async def media_token(camera_id: UUID, caller: CallerSession, res: Res) -> dict[str, Any]:
    """A short-lived token bound to this camera, the caller and their session, for ``?token=`` on media URLs."""
    await open_footage(res.pool, caller.principal, camera_id, "media.token")
    token = issue_media_token(res, caller, camera_id)
    base = f"/api/v1/cameras/{camera_id}"
    return {
        "token": token,
        "expires_at": datetime.now(UTC) + timedelta(seconds=res.settings.media_token_ttl_s),
        "live_websocket": f"{base}/live?token={token}",
        "live_hls": f"{base}/live.m3u8?token={token}",
        "playback_hls": f"{base}/playback.m3u8?start=START&end=END&token={token}",
        "snapshot": f"{base}/snapshot.jpg?token={token}",
    }
