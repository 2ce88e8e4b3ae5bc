"""Event fan-out on the API under uvicorn, real Redis streams and PostgreSQL: 50 sockets of city A (three users,
per-user and per-city limits) do not stop city B's socket or its alerts; the replica holds one bus subscription per
city, not one per socket; every open socket of A gets A's events; refused sockets close with 4429 and say which
limit; a socket resuming from its last id gets exactly what it missed."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from domain.events import tenant_stream
from domain.rbac import Role
from domain.settings import Settings
from serve.app import create_app
from storage import tenants
from storage.bus import RedisBus
from tests.support.asgi_api import served_api
from tests.support.sessions import access_headers, new_bearer
from tests.support.system import REDIS_URL, drop_redis_keys

PER_USER, PER_CITY = 20, 40


@pytest.fixture
async def prefix() -> AsyncIterator[str]:
    prefix = f"gtv-fanout-{uuid.uuid4().hex[:8]}:"
    yield prefix
    await drop_redis_keys(prefix)


async def _socket(base: str, http: httpx.AsyncClient, headers: dict[str, str],
                  last_id: str | None = None) -> ClientConnection:
    ticket = (await http.post("/api/v1/events/ticket", headers=headers)).json()["ticket"]
    ws = await connect(f"{base}/events?ticket={ticket}" + (f"&last_id={last_id}" if last_id else ""),
                       open_timeout=10)
    ready = json.loads(await asyncio.wait_for(ws.recv(), 10))  # or the refusal, as ConnectionClosed
    assert ready["type"] == "ready", ready
    return ws


async def _refusal(base: str, http: httpx.AsyncClient, headers: dict[str, str]) -> tuple[int, str]:
    with pytest.raises(ConnectionClosed) as closed:
        ws = await _socket(base, http, headers)
        await asyncio.wait_for(ws.recv(), 10)
    assert closed.value.rcvd is not None
    return closed.value.rcvd.code, closed.value.rcvd.reason


async def _next(ws: ClientConnection, within_s: float = 5.0) -> dict[str, Any]:
    message: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), within_s))
    return message


async def test_fifty_sockets_of_one_city_do_not_stop_another_citys_socket_and_alerts(
    pool: asyncpg.Pool, database_url: str, tmp_path: Path, prefix: str
) -> None:
    settings = Settings(database_url=database_url, object_store_url=(tmp_path / "objects").as_uri(),
                        public_url="http://127.0.0.1:1", secret=uuid.uuid4().hex, bus_url=f"{REDIS_URL}?prefix={prefix}",
                        spool_dir=str(tmp_path / "spool"), event_sockets_per_user=PER_USER,
                        event_sockets_per_city=PER_CITY)
    a, b = (await tenants.create(pool, f"fanout A {uuid.uuid4().hex[:6]}")).id, \
        (await tenants.create(pool, f"fanout B {uuid.uuid4().hex[:6]}")).id
    a_users = [access_headers(settings, await new_bearer(pool, Role.VIEWER, a)) for _ in range(3)]
    b_user = access_headers(settings, await new_bearer(pool, Role.VIEWER, b))
    bus = RedisBus(REDIS_URL, prefix=prefix)
    app = create_app(settings)
    opened: list[ClientConnection] = []
    try:
        async with served_api(settings, app) as (base, http):
            b_socket = await _socket(base, http, b_user)
            refused = []
            for user, attempts in zip(a_users, (PER_USER + 1, PER_USER, 9), strict=True):  # 50 attempts in all
                for n in range(attempts):
                    if n == PER_USER or len(opened) == PER_CITY:
                        refused.append(await _refusal(base, http, user))
                    else:
                        opened.append(await _socket(base, http, user))
            assert len(opened) == PER_CITY and len(refused) == 10
            assert refused[0] == (4429, f"too many open event sockets: this user already has {PER_USER}"
                                        f" (at most {PER_USER} each)")
            assert all(r == (4429, f"too many open event sockets: the city already has {PER_CITY}"
                                   f" (at most {PER_CITY} per server)") for r in refused[1:]), refused
            assert app.state.resources.feeds.subscriptions() == 2, "one bus subscription per city, not per socket"

            # B's alert reaches B at once while A's 40 sockets are open; A's event reaches every one of A's.
            sent_at = time.monotonic()
            await bus.publish(tenant_stream(b), {"type": "alert", "kind": "test", "n": 1})
            got = await _next(b_socket)
            assert got["event"] == {"type": "alert", "kind": "test", "n": 1} and time.monotonic() - sent_at < 2.0
            await bus.publish(tenant_stream(a), {"type": "alert", "kind": "flood", "n": 2})
            for ws in opened:
                assert (await _next(ws))["event"]["kind"] == "flood"

            # B resumes from its last id: exactly what it missed, in order, once.
            last_id = got["id"]
            await b_socket.close()
            for n in range(3, 6):
                await bus.publish(tenant_stream(b), {"type": "alert", "kind": "test", "n": n})
            resumed = await _socket(base, http, b_user, last_id=last_id)
            assert [(await _next(resumed))["event"]["n"] for _ in range(3)] == [3, 4, 5]
            await bus.publish(tenant_stream(b), {"type": "alert", "kind": "test", "n": 6})
            assert (await _next(resumed))["event"]["n"] == 6, "nothing twice: the feed's copy of 3..5 was skipped"

            for ws in opened:  # A's sockets go: its subscription goes with the last one
                await ws.close()
            await resumed.close()
            for _ in range(50):
                if app.state.resources.feeds.subscriptions() == 0:
                    break
                await asyncio.sleep(0.1)
            assert app.state.resources.feeds.subscriptions() == 0
    finally:
        await bus.close()


async def test_a_city_over_its_message_budget_is_held_back_in_its_own_feed_and_another_citys_alert_is_not(
    pool: asyncpg.Pool, database_url: str, tmp_path: Path, prefix: str
) -> None:
    # 5 sockets of A at 20 messages a second each: A may be sent 100 a second (and a second's burst).
    settings = Settings(database_url=database_url, object_store_url=(tmp_path / "objects").as_uri(),
                        public_url="http://127.0.0.1:1", secret=uuid.uuid4().hex, bus_url=f"{REDIS_URL}?prefix={prefix}",
                        spool_dir=str(tmp_path / "spool"), event_messages_per_socket_s=20)
    a, b = (await tenants.create(pool, f"budget A {uuid.uuid4().hex[:6]}")).id, \
        (await tenants.create(pool, f"budget B {uuid.uuid4().hex[:6]}")).id
    a_user = access_headers(settings, await new_bearer(pool, Role.VIEWER, a))
    b_user = access_headers(settings, await new_bearer(pool, Role.VIEWER, b))
    bus = RedisBus(REDIS_URL, prefix=prefix)
    try:
        async with served_api(settings) as (base, http):
            a_sockets = [await _socket(base, http, a_user) for _ in range(5)]
            b_socket = await _socket(base, http, b_user)
            flooded_at = time.monotonic()
            for n in range(60):  # 300 messages: 200 past A's budget, 2 s of its rate
                await bus.publish(tenant_stream(a), {"type": "alert", "kind": "flood", "n": n})
            await bus.publish(tenant_stream(b), {"type": "alert", "kind": "test", "n": 1})
            assert (await _next(b_socket, 2.0))["event"]["n"] == 1
            b_took = time.monotonic() - flooded_at
            for ws in a_sockets:  # every event of A still comes, in order, once
                assert [(await _next(ws, 10.0))["event"]["n"] for _ in range(60)] == list(range(60))
            a_took = time.monotonic() - flooded_at
            assert b_took < 0.8, f"B's alert waited {b_took:.2f} s behind A's flood"
            assert a_took > 1.5, f"A was sent 300 messages in {a_took:.2f} s: its budget is 100 a second"
            for ws in [*a_sockets, b_socket]:
                await ws.close()
    finally:
        await bus.close()
