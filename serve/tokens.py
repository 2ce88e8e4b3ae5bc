"""JWT access, refresh and media tokens (PyJWT, HS256).

A media token rides in a URL's query string, for the clients that cannot send
an Authorization header (``<video>``, native HLS players, browser WebSockets):
short-lived, bound to one camera and one user, signed with its own key.
"""

from __future__ import annotations

import time
from typing import Any
from uuid import UUID

import jwt

from domain.rbac import Principal, Role

_ALGORITHM = "HS256"


class InvalidToken(Exception):
    """The token is missing, malformed, expired, or of the wrong kind."""


MEDIA = "media"


def issue(principal: Principal, key: bytes, *, kind: str, ttl_s: int, camera_id: UUID | None = None) -> str:
    now = int(time.time())
    claims: dict[str, Any] = {
        "sub": str(principal.user_id), "role": principal.role.value,
        "tid": str(principal.tenant_id) if principal.tenant_id else None,
        "typ": kind, "iat": now, "exp": now + ttl_s,
    }
    if camera_id is not None:
        claims["cam"] = str(camera_id)
    return jwt.encode(claims, key, algorithm=_ALGORITHM)


def verify(token: str, key: bytes, *, kind: str) -> Principal:
    return _verify(token, key, kind)[0]


def verify_media(token: str, key: bytes) -> tuple[Principal, UUID]:
    """The user a media token was issued to and the camera it is bound to."""
    principal, claims = _verify(token, key, MEDIA)
    try:
        return principal, UUID(claims["cam"])
    except (KeyError, ValueError):
        raise InvalidToken("invalid token") from None


def _verify(token: str, key: bytes, kind: str) -> tuple[Principal, dict[str, Any]]:
    try:
        claims = jwt.decode(token, key, algorithms=[_ALGORITHM], options={"require": ["exp", "sub", "typ"]})
    except jwt.ExpiredSignatureError:
        raise InvalidToken("token expired") from None
    except jwt.PyJWTError:
        raise InvalidToken("invalid token") from None
    if claims.get("typ") != kind:
        raise InvalidToken(f"not an {kind} token")
    try:
        tenant = UUID(claims["tid"]) if claims.get("tid") else None
        return Principal(UUID(claims["sub"]), Role(claims["role"]), tenant), claims
    except (KeyError, ValueError):
        raise InvalidToken("invalid token") from None
