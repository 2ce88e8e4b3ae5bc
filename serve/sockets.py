"""What the API's WebSocket endpoints share: waiting for the client to go, and refusing with a close code."""

from __future__ import annotations

from fastapi import WebSocket, WebSocketDisconnect


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
