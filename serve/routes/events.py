"""``WS /api/v1/events``: a city's real-time events (camera status, alerts, LPR watchlist hits, clips).

Protocol: ``POST /events/ticket`` (with the bearer access token) answers a
single-use ticket valid for a few seconds; connect with ``?ticket=<ticket>``
(browsers cannot send headers on a WebSocket, and a URL ends up in logs and
histories: an API token must not ride in one) and optionally ``&last_id=<id>``; each message is
``{"id": "<stream id>", "event": {...}}``. After a reconnect, pass the last id
seen: everything after it is delivered (Redis stream ids; the in-Ray bus keeps
the same contract), nothing twice. Platform admins add ``&tenant_id=``. The
first message is ``{"type": "ready", ...}`` (docs/events.md): from then on no
event of the city is missed, so a client needs no wait before relying on it.
Every socket of a city on a replica is served from one subscription to the
city's stream (serve/event_feeds.py). Errors close with 4401 / 4404 / 4422
and a reason; 4429 past the user's or the city's open sockets on this server
(domain/socket_limits.py); 4503 for a socket that fell too far behind (it
resumes with its last id); when the session ends (logout, user disabled,
password changed) the socket is closed with 4401 "session revoked" within a
few seconds.
"""

from __future__ import annotations

import asyncio
import functools
import json
from collections.abc import Awaitable, Callable
from typing import Any
from uuid import UUID

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from domain.events import Event, ready_message, tenant_stream
from domain.lpr.masking import masked_event
from domain.session import Bearer
from serve.deps import CallerSession, Res, Resources, resources
from serve.errors import status_for
from serve.event_feeds import QUEUE_LIMIT, event_message, from_now
from serve.session_check import SESSION_REVOKED
from serve.sockets import refuse, until_closed, until_revoked
from services.plate_view import audit_unmasked, plate_view_for
from services.refusals import Refusal, TooMany
from services.scope import scoped_tenant
from storage.bus import parse_event_id

router = APIRouter(tags=["events"])

_IDLE_S = 5.0  # how long a socket's loop waits for its feed before looking again
_BATCH = 200


_TOKEN_REFUSED = "?token= is not accepted: POST /api/v1/events/ticket, then connect with ?ticket="


class _NoTicket(Exception):
    pass


@router.post("/events/ticket")
async def events_ticket(caller: CallerSession, res: Res) -> dict[str, Any]:
    """A single-use ticket for ``WS /events?ticket=``, valid ``ws_ticket_ttl_s`` seconds (API tokens stay out of
    URLs)."""
    ttl_s = res.settings.ws_ticket_ttl_s
    ticket = await res.tickets.issue(caller, ttl_s)
    return {"ticket": ticket, "expires_in": ttl_s, "url": f"/api/v1/events?ticket={ticket}"}


@router.websocket("/events")
async def events(websocket: WebSocket) -> None:
    await websocket.accept()
    res = resources(websocket)
    params = websocket.query_params
    try:
        bearer = await _ticket_bearer(res, params.get("ticket"), "token" in params)
        who = bearer.principal
        requested = UUID(params["tenant_id"]) if params.get("tenant_id") else None
        tenant = scoped_tenant(who, requested)
        after = params.get("last_id") or from_now()
        parse_event_id(after)
    except _NoTicket as exc:
        await refuse(websocket, 401, str(exc))
        return
    except Refusal as exc:
        await refuse(websocket, status_for(exc), str(exc))
        return
    except ValueError as exc:  # a malformed tenant_id or last_id
        await refuse(websocket, 422, str(exc))
        return
    # Decided once per connection: a new grant or policy applies from the client's next socket.
    view = await plate_view_for(res.pool, who, tenant)
    await audit_unmasked(res.pool, who, tenant, view, "events")
    stream = tenant_stream(tenant)
    closed = asyncio.create_task(until_closed(websocket))
    revoked = asyncio.create_task(until_revoked(res.sessions, bearer))
    try:
        async with res.feeds.subscribe(tenant, who.user_id, masked=view.masked) as subscriber:
            # Every event published from here on has an id after ``after``: the client may rely on delivery.
            await websocket.send_text(json.dumps(ready_message(tenant_id=str(tenant), after=after)))
            send = functools.partial(_send, websocket, masked=view.masked)
            after = await _catch_up(res, stream, after, send)
            # The socket's end wakes its loop: no task and no wait on three futures per batch of events.
            closed.add_done_callback(lambda _: subscriber.wake())
            revoked.add_done_callback(lambda _: subscriber.wake())
            while not closed.done():
                batch = await subscriber.next(_IDLE_S)
                if closed.done() or revoked.done():
                    if not closed.done():
                        await refuse(websocket, 401, SESSION_REVOKED)
                    break
                sent = parse_event_id(after)
                for event_id, message in batch:  # encoded once by the feed for all its sockets
                    if parse_event_id(event_id) > sent:  # what catching up sent already, the feed may bring again
                        await websocket.send_text(message)
                        after = event_id
                if subscriber.fell_behind:
                    await refuse(websocket, 503, f"fell more than {QUEUE_LIMIT} events behind: reconnect with"
                                                 f" last_id={after}")
                    break
    except TooMany as exc:  # the user's or the city's open sockets on this replica
        await refuse(websocket, 429, str(exc))
    except (WebSocketDisconnect, RuntimeError):
        pass
    finally:
        closed.cancel()
        revoked.cancel()


async def _catch_up(res: Resources, stream: str, after: str, send: Callable[[str, Event], Awaitable[None]]) -> str:
    """Send what the stream holds after ``after`` (a resume), in batches until none is full; the last id sent."""
    while True:
        batch = await res.bus.read(stream, after, count=_BATCH)
        for event_id, event in batch:
            await send(event_id, event)
            after = event_id
        if len(batch) < _BATCH:
            return after


async def _send(websocket: WebSocket, event_id: str, event: Event, *, masked: bool) -> None:
    await websocket.send_text(event_message(event_id, masked_event(event) if masked else event))


async def _ticket_bearer(res: Resources, ticket: str | None, has_token: bool) -> Bearer:
    """Who the ticket was issued to, taking it (single use), while their session stands."""
    if not ticket:
        raise _NoTicket(_TOKEN_REFUSED if has_token else "missing ?ticket= (POST /api/v1/events/ticket)")
    bearer = await res.tickets.take(ticket[:100])
    if bearer is None:
        raise _NoTicket("unknown, used or expired ticket")
    if not await res.sessions.holds(bearer):
        raise _NoTicket(SESSION_REVOKED)
    return bearer
