"""``WS /api/v1/events``: a city's real-time events (camera status, alerts, LPR watchlist hits, clips).

Protocol: connect with ``?token=<access token>`` (browsers cannot send headers
on a WebSocket) and optionally ``&last_id=<id>``; each message is
``{"id": "<stream id>", "event": {...}}``. After a reconnect, pass the last id
seen: everything after it is delivered (Redis stream ids; the in-Ray bus keeps
the same contract), nothing twice. Platform admins add ``&tenant_id=``. The
first message is ``{"type": "ready", ...}`` (docs/events.md): from then on no
event of the city is missed, so a client needs no wait before relying on it.
Errors close with 4401 / 4404 / 4422 and a reason.
"""

from __future__ import annotations

import asyncio
import json
import time
from uuid import UUID

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from domain.events import ready_message, tenant_stream
from serve import tokens
from serve.deps import resources
from serve.errors import status_for
from serve.sockets import refuse, until_closed
from services.refusals import Refusal
from services.scope import scoped_tenant
from storage.bus import MAX_SEQUENCE, parse_event_id

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
        after = params.get("last_id") or _from_now()
        parse_event_id(after)
    except tokens.InvalidToken as exc:
        await refuse(websocket, 401, str(exc))
        return
    except Refusal as exc:
        await refuse(websocket, status_for(exc), str(exc))
        return
    except ValueError as exc:  # a malformed tenant_id or last_id
        await refuse(websocket, 422, str(exc))
        return
    stream = tenant_stream(tenant)
    closed = asyncio.create_task(until_closed(websocket))
    try:
        # Every event published from here on has an id after ``after``: the client may rely on delivery.
        await websocket.send_text(json.dumps(ready_message(tenant_id=str(tenant), after=after)))
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
    finally:
        closed.cancel()


def _from_now() -> str:
    """An id just before this millisecond's first: what is published from now on comes after it (the bus gives
    an event published in this very millisecond the id ``<now>-0``)."""
    return f"{int(time.time() * 1000) - 1}-{MAX_SEQUENCE}"
