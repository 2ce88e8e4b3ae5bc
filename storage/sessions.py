"""Sessions and their refresh tokens (migration 0008; docs/security/sessions.md).

A refresh token is usable once: exchanging it marks it used and issues the
next one in the same session. Presenting a used one again ends the session —
either the client or a thief replayed it, and the server cannot tell which, so
both lose it. Rows stay bounded: expired refresh tokens go when their session
rotates, a user's ended or expired sessions go when they log in again, and a
user has at most ``MAX_SESSIONS_PER_USER`` live ones.
"""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID, uuid4

import asyncpg

from domain.session import MAX_SESSIONS_PER_USER, RefreshRefused, Session

_ACTIVE_USER = "u.disabled_at IS NULL AND u.deleted_at IS NULL"


async def start(pool: asyncpg.Pool, user_id: UUID, *, refresh_ttl_s: int) -> tuple[Session, UUID] | None:
    """A new session of an active user and its first refresh token's id; None if the user is disabled or gone."""
    ttl = timedelta(seconds=refresh_ttl_s)
    async with pool.acquire() as conn, conn.transaction():
        row = await conn.fetchrow(
            "INSERT INTO sessions (id, user_id, generation, expires_at)"
            f" SELECT $1, u.id, u.token_generation, now() + $3 FROM users u WHERE u.id = $2 AND {_ACTIVE_USER}"
            " RETURNING id, user_id, generation", uuid4(), user_id, ttl)
        if row is None:
            return None
        session = Session(row["id"], row["user_id"], row["generation"])
        await conn.execute("DELETE FROM sessions WHERE user_id = $1 AND expires_at < now()", user_id)
        await conn.execute(
            "UPDATE sessions SET revoked_at = now(), revoked_reason = 'limit' WHERE id IN ("
            " SELECT id FROM sessions WHERE user_id = $1 AND revoked_at IS NULL"
            " ORDER BY created_at DESC, id OFFSET $2)", user_id, MAX_SESSIONS_PER_USER)
        return session, await _issue_refresh(conn, session.id, ttl)


async def rotate(pool: asyncpg.Pool, token_id: UUID, *, refresh_ttl_s: int) -> tuple[Session, UUID] | RefreshRefused:
    """Exchange a refresh token: (its session, the next token's id), or why not. A reused token ends its session."""
    ttl = timedelta(seconds=refresh_ttl_s)
    async with pool.acquire() as conn, conn.transaction():
        row = await conn.fetchrow(
            "SELECT r.used_at, r.expires_at <= now() AS expired, s.id, s.user_id, s.generation, s.revoked_at,"
            f" s.generation = u.token_generation AND {_ACTIVE_USER} AS user_current"
            " FROM refresh_tokens r JOIN sessions s ON s.id = r.session_id JOIN users u ON u.id = s.user_id"
            " WHERE r.id = $1 FOR UPDATE OF r, s", token_id)
        if row is None:
            return RefreshRefused.UNKNOWN
        if row["revoked_at"] is not None:
            return RefreshRefused.ENDED
        if row["used_at"] is not None:
            await _revoke(conn, row["id"], "reuse")
            return RefreshRefused.REUSED
        if not row["user_current"]:
            await _revoke(conn, row["id"], "user")
            return RefreshRefused.ENDED
        if row["expired"]:
            return RefreshRefused.EXPIRED
        await conn.execute("UPDATE refresh_tokens SET used_at = now() WHERE id = $1", token_id)
        await conn.execute("DELETE FROM refresh_tokens WHERE session_id = $1 AND expires_at < now()", row["id"])
        await conn.execute("UPDATE sessions SET expires_at = now() + $2 WHERE id = $1", row["id"], ttl)
        return Session(row["id"], row["user_id"], row["generation"]), await _issue_refresh(conn, row["id"], ttl)


async def end(pool: asyncpg.Pool, session_id: UUID, *, user_id: UUID) -> None:
    """Log out: the session (only the user's own) ends; its refresh, access and media tokens stop working."""
    await pool.execute("UPDATE sessions SET revoked_at = now(), revoked_reason = 'logout'"
                       " WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL", session_id, user_id)


async def end_all_of_user(conn: asyncpg.Connection, user_id: UUID) -> None:
    """Every session of the user ends and the user's token generation moves on (call inside a transaction)."""
    await conn.execute("UPDATE users SET token_generation = token_generation + 1 WHERE id = $1", user_id)
    await conn.execute("UPDATE sessions SET revoked_at = now(), revoked_reason = 'user'"
                       " WHERE user_id = $1 AND revoked_at IS NULL", user_id)


async def live(pool: asyncpg.Pool, session_id: UUID) -> Session | None:
    """The session as it stands now (with the user's current generation), or None if it has ended."""
    row = await pool.fetchrow(
        "SELECT s.id, s.user_id, u.token_generation AS generation FROM sessions s JOIN users u ON u.id = s.user_id"
        f" WHERE s.id = $1 AND s.revoked_at IS NULL AND s.expires_at > now() AND {_ACTIVE_USER}"
        " AND s.generation = u.token_generation", session_id)
    return None if row is None else Session(row["id"], row["user_id"], row["generation"])


async def _issue_refresh(conn: asyncpg.Connection, session_id: UUID, ttl: timedelta) -> UUID:
    token_id = uuid4()
    await conn.execute("INSERT INTO refresh_tokens (id, session_id, expires_at) VALUES ($1, $2, now() + $3)",
                       token_id, session_id, ttl)
    return token_id


async def _revoke(conn: asyncpg.Connection, session_id: UUID, reason: str) -> None:
    await conn.execute("UPDATE sessions SET revoked_at = now(), revoked_reason = $2"
                       " WHERE id = $1 AND revoked_at IS NULL", session_id, reason)
