"""Sessions that end: refresh rotation with reuse detection, logout, disabling, deleting, password changes and
resets, and the /events WebSocket ticket — against the real app on PostgreSQL and Redis (no Ray).

Two apps on one database stand for two API replicas: what one ends, the other refuses within its cache's time to
live. Sockets need a real server: uvicorn on a free local port, in the test's own event loop.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from domain.settings import Settings
from serve.passwords import hash_password
from storage import tenants, users
from tests.support.asgi_api import running_api, served_api
from tests.support.system import REDIS_URL, drop_redis_keys

PASSWORD = "a long password"
TTL_S = 1.0  # the replicas' session cache


@dataclass
class Replicas:
    a: httpx.AsyncClient
    b: httpx.AsyncClient
    settings: Settings
    pool: asyncpg.Pool
    city: uuid.UUID
    other_city: uuid.UUID

    async def user(self, role: str, tenant: uuid.UUID | None) -> tuple[uuid.UUID, str]:
        name = f"{role}-{uuid.uuid4().hex[:10]}"
        created = await users.create(self.pool, username=name, password_hash=hash_password(PASSWORD), role=role,
                                     tenant_id=tenant)
        return created.id, name

    async def login(self, name: str, password: str = PASSWORD, via: httpx.AsyncClient | None = None) -> dict[str, Any]:
        answer = await (via or self.a).post("/api/v1/auth/login", json={"username": name, "password": password})
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        return body


def _headers(pair: dict[str, Any]) -> dict[str, str]:
    return {"authorization": f"Bearer {pair['access_token']}"}


def _settings(database_url: str, tmp_path: Path, prefix: str, **changes: Any) -> Settings:
    return Settings(database_url=database_url, object_store_url=(tmp_path / "objects").as_uri(),
                    public_url="http://127.0.0.1:1", secret="sessions-test-secret", bus_url=f"{REDIS_URL}?prefix={prefix}",
                    spool_dir=str(tmp_path / "spool"), session_check_ttl_s=TTL_S, **changes)


@pytest.fixture
async def api(database_url: str, pool: asyncpg.Pool, tmp_path: Path) -> AsyncIterator[Replicas]:
    prefix = f"gtv-sessions-{uuid.uuid4().hex[:8]}:"
    settings = _settings(database_url, tmp_path, prefix)
    city, other = [await tenants.create(pool, f"sessions {uuid.uuid4().hex[:8]}") for _ in range(2)]
    try:
        async with running_api(settings, "http://api") as a, running_api(settings, "http://api") as b:
            yield Replicas(a, b, settings, pool, city.id, other.id)
    finally:
        await drop_redis_keys(prefix)


async def test_a_refresh_token_works_once_and_its_reuse_ends_the_session(api: Replicas) -> None:
    _, name = await api.user("viewer", api.city)
    first = await api.login(name)
    rotated = await api.a.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert rotated.status_code == 200, rotated.text
    second = rotated.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert (await api.a.get("/api/v1/auth/me", headers=_headers(second))).status_code == 200

    replay = await api.a.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert replay.status_code == 401 and "already used" in replay.json()["error"]["message"], replay.text
    # the whole session is gone: the thief's and the owner's tokens alike
    after = await api.a.post("/api/v1/auth/refresh", json={"refresh_token": second["refresh_token"]})
    assert after.status_code == 401 and "session ended" in after.json()["error"]["message"], after.text
    me = await api.a.get("/api/v1/auth/me", headers=_headers(second))
    assert me.status_code == 401 and me.json()["error"]["message"] == "session revoked"
    reused = await api.pool.fetch("SELECT action FROM audit_log WHERE action = 'session.refresh_reused'"
                                  " AND detail->>'session_id' IS NOT NULL")
    assert reused


async def test_logout_ends_that_session_only(api: Replicas) -> None:
    _, name = await api.user("viewer", api.city)
    phone, laptop = await api.login(name), await api.login(name)
    assert (await api.b.get("/api/v1/auth/me", headers=_headers(phone))).status_code == 200  # cached on replica B
    assert (await api.a.post("/api/v1/auth/logout", headers=_headers(phone))).status_code == 204
    assert (await api.a.get("/api/v1/auth/me", headers=_headers(phone))).status_code == 401  # at once here
    assert await _refused_within(api.b, _headers(phone), TTL_S + 1.0)  # and on the other replica within the TTL
    refresh = await api.a.post("/api/v1/auth/refresh", json={"refresh_token": phone["refresh_token"]})
    assert refresh.status_code == 401
    assert (await api.a.get("/api/v1/auth/me", headers=_headers(laptop))).status_code == 200


async def _refused_within(client: httpx.AsyncClient, headers: dict[str, str], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if (await client.get("/api/v1/auth/me", headers=headers)).status_code == 401:
            return True
        await asyncio.sleep(0.1)
    return False


async def test_disabling_a_user_ends_every_session_on_every_replica_and_login(api: Replicas) -> None:
    _, manager = await api.user("manager", api.city)
    viewer_id, viewer = await api.user("viewer", api.city)
    boss = _headers(await api.login(manager))
    sessions = [await api.login(viewer) for _ in range(2)]
    media = await api.b.post(f"/api/v1/cameras/{uuid.uuid4()}/media-token", headers=_headers(sessions[0]))
    assert media.status_code == 404  # the session stands (a made-up camera is simply not found)

    disabled = await api.a.post(f"/api/v1/users/{viewer_id}/disable", headers=boss)
    assert disabled.status_code == 200 and disabled.json()["disabled_at"] is not None, disabled.text
    for pair in sessions:
        assert (await api.a.get("/api/v1/auth/me", headers=_headers(pair))).status_code == 401
        assert await _refused_within(api.b, _headers(pair), TTL_S + 1.0)
        assert (await api.b.post("/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]})).status_code == 401
    assert (await api.a.post("/api/v1/auth/login", json={"username": viewer, "password": PASSWORD})).status_code == 401

    assert (await api.a.post(f"/api/v1/users/{viewer_id}/enable", headers=boss)).status_code == 200
    again = await api.login(viewer)
    assert (await api.b.get("/api/v1/auth/me", headers=_headers(again))).status_code == 200
    assert (await api.b.get("/api/v1/auth/me", headers=_headers(sessions[0]))).status_code == 401, "ended stays ended"


async def test_changing_and_resetting_a_password_end_the_users_sessions(api: Replicas) -> None:
    _, manager = await api.user("manager", api.city)
    viewer_id, viewer = await api.user("viewer", api.city)
    elsewhere = await api.login(viewer)
    here = await api.login(viewer)
    wrong = await api.a.post("/api/v1/auth/password", headers=_headers(here),
                             json={"current_password": "not it at all", "new_password": "another long one"})
    assert wrong.status_code == 403
    changed = await api.a.post("/api/v1/auth/password", headers=_headers(here),
                               json={"current_password": PASSWORD, "new_password": "another long one"})
    assert changed.status_code == 200, changed.text
    assert (await api.a.get("/api/v1/auth/me", headers=_headers(elsewhere))).status_code == 401
    assert (await api.a.get("/api/v1/auth/me", headers=_headers(here))).status_code == 401
    fresh = changed.json()
    assert (await api.a.get("/api/v1/auth/me", headers=_headers(fresh))).status_code == 200, "this client goes on"
    await api.login(viewer, "another long one")

    boss = _headers(await api.login(manager))
    reset = await api.a.post(f"/api/v1/users/{viewer_id}/password", headers=boss, json={"password": "set by the boss"})
    assert reset.status_code == 204, reset.text
    assert (await api.a.get("/api/v1/auth/me", headers=_headers(fresh))).status_code == 401
    assert (await api.a.post("/api/v1/auth/login", json={"username": viewer, "password": "another long one"})
            ).status_code == 401
    await api.login(viewer, "set by the boss")


async def test_managers_manage_only_their_own_citys_viewers_and_deleting_keeps_the_trail(api: Replicas) -> None:
    _, manager = await api.user("manager", api.city)
    colleague_id, _ = await api.user("manager", api.city)
    viewer_id, viewer = await api.user("viewer", api.city)
    outsider_id, _ = await api.user("viewer", api.other_city)
    admin_id, admin = await api.user("admin", None)
    boss = _headers(await api.login(manager))
    root = _headers(await api.login(admin))

    for target, status in ((outsider_id, 404), (admin_id, 404), (colleague_id, 403), (uuid.uuid4(), 404)):
        for method, path, body in (("POST", "disable", None), ("POST", "enable", None),
                                   ("POST", "password", {"password": "whatever long"}), ("DELETE", "", None)):
            answer = await api.a.request(method, f"/api/v1/users/{target}/{path}".rstrip("/"), headers=boss, json=body)
            assert answer.status_code == status, (target, path, answer.text)
    viewer_session = _headers(await api.login(viewer))
    assert (await api.a.get("/api/v1/auth/me", headers=viewer_session)).status_code == 200
    as_viewer = await api.a.post(f"/api/v1/users/{viewer_id}/disable", headers=viewer_session)
    assert as_viewer.status_code == 409  # oneself: never
    peer = await api.a.post(f"/api/v1/users/{colleague_id}/disable", headers=viewer_session)
    assert peer.status_code == 403
    assert (await api.a.post(f"/api/v1/users/{admin_id}/disable", headers=root)).status_code == 409

    # the admin may manage anyone, in any city
    assert (await api.a.post(f"/api/v1/users/{outsider_id}/disable", headers=root)).status_code == 200
    assert (await api.a.post(f"/api/v1/users/{colleague_id}/password", headers=root,
                             json={"password": "reset by admin"})).status_code == 204

    # the manager deletes their viewer: gone from listings, logins and sessions; the audit trail names them still
    assert (await api.a.delete(f"/api/v1/users/{viewer_id}", headers=boss)).status_code == 204
    assert (await api.a.get("/api/v1/auth/me", headers=viewer_session)).status_code == 401
    listed = (await api.a.get("/api/v1/users", headers=boss)).json()
    assert viewer_id not in {uuid.UUID(u["id"]) for u in listed}
    assert (await api.a.post("/api/v1/auth/login", json={"username": viewer, "password": PASSWORD})).status_code == 401
    assert (await api.a.delete(f"/api/v1/users/{viewer_id}", headers=boss)).status_code == 404
    row = await api.pool.fetchrow("SELECT username, deleted_at FROM users WHERE id = $1", viewer_id)
    assert row["username"] == viewer and row["deleted_at"] is not None
    trail = await api.pool.fetchrow("SELECT detail FROM audit_log WHERE action = 'user.deleted'"
                                    " AND detail->>'user_id' = $1", str(viewer_id))
    assert trail["detail"]["username"] == viewer


@asynccontextmanager
async def _server(settings: Settings) -> AsyncIterator[tuple[str, httpx.AsyncClient]]:
    """The app on a real local port (sockets need one): its events ws:// URL and an HTTP client."""
    async with served_api(settings) as (base, http):
        yield f"{base}/events", http


