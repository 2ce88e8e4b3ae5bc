"""What the API's WebSocket endpoints share: waiting for the client to go or its session to end, and refusing
with a close code."""

from __future__ import annotations

import asyncio
import logging

from fastapi import WebSocket, WebSocketDisconnect

from domain.session import Bearer
from serve.session_check import SessionCheck

log = logging.getLogger(__name__)


async def until_closed(websocket: WebSocket) -> None:
    """Read (and ignore) client messages until the client disconnects."""
    try:
        while (await websocket.receive())["type"] != "websocket.disconnect":
            pass
    except (WebSocketDisconnect, RuntimeError):
        return


async def refuse(websocket: WebSocket, status: int, reason: str) -> None:
    """Close with ``4000 + status`` (4401, 4403, 4404, 4422) and the reason (WebSocket reasons fit 123 bytes)."""
    await websocket.close(code=4000 + status, reason=reason[:120])


async def until_revoked(check: SessionCheck, bearer: Bearer, every_s: float = 1.0) -> None:
    """Return once the socket's session no longer stands: an open socket must not outlive a logout, a disabled user
    or a changed password. Looked at each second through the replica's cache, so it is closed within the cache's
    time to live plus a second, at no query per look. A check that fails (PostgreSQL down) keeps the socket open:
    an outage is no revocation."""
    while True:
        try:
            if not await check.holds(bearer):
                return
        except Exception as exc:  # any store error: look again later
            log.warning("session check failed, socket kept: %s", exc)
        await asyncio.sleep(every_s)
