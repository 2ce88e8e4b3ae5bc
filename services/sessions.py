"""Sessions as use cases: start one at login, exchange a refresh token (rotation with reuse detection), log out.

Token signing stays in the API (serve/tokens.py); these decide whether a
session may start or go on, and name the refresh token to sign next.
"""

from __future__ import annotations

from uuid import UUID

import asyncpg

from domain.session import Bearer, RefreshRefused, Session
from services.refusals import NotAuthenticated
from storage import audit, sessions


async def start(pool: asyncpg.Pool, user_id: UUID, *, refresh_ttl_s: int) -> tuple[Session, UUID]:
    """A new session of the user and its first refresh token's id."""
    started = await sessions.start(pool, user_id, refresh_ttl_s=refresh_ttl_s)
    if started is None:
        raise NotAuthenticated("the user is disabled or deleted")
    return started


async def refresh(pool: asyncpg.Pool, holder: Bearer, token_id: UUID, *, refresh_ttl_s: int) -> tuple[Session, UUID]:
    """The session goes on with a new refresh token; the presented one is dead from now on.

    Presenting a refresh token that was already exchanged ends its whole session (and is audited): a copy was
    used, by the client or by a thief, and the server cannot tell which."""
    rotated = await sessions.rotate(pool, token_id, refresh_ttl_s=refresh_ttl_s)
    if isinstance(rotated, RefreshRefused):
        if rotated is RefreshRefused.REUSED:
            who = holder.principal
            await audit.record(pool, who.user_id, "session.refresh_reused", tenant_id=who.tenant_id,
                               detail={"session_id": str(holder.session_id)})
        raise NotAuthenticated(rotated.value)
    session, next_token = rotated
    if session.id != holder.session_id or session.user_id != holder.principal.user_id:
        raise NotAuthenticated(RefreshRefused.UNKNOWN.value)  # signed by us, yet naming another session: refuse
    return session, next_token


async def end(pool: asyncpg.Pool, holder: Bearer) -> None:
    """Log out: the caller's session ends (its refresh, access and media tokens, its open sockets)."""
    await sessions.end(pool, holder.session_id, user_id=holder.principal.user_id)
