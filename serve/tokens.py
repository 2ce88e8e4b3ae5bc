"""JWT access and refresh tokens (PyJWT, HS256)."""

from __future__ import annotations

import time
from typing import Any
from uuid import UUID

import jwt

from domain.rbac import Principal, Role

_ALGORITHM = "HS256"


class InvalidToken(Exception):
    """The token is missing, malformed, expired, or of the wrong kind."""


def issue(principal: Principal, key: bytes, *, kind: str, ttl_s: int) -> str:
    now = int(time.time())
    claims: dict[str, Any] = {
        "sub": str(principal.user_id), "role": principal.role.value,
        "tid": str(principal.tenant_id) if principal.tenant_id else None,
        "typ": kind, "iat": now, "exp": now + ttl_s,
    }
    return jwt.encode(claims, key, algorithm=_ALGORITHM)


def verify(token: str, key: bytes, *, kind: str) -> Principal:
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
        return Principal(UUID(claims["sub"]), Role(claims["role"]), tenant)
    except (KeyError, ValueError):
        raise InvalidToken("invalid token") from None
