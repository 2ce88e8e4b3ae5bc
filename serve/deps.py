"""What route handlers depend on: the app's resources and the caller's identity."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, TypeVar
from uuid import UUID

import asyncpg
from fastapi import Depends, HTTPException
from starlette.requests import HTTPConnection

from actor_client.client import ActorClient
from domain.rbac import Action, Principal, Role, may, visible_tenant
from domain.settings import Settings
from serve import tokens
from serve.live_hub import LiveHub
from serve.lpr_ingest import LprIngest
from storage.bus import EventBus
from storage.objects import ObjectStore

T = TypeVar("T")


@dataclass
class Resources:
    settings: Settings
    pool: asyncpg.Pool
    store: ObjectStore
    actors: ActorClient
    live: LiveHub
    bus: EventBus
    lpr: LprIngest


def resources(request: HTTPConnection) -> Resources:
    res: Resources = request.app.state.resources
    return res


def principal(request: HTTPConnection) -> Principal:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise HTTPException(401, "missing bearer token", headers={"WWW-Authenticate": "Bearer"})
    try:
        return tokens.verify(token, resources(request).settings.key("jwt"), kind="access")
    except tokens.InvalidToken as exc:
        raise HTTPException(401, str(exc), headers={"WWW-Authenticate": "Bearer"}) from None


def media_principal(connection: HTTPConnection, camera_id: UUID) -> Principal:
    """The caller of a media URL: a bearer token, or a media token (``?token=``) bound to this camera."""
    if "authorization" in connection.headers:
        return principal(connection)
    token = connection.query_params.get("token")
    if not token:
        raise HTTPException(401, "missing bearer token or media token (?token=)")
    try:
        who, bound_to = tokens.verify_media(token, resources(connection).settings.key("media"))
    except tokens.InvalidToken as exc:
        raise HTTPException(401, f"media token: {exc}") from None
    if bound_to != camera_id:
        raise HTTPException(403, "the media token is for another camera")
    return who


def issue_media_token(res: Resources, who: Principal, camera_id: UUID) -> str:
    return tokens.issue(who, res.settings.key("media"), kind=tokens.MEDIA, ttl_s=res.settings.media_token_ttl_s,
                        camera_id=camera_id)


# FastAPI runs a plain ``def`` dependency in its thread pool: a thread hop per dependency per request. These
# wrappers are ``async`` so the (non-blocking) lookups run inline.


async def _resources(request: HTTPConnection) -> Resources:
    return resources(request)


async def _principal(request: HTTPConnection) -> Principal:
    return principal(request)


async def _media_principal(connection: HTTPConnection, camera_id: UUID) -> Principal:
    return media_principal(connection, camera_id)


Res = Annotated[Resources, Depends(_resources)]
Caller = Annotated[Principal, Depends(_principal)]
MediaCaller = Annotated[Principal, Depends(_media_principal)]


async def owning_tenant(caller: Principal, lookup: Callable[[], Awaitable[UUID | None]]) -> UUID | None:
    """Where to look for a tenant-owned thing: the caller's own tenant; for platform admins, the thing's."""
    return await lookup() if caller.role == Role.ADMIN else caller.tenant_id


async def found_in_scope(caller: Principal, what: str, tenant_of: Callable[[], Awaitable[UUID | None]],
                         get: Callable[[UUID], Awaitable[T | None]]) -> T:
    """The caller's tenant's thing, or 404 "{what} not found" — for another tenant's thing too."""
    tenant = await owning_tenant(caller, tenant_of)
    found = await get(tenant) if tenant else None
    if found is None:
        raise HTTPException(404, f"{what} not found")
    return found


def require(caller: Principal, action: Action, tenant_id: UUID | None = None) -> None:
    if not may(caller, action, tenant_id):
        raise HTTPException(403, f"role {caller.role.value} may not {action.value} here")


def scoped_tenant(caller: Principal, requested: UUID | None) -> UUID:
    """The tenant a request works in. Another tenant's data is simply not found (404)."""
    tenant = visible_tenant(caller, requested)
    if tenant is None:
        if requested is None:
            raise HTTPException(422, "tenant_id is required for platform admins")
        raise HTTPException(404, "tenant not found")
    return tenant
