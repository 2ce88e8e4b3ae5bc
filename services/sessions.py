"""Sessions as use cases: start one at login, exchange a refresh token (rotation with reuse detection), log out.

Logins (successful and failed) and logouts are audited here, with the request's client address
(storage/request_source.py); a failed login names the username tried, never the password.

Token signing stays in the API (serve/tokens.py); these decide whether a
session may start or go on, and name the refresh token to sign next.
"""

from __future__ import annotations

from uuid import UUID

import asyncpg

from domain.rbac import Principal
from domain.session import Bearer, RefreshRefused, Session
from domain.user import User
from services.refusals import NotAuthenticated
from storage import audit, sessions


async def start(pool: asyncpg.Pool, user_id: UUID, *, refresh_ttl_s: int) -> tuple[Session, UUID]:
    """A new session of the user and its first refresh token's id."""
    started = await sessions.start(pool, user_id, refresh_ttl_s=refresh_ttl_s)
    if started is None:
        raise NotAuthenticated("the user is disabled or deleted")
    return started


async def log_in(pool: asyncpg.Pool, who: Principal, *, refresh_ttl_s: int) -> tuple[Session, UUID]:
    """A login whose password was right: a new session (audited ``user.login``); a user disabled meanwhile is a
    failed login."""
    started = await sessions.start(pool, who.user_id, refresh_ttl_s=refresh_ttl_s)
    if started is None:
        await audit.record(pool, who.user_id, "user.login_failed", tenant_id=who.tenant_id,
                           detail={"reason": "the user is disabled or deleted"})
        raise NotAuthenticated("the user is disabled or deleted")
    await audit.record(pool, who.user_id, "user.login", tenant_id=who.tenant_id,
                       detail={"session_id": str(started[0].id)})
    return started


async def login_failed(pool: asyncpg.Pool, username: str, user: User | None) -> None:
    """Audit a refused password check: the name tried and, when it names a user, who (never the password)."""
    await audit.record(pool, user.id if user else None, "user.login_failed", tenant_id=user.tenant_id if user else None,
                       detail={"username": username, "reason": "wrong password" if user else "unknown username"})


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
    """Log out: the caller's session ends (its refresh, access and media tokens, its open sockets); audited."""
    who = holder.principal
    await sessions.end(pool, holder.session_id, user_id=who.user_id)
    await audit.record(pool, who.user_id, "user.logout", tenant_id=who.tenant_id,
                       detail={"session_id": str(holder.session_id)})
