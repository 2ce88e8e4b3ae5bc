"""``WS /api/v1/events``: a city's real-time events (camera status, alerts, LPR watchlist hits, clips).

Protocol: connect with ``?token=<access token>`` (browsers cannot send headers
on a WebSocket) and optionally ``&last_id=<id>``; each message is
``{"id": "<stream id>", "event": {...}}``. After a reconnect, pass the last id
seen: everything after it is delivered (Redis stream ids; the in-Ray bus keeps
the same contract), nothing twice. Platform admins add ``&tenant_id=``.
Errors close with 4401 / 4404 and a reason.
"""

from __future__ import annotations

import asyncio
import json
import time
from uuid import UUID

from fastapi import APIRouter, HTTPException, WebSocket, WebSocketDisconnect

from domain.events import tenant_stream
from serve import tokens
from serve.deps import resources, scoped_tenant
from serve.sockets import until_closed

router = APIRouter(tags=["events"])

_BLOCK_S = 5.0  # under the Redis client's socket timeout
_BATCH = 200


@router.websocket("/events")
async def events(websocket: WebSocket) -> None:
    await websocket.accept()
    res = resources(websocket)
    params = websocket.query_params
    try:
        who = tokens.verify(params.get("token", ""), res.settings.key("jwt"), kind="access")
        requested = UUID(params["tenant_id"]) if params.get("tenant_id") else None
        tenant = scoped_tenant(who, requested)
    except tokens.InvalidToken as exc:
        await websocket.close(code=4401, reason=str(exc))
        return
    except (HTTPException, ValueError) as exc:
        await websocket.close(code=4404 if isinstance(exc, HTTPException) else 4422, reason=str(exc)[:120])
        return
    after = params.get("last_id") or f"{int(time.time() * 1000)}-0"
    stream = tenant_stream(tenant)
    closed = asyncio.create_task(until_closed(websocket))
    try:
        while not closed.done():
            batch = asyncio.ensure_future(res.bus.read(stream, after, count=_BATCH, block_s=_BLOCK_S))
            await asyncio.wait({batch, closed}, return_when=asyncio.FIRST_COMPLETED)
            if closed.done():
                batch.cancel()
                break
            for event_id, event in batch.result():
                await websocket.send_text(json.dumps({"id": event_id, "event": event}, default=str))
                after = event_id
    except (WebSocketDisconnect, RuntimeError):
        pass
    except ValueError as exc:  # a malformed last_id
        await websocket.close(code=4422, reason=str(exc)[:120])
    finally:
        closed.cancel()