async def _ticket(http: httpx.AsyncClient, headers: dict[str, str]) -> str:
    answer = await http.post("/api/v1/events/ticket", headers=headers)
    assert answer.status_code == 200, answer.text
    ticket: str = answer.json()["ticket"]
    return ticket


async def _close_code(url: str, wait_s: float = 10.0) -> tuple[int | None, str]:
    try:
        async with connect(url, open_timeout=10) as ws:
            await asyncio.wait_for(ws.recv(), wait_s)
            await asyncio.wait_for(ws.recv(), wait_s)
    except ConnectionClosed as closed:
        return (closed.rcvd.code, closed.rcvd.reason) if closed.rcvd else (None, "")
    return None, "still open"


async def test_an_events_ticket_is_single_use_and_short_lived_and_tokens_are_refused_in_the_url(
    database_url: str, pool: asyncpg.Pool, tmp_path: Path
) -> None:
    prefix = f"gtv-tickets-{uuid.uuid4().hex[:8]}:"
    settings = _settings(database_url, tmp_path, prefix, ws_ticket_ttl_s=1)
    city = await tenants.create(pool, f"tickets {uuid.uuid4().hex[:8]}")
    name = f"viewer-{uuid.uuid4().hex[:10]}"
    await users.create(pool, username=name, password_hash=hash_password(PASSWORD), role="viewer", tenant_id=city.id)
    try:
        async with _server(settings) as (events, http):
            pair = (await http.post("/api/v1/auth/login", json={"username": name, "password": PASSWORD})).json()
            ticket = await _ticket(http, _headers(pair))
            async with connect(f"{events}?ticket={ticket}", open_timeout=10) as ws:
                assert '"ready"' in await asyncio.wait_for(ws.recv(), 10)
            assert await _close_code(f"{events}?ticket={ticket}") == (4401, "unknown, used or expired ticket")
            stale = await _ticket(http, _headers(pair))
            await asyncio.sleep(1.5)
            assert await _close_code(f"{events}?ticket={stale}") == (4401, "unknown, used or expired ticket")
            code, reason = await _close_code(f"{events}?token={pair['access_token']}")
            assert code == 4401 and "POST /api/v1/events/ticket" in reason
            assert (await _close_code(events))[0] == 4401
            assert (await http.post("/api/v1/events/ticket")).status_code == 401
    finally:
        await drop_redis_keys(prefix)


