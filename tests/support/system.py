"""Helpers for end-to-end tests of the running system (fixtures in tests/integration/conftest.py)."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import redis.asyncio

from domain.settings import Settings
from runtime.bootstrap import ensure_admin
from runtime.launcher import Runtime, start_runtime
from storage.db import create_pool
from tests.support.ports import free_port

ADMIN_PASSWORD = "admin-password-for-tests"
REDIS_URL = "redis://127.0.0.1:6379/0"
NAMESPACE = f"gtv-test-{uuid.uuid4().hex[:8]}"


METRICS_PORT = free_port()


@dataclass
class System:
    settings: Settings
    client: httpx.Client

    def login(self, username: str, password: str) -> dict[str, str]:
        response = self.client.post("/auth/login", json={"username": username, "password": password})
        assert response.status_code == 200, response.text
        return {"authorization": f"Bearer {response.json()['access_token']}"}


def wait_for(predicate: Callable[[], Any], timeout_s: float, interval_s: float = 0.25) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(interval_s)
    raise TimeoutError(f"condition not met within {timeout_s} s")


async def drop_redis_keys(prefix: str) -> None:
    client = redis.asyncio.from_url(REDIS_URL)
    keys = [k async for k in client.scan_iter(match=prefix + "*")]
    if keys:
        await client.delete(*keys)
    await client.aclose()


def healthy(client: httpx.Client) -> bool:
    try:
        return client.get("/health").status_code == 200
    except httpx.HTTPError:
        return False


def new_city(system: System, admin: dict[str, str]) -> tuple[str, dict[str, str], dict[str, str]]:
    """A new tenant with a manager and a viewer; returns (tenant id, manager headers, viewer headers)."""
    tenant = system.client.post("/tenants", json={"name": f"City {uuid.uuid4().hex[:6]}"}, headers=admin).json()
    creds = {}
    for role in ("manager", "viewer"):
        name = f"{role}-{uuid.uuid4().hex[:6]}"
        created = system.client.post("/users", json={"username": name, "password": "a long password",
                                                      "role": role, "tenant_id": tenant["id"]}, headers=admin)
        assert created.status_code == 201, created.text
        creds[role] = system.login(name, "a long password")
    return tenant["id"], creds["manager"], creds["viewer"]




def start_system(settings: Settings, admin_password: str = ADMIN_PASSWORD) -> tuple[Runtime, httpx.Client]:
    """Start the runtime on the initialised Ray, create the admin, and wait until the API answers."""
    runtime = start_runtime(settings)

    async def bootstrap() -> None:
        pool = await create_pool(settings.database_url, max_size=1)
        await ensure_admin(pool, "admin", admin_password)
        await pool.close()

    asyncio.run(bootstrap())
    client = httpx.Client(base_url=f"{settings.public_url}/api/v1", timeout=30)
    wait_for(lambda: healthy(client), 60)
    return runtime, client
