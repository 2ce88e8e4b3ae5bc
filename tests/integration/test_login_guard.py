"""Login against the real app (FastAPI, PostgreSQL, Redis; no Ray): failed logins are limited per source address
and per username, shared through Redis between replicas; Argon2id runs off the event loop, a few at a time."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass, replace
from pathlib import Path

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from domain.settings import Settings
from serve.app import create_app
from serve.passwords import hash_password
from storage import users
from tests.support.system import REDIS_URL, drop_redis_keys

LOGIN = "/api/v1/auth/login"
PASSWORD = "the right password"


@dataclass
class Logins:
    settings: Settings
    username: str
    client: Callable[..., httpx.AsyncClient]  # (address, replica=0): the API as seen from that source address
    start: Callable[[Settings], Awaitable[FastAPI]]  # one more replica

    async def attempt(self, address: str, username: str, password: str) -> httpx.Response:
        return await self.client(address).post(LOGIN, json={"username": username, "password": password})


@pytest.fixture
async def logins(database_url: str, pool: asyncpg.Pool, tmp_path: Path) -> AsyncIterator[Logins]:
    prefix = f"gtv-login-{uuid.uuid4().hex[:8]}:"
    settings = Settings(database_url=database_url, object_store_url=(tmp_path / "objects").as_uri(),
                        public_url="http://127.0.0.1:8000", secret=uuid.uuid4().hex,
                        bus_url=f"{REDIS_URL}?prefix={prefix}", spool_dir=str(tmp_path / "spool"),
                        password_checks_at_once=1)
    username = f"op-{uuid.uuid4().hex[:8]}"
    await users.create(pool, username=username, password_hash=hash_password(PASSWORD), role="admin", tenant_id=None)
    async with AsyncExitStack() as stack:
        apps: list[FastAPI] = []
        clients: dict[tuple[int, str], httpx.AsyncClient] = {}

        async def start(app_settings: Settings) -> FastAPI:
            app = create_app(app_settings)
            await stack.enter_async_context(app.router.lifespan_context(app))
            apps.append(app)
            return app

        def client(address: str, replica: int = 0) -> httpx.AsyncClient:
            if (replica, address) not in clients:
                transport = httpx.ASGITransport(app=apps[replica], client=(address, 40000))
                clients[replica, address] = httpx.AsyncClient(transport=transport, base_url="http://api", timeout=60)
                stack.push_async_callback(clients[replica, address].aclose)
            return clients[replica, address]

        await start(settings)
        try:
            yield Logins(settings, username, client, start)
        finally:
            await drop_redis_keys(prefix)


async def test_the_sixth_failure_from_an_address_in_a_minute_is_429_with_retry_after(logins: Logins) -> None:
    for n in range(5):  # five different usernames: only the address's count reaches the limit
        assert (await logins.attempt("10.1.0.1", f"nobody-{n}", "wrong")).status_code == 401
    refused = await logins.attempt("10.1.0.1", logins.username, PASSWORD)  # even the right password: no check at all
    assert refused.status_code == 429, refused.text
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert "too many failed logins" in refused.json()["error"]["message"]
    assert (await logins.attempt("10.1.0.2", logins.username, PASSWORD)).status_code == 200  # other addresses may


async def test_a_username_is_limited_across_addresses(logins: Logins) -> None:
    for n in range(5):
        assert (await logins.attempt(f"10.2.0.{n}", logins.username, "wrong")).status_code == 401
    refused = await logins.attempt("10.2.1.1", logins.username, PASSWORD)
    assert refused.status_code == 429 and 1 <= int(refused.headers["retry-after"]) <= 60
    assert (await logins.attempt("10.2.1.1", "someone-else", "wrong")).status_code == 401  # others are not


async def test_a_success_does_not_count_and_clears_its_usernames_failures(logins: Logins) -> None:
    for n in range(4):
        assert (await logins.attempt(f"10.3.0.{n}", logins.username, "wrong")).status_code == 401
    for _ in range(8):
        assert (await logins.attempt("10.3.1.1", logins.username, PASSWORD)).status_code == 200
    for n in range(5):  # 4 + 5 failures would be over the limit without the reset
        assert (await logins.attempt(f"10.3.2.{n}", logins.username, "wrong")).status_code == 401
    assert (await logins.attempt("10.3.3.1", logins.username, "wrong")).status_code == 429


async def test_replicas_share_the_counts_through_redis(logins: Logins) -> None:
    await logins.start(logins.settings)  # a second replica of the same deployment
    first, second = logins.client("10.4.0.1"), logins.client("10.4.0.1", 1)
    for n in range(3):
        assert (await first.post(LOGIN, json={"username": f"a-{n}", "password": "wrong"})).status_code == 401
    for n in range(2):
        assert (await second.post(LOGIN, json={"username": f"b-{n}", "password": "wrong"})).status_code == 401
    assert (await second.post(LOGIN, json={"username": "c", "password": "wrong"})).status_code == 429
    assert (await first.post(LOGIN, json={"username": "c", "password": "wrong"})).status_code == 429


async def test_a_flood_of_logins_does_not_block_the_event_loop(logins: Logins) -> None:
    """50 concurrent bad logins of unknown users (no limit reached): /health still answers at once, the loop never
    stalls for long, and logins beyond the slot and its bounded line are refused at once with 503 + Retry-After."""
    await logins.start(replace(logins.settings, login_failures_per_minute=1000))
    api = logins.client("10.5.0.1", 1)
    stalls: list[float] = []

    async def watch_the_loop() -> None:
        while True:
            before = time.monotonic()
            await asyncio.sleep(0.01)
            stalls.append(time.monotonic() - before - 0.01)

    watcher = asyncio.create_task(watch_the_loop())
    flood = [asyncio.create_task(api.post(LOGIN, json={"username": f"x-{n}", "password": "wrong"})) for n in range(50)]
    await asyncio.sleep(0.05)
    began = time.monotonic()
    health = await api.get("/api/v1/health")
    health_s = time.monotonic() - began
    answers = await asyncio.gather(*flood)
    watcher.cancel()
    # Bounds for a shared, loaded 2-core machine; on the loop, 50 Argon2id checks held /health for ~25 s.
    assert health.status_code == 200 and health_s < 1.0, health_s
    assert max(stalls) < 1.0, max(stalls)
    statuses = [a.status_code for a in answers]
    assert set(statuses) <= {401, 503} and statuses.count(503) >= 30, statuses
    assert all(a.headers["retry-after"] == "1" for a in answers if a.status_code == 503)


async def test_a_burst_from_one_address_gets_its_limit_of_checks_and_429_for_the_rest(logins: Logins) -> None:
    """Attempts still being checked count: 20 at once from one address are 5 checks (401) and 15 refusals (429),
    not a line that fills up (503) while the first failures are still being counted."""
    api = logins.client("10.6.0.1")
    burst = [api.post(LOGIN, json={"username": f"y-{n}", "password": "wrong"}) for n in range(20)]
    statuses = sorted(answer.status_code for answer in await asyncio.gather(*burst))
    assert statuses == [401] * 5 + [429] * 15, statuses
