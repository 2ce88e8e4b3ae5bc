"""Small helpers shared by the API's WebSocket endpoints."""

from __future__ import annotations

from fastapi import WebSocket, WebSocketDisconnect


async def until_closed(websocket: WebSocket) -> None:
    """Read (and ignore) client messages until the client disconnects."""
    try:
        while (await websocket.receive())["type"] != "websocket.disconnect":
            pass
    except (WebSocketDisconnect, RuntimeError):
        return
