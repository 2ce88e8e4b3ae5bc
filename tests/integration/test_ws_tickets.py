"""Both WebSocket ticket stores keep one contract: a ticket names its bearer once, never after it is taken or
expired, and what is stored is not the ticket itself."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest
import redis.asyncio

from domain.rbac import Principal, Role
from domain.session import Bearer
from storage.ws_tickets import TicketStore, open_tickets
from tests.support.system import REDIS_URL, drop_redis_keys


@pytest.fixture(params=["redis", "postgres"])
async def store(request: pytest.FixtureRequest, pool: asyncpg.Pool) -> AsyncIterator[tuple[str, TicketStore]]:
    prefix = f"gtv-ticket-{uuid.uuid4().hex[:8]}:"
    url = f"{REDIS_URL}?prefix={prefix}" if request.param == "redis" else "ray://"
    tickets = open_tickets(url, pool)
    try:
        yield prefix if request.param == "redis" else "", tickets
    finally:
        await tickets.close()
        await drop_redis_keys(prefix)


async def test_a_ticket_is_taken_once_and_expires(store: tuple[str, TicketStore], pool: asyncpg.Pool) -> None:
    prefix, tickets = store
    bearer = Bearer(Principal(uuid.uuid4(), Role.VIEWER, uuid.uuid4()), uuid.uuid4(), 7)
    admin = Bearer(Principal(uuid.uuid4(), Role.ADMIN, None), uuid.uuid4(), 0)
    first, second = await tickets.issue(bearer, 30), await tickets.issue(admin, 30)
    assert first != second and len(first) >= 40
    assert await tickets.take(first) == bearer
    assert await tickets.take(first) is None, "single use"
    assert await tickets.take(second) == admin
    assert await tickets.take("made-up") is None

    stored = hashlib.sha256((third := await tickets.issue(bearer, 30)).encode()).digest()
    if prefix:
        client = redis.asyncio.from_url(REDIS_URL)
        keys = [k async for k in client.scan_iter(match=prefix + "*")]
        await client.aclose()
        assert keys == [f"{prefix}ws-ticket:{stored.hex()}".encode()], "only the ticket's digest is stored"
    else:
        assert await pool.fetchval("SELECT count(*) FROM ws_tickets WHERE digest = $1", stored) == 1
    assert await tickets.take(third) == bearer

    short = await tickets.issue(bearer, 1)
    await asyncio.sleep(1.3)
    assert await tickets.take(short) is None, "expired"
