"""What route handlers depend on: the app's resources and the caller's identity."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Annotated
from uuid import UUID

import asyncpg
from fastapi import Depends, HTTPException
from starlette.requests import HTTPConnection

from actor_client.client import ActorClient
from domain.forwarded import Network, trusted_networks
from domain.rbac import Principal
from domain.sealing import Sealer, sealer_for
from domain.session import Bearer
from domain.settings import Settings
from serve import tokens
from serve.event_feeds import EventFeeds
from serve.live_hub import LiveHub
from serve.live_leases import LiveLeases
from serve.session_check import SESSION_REVOKED, SessionCheck
from services.lpr_accept import LprAccept
from storage.bus import EventBus
from storage.log_context import bind
from storage.objects import ObjectStore
from storage.ws_tickets import TicketStore


@dataclass
class Resources:
    settings: Settings
    pool: asyncpg.Pool
    store: ObjectStore
    actors: ActorClient
    live: LiveHub
    bus: EventBus
    lpr: LprAccept
    # Sessions (docs/security/sessions.md): the per-request session check and the WebSocket tickets.
    sessions: SessionCheck
    tickets: TicketStore
    # One bus subscription per city for every /events socket of the city (serve/event_feeds.py).
    feeds: EventFeeds
    # This replica's live viewers, each holding one of its city's places (domain/viewer_admission.py).
    leases: LiveLeases = field(default_factory=LiveLeases)

    @cached_property
    def sealer(self) -> Sealer:
        """Seals camera secrets before they are stored; opens them only where they are used."""
        return sealer_for(self.settings)

    @cached_property
    def trusted_proxies(self) -> tuple[Network, ...]:
        return trusted_networks(self.settings.trusted_proxies)


def resources(request: HTTPConnection) -> Resources:
    res: Resources = request.app.state.resources
    return res


async def bearer(request: HTTPConnection) -> Bearer:
    """The holder of the request's bearer access token, while its session stands."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise HTTPException(401, "missing bearer token", headers={"WWW-Authenticate": "Bearer"})
    res = resources(request)
    try:
        found = tokens.verify(token, res.settings.key("jwt"), kind=tokens.ACCESS)
    except tokens.InvalidToken as exc:
        raise HTTPException(401, str(exc), headers={"WWW-Authenticate": "Bearer"}) from None
    if not await res.sessions.holds(found):
        raise HTTPException(401, SESSION_REVOKED, headers={"WWW-Authenticate": "Bearer"})
    return found


async def media_bearer(connection: HTTPConnection, camera_id: UUID) -> Bearer:
    """The caller of a media URL: a bearer token, or a media token (``?token=``) bound to this camera."""
    if "authorization" in connection.headers:
        return await bearer(connection)
    token = connection.query_params.get("token")
    if not token:
        raise HTTPException(401, "missing bearer token or media token (?token=)")
    res = resources(connection)
    try:
        who, bound_to = tokens.verify_media(token, res.settings.key("media"))
    except tokens.InvalidToken as exc:
        raise HTTPException(401, f"media token: {exc}") from None
    if not await res.sessions.holds(who):
        raise HTTPException(401, f"media token: {SESSION_REVOKED}")
    if bound_to != camera_id:
        raise HTTPException(403, "the media token is for another camera")
    return who


def issue_media_token(res: Resources, who: Bearer, camera_id: UUID) -> str:
    return tokens.issue(who, res.settings.key("media"), kind=tokens.MEDIA, ttl_s=res.settings.media_token_ttl_s,
                        camera_id=camera_id)


# FastAPI runs a plain ``def`` dependency in its thread pool: a thread hop per dependency per request. These
# wrappers are ``async`` so the (non-blocking) lookups run inline.


async def _resources(request: HTTPConnection) -> Resources:
    return resources(request)


async def _bearer(request: HTTPConnection) -> Bearer:
    return _known(await bearer(request))


async def _principal(request: HTTPConnection) -> Principal:
    return _known(await bearer(request)).principal


async def _media_principal(connection: HTTPConnection, camera_id: UUID) -> Principal:
    return _known(await media_bearer(connection, camera_id)).principal


async def _media_bearer(connection: HTTPConnection, camera_id: UUID) -> Bearer:
    return _known(await media_bearer(connection, camera_id))


def _known(who: Bearer) -> Bearer:
    """The caller goes into the request's log context (serve/request_context.py): its lines name user and city."""
    bind(user=who.principal.user_id, tenant_id=who.principal.tenant_id)
    return who


Res = Annotated[Resources, Depends(_resources)]
Caller = Annotated[Principal, Depends(_principal)]
MediaCaller = Annotated[Principal, Depends(_media_principal)]
CallerSession = Annotated[Bearer, Depends(_bearer)]  # the caller and the session its token belongs to
MediaCallerSession = Annotated[Bearer, Depends(_media_bearer)]
