"""Real users with real sessions for tests that call the API without logging in: tokens are only honoured while
their session stands (serve/session_check.py), so a token for a made-up user id is refused."""

from __future__ import annotations

import uuid
from uuid import UUID

import asyncpg

from domain.rbac import Principal, Role
from domain.session import Bearer
from domain.settings import Settings
from serve import tokens
from storage import sessions, users


async def new_bearer(pool: asyncpg.Pool, role: Role, tenant_id: UUID | None) -> Bearer:
    """A new user of that role (and city) with a live session."""
    user = await users.create(pool, username=f"{role.value}-{uuid.uuid4().hex[:10]}", password_hash="x",
                              role=role.value, tenant_id=tenant_id)
    return await bearer_of(pool, user.principal)


async def bearer_of(pool: asyncpg.Pool, who: Principal) -> Bearer:
    """A new live session of an existing user."""
    started = await sessions.start(pool, who.user_id, refresh_ttl_s=3600)
    assert started is not None, "the user is disabled or deleted"
    return Bearer(who, started[0].id, started[0].generation)


def access_headers(settings: Settings, bearer: Bearer, ttl_s: int = 300) -> dict[str, str]:
    return {"authorization": "Bearer " + tokens.issue(bearer, settings.key("jwt"), kind=tokens.ACCESS, ttl_s=ttl_s)}
