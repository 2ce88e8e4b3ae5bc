"""Single-use WebSocket tickets: a browser opens ``/events?ticket=`` instead of putting its API token in a URL.

A ticket is 32 random bytes (URL-safe text), valid for a few seconds and taken
at most once: whoever takes it first gets its bearer, later attempts get None.
Only its SHA-256 is stored, so a dump of the store opens no socket. Two
backends, chosen with the event bus like the LPR intake: Redis (``SET … EX``,
then ``GETDEL``: expiry and single use are Redis's) or the ``ws_tickets`` table
(``DELETE … RETURNING``; expired rows go when the next ticket is issued).
"""

from __future__ import annotations

import hashlib
import json
import secrets
from datetime import timedelta
from typing import Protocol
from uuid import UUID

import asyncpg
import redis.asyncio as aioredis

from domain.rbac import Principal, Role
from domain.session import Bearer
from storage.bus import is_redis_url, redis_server_and_prefix


class TicketStore(Protocol):
    async def issue(self, bearer: Bearer, ttl_s: int) -> str:
        """A new ticket for ``bearer``, valid ``ttl_s`` seconds."""
        ...

    async def take(self, ticket: str) -> Bearer | None:
        """The ticket's bearer, once; None if it is unknown, taken already or expired."""
        ...

    async def close(self) -> None: ...


def open_tickets(bus_url: str, pool: asyncpg.Pool) -> TicketStore:
    if is_redis_url(bus_url):
        server, prefix = redis_server_and_prefix(bus_url)
        return RedisTickets(server, prefix=prefix)
    return PostgresTickets(pool)


def _new_ticket() -> tuple[str, bytes]:
    ticket = secrets.token_urlsafe(32)
    return ticket, _digest(ticket)


def _digest(ticket: str) -> bytes:
    return hashlib.sha256(ticket.encode()).digest()


class RedisTickets:
    def __init__(self, url: str, *, prefix: str) -> None:
        self._redis = aioredis.from_url(url, socket_timeout=5, socket_connect_timeout=3)
        self._prefix = prefix + "ws-ticket:"

    async def issue(self, bearer: Bearer, ttl_s: int) -> str:
        ticket, digest = _new_ticket()
        who = bearer.principal
        value = json.dumps({"sub": str(who.user_id), "role": who.role.value,
                            "tid": str(who.tenant_id) if who.tenant_id else None,
                            "sid": str(bearer.session_id), "gen": bearer.generation})
        await self._redis.set(self._prefix + digest.hex(), value, ex=ttl_s)
        return ticket

    async def take(self, ticket: str) -> Bearer | None:
        raw = await self._redis.getdel(self._prefix + _digest(ticket).hex())
        if raw is None:
            return None
        v = json.loads(raw)
        return Bearer(Principal(UUID(v["sub"]), Role(v["role"]), UUID(v["tid"]) if v["tid"] else None),
                      UUID(v["sid"]), int(v["gen"]))

    async def close(self) -> None:
        await self._redis.aclose()


class PostgresTickets:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def issue(self, bearer: Bearer, ttl_s: int) -> str:
        ticket, digest = _new_ticket()
        who = bearer.principal
        async with self._pool.acquire() as conn, conn.transaction():
            await conn.execute("DELETE FROM ws_tickets WHERE expires_at < now()")
            await conn.execute(
                "INSERT INTO ws_tickets (digest, user_id, role, tenant_id, session_id, generation, expires_at)"
                " VALUES ($1, $2, $3, $4, $5, $6, now() + $7)",
                digest, who.user_id, who.role.value, who.tenant_id, bearer.session_id, bearer.generation,
                timedelta(seconds=ttl_s))
        return ticket

    async def take(self, ticket: str) -> Bearer | None:
        row = await self._pool.fetchrow(
            "DELETE FROM ws_tickets WHERE digest = $1"
            " RETURNING user_id, role, tenant_id, session_id, generation, expires_at > now() AS valid",
            _digest(ticket))
        if row is None or not row["valid"]:
            return None
        return Bearer(Principal(row["user_id"], Role(row["role"]), row["tenant_id"]), row["session_id"],
                      row["generation"])

    async def close(self) -> None:
        pass
