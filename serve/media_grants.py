"""How long footage URLs may live: never longer than the token of the request that produced them.

A presigned object URL or a media URL is a bearer credential for footage: whoever holds it sees the video,
without the API being asked again. So a URL handed out on a request lives until the earlier of

- the expiry of the token that request carried (a media token's, or the access token's), and
- a fresh media token's lifetime (``Settings.media_token_ttl_s``),

and a player that keeps watching asks again (the playback playlist is re-signed on every fetch) with a token that
is still valid. Revoking a user therefore ends their URLs within one media token lifetime at most.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated
from uuid import UUID

import jwt
from fastapi import Depends
from starlette.requests import HTTPConnection

from domain.rbac import Principal
from domain.session import Bearer
from serve.deps import bearer, media_bearer, resources
from storage.log_context import bind

_MIN_TTL_S = 1  # S3 refuses a presigned URL valid for less than a second


@dataclass(frozen=True)
class MediaGrant:
    """Who is asking for footage, until when URLs handed out now may work, and the media token they came with."""

    holder: Bearer  # the caller and the session its token belongs to (URLs handed out die with the session too)
    expires_at: int  # epoch seconds
    media_token: str | None = None  # the ``?token=`` the request carried, reused in the URLs it hands out
    session: str = ""  # a digest of the token the request carried: one viewing session (serve/look_once.py)

    @property
    def who(self) -> Principal:
        return self.holder.principal

    def ttl(self) -> timedelta:
        """What is left of the grant, for presigning (at least a second)."""
        return timedelta(seconds=max(_MIN_TTL_S, self.expires_at - int(time.time())))

    def ttl_s(self) -> int:
        return int(self.ttl().total_seconds())

    @property
    def expires(self) -> datetime:
        return datetime.fromtimestamp(self.expires_at, UTC)


def _expiry(token: str) -> int:
    """The ``exp`` of a token the caller already verified (serve/deps.py did, with its key, just before)."""
    claims = jwt.decode(token, options={"verify_signature": False, "verify_exp": False})
    return int(claims["exp"])


def _grant(connection: HTTPConnection, holder: Bearer, token: str, *, is_media: bool) -> MediaGrant:
    bind(user=holder.principal.user_id, tenant_id=holder.principal.tenant_id)  # log lines name user and city
    ceiling = int(time.time()) + resources(connection).settings.media_token_ttl_s
    return MediaGrant(holder, min(_expiry(token), ceiling), token if is_media else None,
                      hashlib.sha256(token.encode()).hexdigest())


async def bearer_grant(connection: HTTPConnection) -> MediaGrant:
    """For routes that take only an access token (``Authorization: Bearer``)."""
    holder = await bearer(connection)
    return _grant(connection, holder, connection.headers["authorization"].partition(" ")[2], is_media=False)


async def media_grant(connection: HTTPConnection, camera_id: UUID) -> MediaGrant:
    """For media URLs: an access token, or a media token (``?token=``) bound to ``camera_id``."""
    holder = await media_bearer(connection, camera_id)
    if "authorization" in connection.headers:
        return _grant(connection, holder, connection.headers["authorization"].partition(" ")[2], is_media=False)
    return _grant(connection, holder, connection.query_params["token"], is_media=True)


BearerGrant = Annotated[MediaGrant, Depends(bearer_grant)]
MediaGrantOf = Annotated[MediaGrant, Depends(media_grant)]
