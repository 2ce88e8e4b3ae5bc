"""JWT access, refresh and media tokens (PyJWT, HS256).

Every token names its session (``sid``) and carries the user's token
generation (``gen``): the API honours it only while that session is live and
that generation is current (serve/session_check.py), so logging out, disabling
a user or changing a password ends tokens before they expire. A refresh token
also has its own id (``jti``), usable once (storage/sessions.py).

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
from domain.session import Bearer

_ALGORITHM = "HS256"


class InvalidToken(Exception):
    """The token is missing, malformed, expired, of the wrong kind, or its session has ended."""


ACCESS = "access"
REFRESH = "refresh"
MEDIA = "media"


def issue(bearer: Bearer, key: bytes, *, kind: str, ttl_s: int, camera_id: UUID | None = None,
          token_id: UUID | None = None) -> str:
    now = int(time.time())
    who = bearer.principal
    claims: dict[str, Any] = {
        "sub": str(who.user_id), "role": who.role.value,
        "tid": str(who.tenant_id) if who.tenant_id else None,
        "sid": str(bearer.session_id), "gen": bearer.generation,
        "typ": kind, "iat": now, "exp": now + ttl_s,
    }
    if camera_id is not None:
        claims["cam"] = str(camera_id)
    if token_id is not None:
        claims["jti"] = str(token_id)
    return jwt.encode(claims, key, algorithm=_ALGORITHM)


def verify(token: str, key: bytes, *, kind: str) -> Bearer:
    """The holder of a valid token of ``kind`` (signature and expiry only: the session is checked apart)."""
    return _verify(token, key, kind)[0]


def verify_media(token: str, key: bytes) -> tuple[Bearer, UUID]:
    """The holder of a media token and the camera it is bound to."""
    return _verify_with(token, key, MEDIA, "cam")


def verify_refresh(token: str, key: bytes) -> tuple[Bearer, UUID]:
    """The holder of a refresh token and the token's own id."""
    return _verify_with(token, key, REFRESH, "jti")


def _verify_with(token: str, key: bytes, kind: str, claim: str) -> tuple[Bearer, UUID]:
    bearer, claims = _verify(token, key, kind)
    try:
        return bearer, UUID(claims[claim])
    except (KeyError, ValueError, TypeError):
        raise InvalidToken("invalid token") from None


def _verify(token: str, key: bytes, kind: str) -> tuple[Bearer, dict[str, Any]]:
    try:
        claims = jwt.decode(token, key, algorithms=[_ALGORITHM],
                            options={"require": ["exp", "sub", "typ", "sid", "gen"]})
    except jwt.ExpiredSignatureError:
        raise InvalidToken("token expired") from None
    except jwt.PyJWTError:
        raise InvalidToken("invalid token") from None
    if claims.get("typ") != kind:
        raise InvalidToken(f"not an {kind} token")
    try:
        tenant = UUID(claims["tid"]) if claims.get("tid") else None
        who = Principal(UUID(claims["sub"]), Role(claims["role"]), tenant)
        generation = claims["gen"]
        if not isinstance(generation, int) or isinstance(generation, bool):
            raise ValueError("gen")
        return Bearer(who, UUID(claims["sid"]), generation), claims
    except (KeyError, ValueError, TypeError):
        raise InvalidToken("invalid token") from None