async def test_disabling_a_user_closes_their_open_events_socket_with_4401(
    database_url: str, pool: asyncpg.Pool, tmp_path: Path
) -> None:
    prefix = f"gtv-tickets-{uuid.uuid4().hex[:8]}:"
    settings = _settings(database_url, tmp_path, prefix)
    city = await tenants.create(pool, f"tickets {uuid.uuid4().hex[:8]}")
    names = {role: f"{role}-{uuid.uuid4().hex[:10]}" for role in ("manager", "viewer")}
    created = {role: await users.create(pool, username=name, password_hash=hash_password(PASSWORD), role=role,
                                        tenant_id=city.id) for role, name in names.items()}
    try:
        async with _server(settings) as (events, http):
            pairs = {role: (await http.post("/api/v1/auth/login", json={"username": name, "password": PASSWORD})
                            ).json() for role, name in names.items()}
            ticket = await _ticket(http, _headers(pairs["viewer"]))
            async with connect(f"{events}?ticket={ticket}", open_timeout=10) as ws:
                assert '"ready"' in await asyncio.wait_for(ws.recv(), 10)
                disabled = await http.post(f"/api/v1/users/{created['viewer'].id}/disable",
                                           headers=_headers(pairs["manager"]))
                assert disabled.status_code == 200
                started = time.monotonic()
                with pytest.raises(ConnectionClosed) as closed:
                    await asyncio.wait_for(ws.recv(), 10)
                assert time.monotonic() - started < TTL_S + 2.5
            assert closed.value.rcvd is not None
            assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (4401, "session revoked")
    finally:
        await drop_redis_keys(prefix)
