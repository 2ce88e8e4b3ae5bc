"""Secrets at rest and small leaks, against the real app (plain ASGI, no Ray) on PostgreSQL and Redis: push tokens
kept only as hashes, RTSP passwords and LPR secrets sealed (rows queried directly), the migration of existing
rows, X-Forwarded-For only from trusted proxies, and what viewers and managers of one city see of others."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from actors.camera_host import CameraHost
from domain.rbac import Role
from domain.sealing import Sealer, sealer_for
from domain.settings import Settings
from serve.app import create_app
from serve.passwords import hash_password
from storage import cameras, lpr_events, plans, tenants, users
from storage.db import MIGRATIONS_DIR, create_pool, migrate
from storage.lpr_intake import RedisIntake
from storage.secrets_at_rest import seal_at_rest
from tests.support.databases import create_database, drop_database
from tests.support.ports import free_port
from tests.support.rtsp_camera import RtspTestCamera
from tests.support.sessions import access_headers, new_bearer
from tests.support.system import REDIS_URL, drop_redis_keys

pytestmark = pytest.mark.integration

FIXTURES = Path(__file__).parents[1] / "fixtures" / "lpr"
GENERIC = json.loads((FIXTURES / "generic.json").read_text())
INTELBRAS = json.loads((FIXTURES / "intelbras_tollgate.json").read_text())

App = Callable[..., Any]


class Api:
    def __init__(self, client: httpx.AsyncClient, settings: Settings, pool: asyncpg.Pool, prefix: str) -> None:
        self.client, self.settings, self.pool, self.prefix = client, settings, pool, prefix

    async def bearer(self, role: Role, tenant_id: uuid.UUID | None) -> dict[str, str]:
        """The headers of a new user of that role (and city) with a live session."""
        return access_headers(self.settings, await new_bearer(self.pool, role, tenant_id))

    async def camera(self, tenant_id: uuid.UUID, **fields: Any) -> dict[str, Any]:
        answer = await self.client.post("/api/v1/cameras", headers=await self.bearer(Role.MANAGER, tenant_id), json={
            "name": f"cam {uuid.uuid4().hex[:6]}", "rtsp_url": "rtsp://127.0.0.1:1/lpr", "enabled": False, **fields})
        assert answer.status_code == 201, answer.text
        result: dict[str, Any] = answer.json()
        return result

    async def credentials(self, camera: dict[str, Any], **body: Any) -> dict[str, Any]:
        answer = await self.client.post(f"/api/v1/cameras/{camera['id']}/lpr-credentials", json=body or None,
                                        headers=await self.bearer(Role.MANAGER, uuid.UUID(camera["tenant_id"])))
        assert answer.status_code == 200, answer.text
        result: dict[str, Any] = answer.json()
        return result

    async def intelbras(self, token: str, headers: dict[str, str] | None = None, **snap: Any) -> httpx.Response:
        body = {**INTELBRAS, "Picture": {**INTELBRAS["Picture"],
                                        "SnapInfo": {**INTELBRAS["Picture"]["SnapInfo"], **snap}}}
        return await self.client.post(f"/api/v1/webhooks/intelbras/{token}/NotificationInfo/TollgateInfo",
                                      json=body, headers=headers or {})

    async def generic(self, camera_id: str, secret: str) -> httpx.Response:
        body = json.dumps({**GENERIC, "event_id": uuid.uuid4().hex}).encode()
        stamp = str(int(time.time()))
        signature = hmac.new(secret.encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
        return await self.client.post("/api/v1/webhooks/lpr", content=body, headers={
            "x-camera-id": camera_id, "x-timestamp": stamp, "x-signature": signature,
            "content-type": "application/json"})

    async def drain(self) -> int:
        intake = RedisIntake(REDIS_URL, prefix=self.prefix)
        taken = await intake.take(100, 0.1)
        await intake.confirm([i for i, _ in taken])
        await intake.close()
        return len(taken)


@pytest.fixture
async def make_api(database_url: str, pool: asyncpg.Pool, tmp_path: Path) -> AsyncIterator[App]:
    prefixes: list[str] = []

    @asynccontextmanager
    async def running(**overrides: Any) -> AsyncIterator[Api]:
        prefix = f"gtv-secrets-{uuid.uuid4().hex[:8]}:"
        prefixes.append(prefix)
        settings = Settings(database_url=database_url, object_store_url=(tmp_path / "objects").as_uri(),
                            public_url="http://127.0.0.1:1", secret=uuid.uuid4().hex + uuid.uuid4().hex,
                            bus_url=f"{REDIS_URL}?prefix={prefix}", spool_dir=str(tmp_path / "spool"),
                            camera_networks=("127.0.0.0/8",), **overrides)  # its cameras are on loopback
        app = create_app(settings)
        async with app.router.lifespan_context(app), httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app, client=("127.0.0.1", 40000)),
                base_url="http://127.0.0.1") as client:
            yield Api(client, settings, pool, prefix)

    yield running
    for prefix in prefixes:
        await drop_redis_keys(prefix)


async def _city(pool: asyncpg.Pool) -> uuid.UUID:
    return (await tenants.create(pool, f"secrets {uuid.uuid4().hex[:8]}")).id


def _no_plaintext(row: asyncpg.Record, *secrets: str) -> None:
    text = json.dumps({k: (v.hex() if isinstance(v, bytes) else str(v)) for k, v in dict(row).items()})
    for secret in secrets:
        assert secret not in text, f"{secret!r} is stored in the clear"


# --- defect 7: push tokens and senders ------------------------------------------------------------------------


async def test_push_tokens_are_stored_only_as_hashes_and_secrets_sealed_and_both_still_work(make_api: App) -> None:
    async with make_api() as api:
        camera = await api.camera(await _city(api.pool))
        issued = await api.credentials(camera)
        row = await api.pool.fetchrow("SELECT * FROM cameras WHERE id = $1", uuid.UUID(camera["id"]))
        _no_plaintext(row, issued["token"], issued["secret"])
        assert row["lpr_token_hash"] == hashlib.sha256(issued["token"].encode()).digest()
        assert row["lpr_secret"] is None and row["lpr_secret_sealed"].startswith("sealed:")
        assert (await api.intelbras(issued["token"])).status_code == 200
        assert (await api.intelbras(hashlib.sha256(issued["token"].encode()).hexdigest())).status_code == 401, \
            "the stored hash is not a token"
        assert (await api.generic(camera["id"], issued["secret"])).status_code == 202, "a signed push verifies"
        assert (await api.generic(camera["id"], "0" * 64)).status_code == 401
        assert await api.drain() == 2


async def test_the_allow_list_believes_forwarded_for_only_from_trusted_proxies(make_api: App) -> None:
    # The test client's peer is 127.0.0.1: a trusted proxy in the second app, an ordinary client in the first.
    async with make_api() as api:
        camera = await api.camera(await _city(api.pool))
        token = (await api.credentials(camera, allowed_sources=["10.1.2.0/24"]))["token"]
        forged = await api.intelbras(token, {"x-forwarded-for": "10.1.2.3"})
        assert forged.status_code == 403, "a header anyone can type does not pass the allow-list"
    async with make_api(trusted_proxies=("127.0.0.0/8",)) as api:
        assert (await api.intelbras(token, {"x-forwarded-for": "10.1.2.3"})).status_code == 200
        spoofed = await api.intelbras(token, {"x-forwarded-for": "10.1.2.3, 192.0.2.7"})
        assert spoofed.status_code == 403, "the right-most untrusted hop is the sender, not what it wrote before"
        assert (await api.intelbras(token)).status_code == 403, "the proxy itself is not in the allow-list"
        assert await api.drain() == 1


async def test_a_resent_push_with_the_same_vendor_event_id_is_one_read(make_api: App) -> None:
    async with make_api() as api:
        camera = await api.camera(await _city(api.pool))
        token = (await api.credentials(camera))["token"]
        for _ in range(2):
            assert (await api.intelbras(token, EventID="evt-42")).status_code == 200
        assert (await api.intelbras(token, EventID="evt-43")).status_code == 200
        intake = RedisIntake(REDIS_URL, prefix=api.prefix)
        taken = await intake.take(10, 0.1)
        outcome = await lpr_events.store_batch(api.pool, [read for _, read in taken])
        await intake.confirm([i for i, _ in taken])
        await intake.close()
        assert (len(outcome.stored), len(outcome.duplicates)) == (2, 1)


# --- defect 11: sealed camera passwords, the migration, rotation ------------------------------------------------


async def test_camera_passwords_are_sealed_and_the_camera_still_streams(make_api: App, pool: asyncpg.Pool,
                                                                        tmp_path: Path) -> None:
    camera_server = RtspTestCamera(free_port(), ["cam"], auth=("alice", "s3cret-P@ss"))
    camera_server.start()
    try:
        async with make_api() as api:
            city = await _city(pool)
            made = await api.camera(city, rtsp_url=camera_server.url("cam"), username="alice",
                                    password="s3cret-P@ss", enabled=True)
            assert made["has_password"] and "s3cret" not in json.dumps(made)
            renamed = await api.client.patch(f"/api/v1/cameras/{made['id']}", json={"name": "renamed"},
                                             headers=await api.bearer(Role.MANAGER, city))
            assert renamed.status_code == 200 and renamed.json()["has_password"]
            moved = await api.client.patch(f"/api/v1/cameras/{made['id']}", json={"rtsp_url": camera_server.url("cam")},
                                           headers=await api.bearer(Role.MANAGER, city))
            assert moved.status_code == 200, "an edit of the stream keeps the sealed password"
            row = await pool.fetchrow("SELECT * FROM cameras WHERE id = $1", uuid.UUID(made["id"]))
            _no_plaintext(row, "s3cret-P@ss")
            assert row["rtsp_password"] is None and row["rtsp_password_sealed"].startswith("sealed:")
            settings = api.settings
        enabled = [c for c in await cameras.list_enabled(pool) if str(c.id) == made["id"]]
        spec = enabled[0].spec(sealer_for(settings))  # what the Fleet sends the camera host
        host = CameraHost(Settings(**{**settings.__dict__, "spool_dir": str(tmp_path / "host-spool"),
                                      "chunk_max_s": 2.0}), slot=0)
        try:
            await host.add(spec)
            deadline = time.monotonic() + 30
            status: dict[str, Any] | None = None
            while time.monotonic() < deadline:
                status = await host.status(spec.camera_id)
                if status and status["state"] == "streaming":
                    break
                await asyncio.sleep(0.3)
            assert status and status["state"] == "streaming", status
        finally:
            await host.shutdown()
    finally:
        camera_server.stop()


@pytest.fixture
async def database_before_0009() -> AsyncIterator[asyncpg.Pool]:
    dsn = await create_database()
    pool = await create_pool(dsn, max_size=2)
    try:
        await migrate(pool, until=max(p.name for p in MIGRATIONS_DIR.glob("*.sql") if p.name < "0009"))
        yield pool
    finally:
        await pool.close()
        await drop_database(dsn)


async def test_the_migration_hashes_existing_tokens_and_the_start_seals_existing_secrets(
    database_before_0009: asyncpg.Pool,
) -> None:
    pool = database_before_0009
    city, camera = uuid.uuid4(), uuid.uuid4()
    await pool.execute("INSERT INTO tenants (id, name) VALUES ($1, 'Old Town')", city)
    await pool.execute(
        "INSERT INTO cameras (id, tenant_id, name, vendor, rtsp_url, rtsp_username, rtsp_password, lpr_token,"
        " lpr_secret) VALUES ($1, $2, 'gate', 'generic', 'rtsp://10.0.0.9/s', 'op', 'old-pass', 'old-token',"
        " 'old-secret')", camera, city)
    await migrate(pool)
    sealer = Sealer(b"n" * 32)
    report = await seal_at_rest(pool, sealer)
    assert (report.sealed, report.resealed, report.unopenable) == (1, 0, 0)
    assert await seal_at_rest(pool, sealer) == type(report)(0, 0, 0), "idempotent"
    row = await pool.fetchrow("SELECT * FROM cameras WHERE id = $1", camera)
    _no_plaintext(row, "old-pass", "old-token", "old-secret")
    sender = await lpr_events.camera_by_token_hash(pool, hashlib.sha256(b"old-token").digest())
    assert sender is not None and sender.id == camera, "an issued token keeps working after the upgrade"
    assert sealer.open(sender.lpr_secret_sealed or "", f"cameras.lpr_secret:{camera}") == "old-secret"
    kept = await cameras.get(pool, city, camera)
    assert kept is not None and kept.spec(sealer).url == "rtsp://op:old-pass@10.0.0.9/s"

    rotated = Sealer(b"r" * 32, [b"n" * 32])  # a new master secret, the old one kept in previous_secrets
    assert (await seal_at_rest(pool, rotated)).resealed == 1
    kept = await cameras.get(pool, city, camera)
    assert kept is not None and rotated.is_current(kept.sealed_password or "")
    assert kept.spec(Sealer(b"r" * 32)).url == "rtsp://op:old-pass@10.0.0.9/s", "the old key is no longer needed"
    assert (await seal_at_rest(pool, Sealer(b"z" * 32))).unopenable == 1, "a key it never had: left, counted"


# --- defect 11: what one city sees of others --------------------------------------------------------------------


async def test_plans_and_retention_passes_show_a_city_only_its_own(make_api: App, pool: asyncpg.Pool) -> None:
    city, other = await _city(pool), await _city(pool)
    secret_plan = await plans.create(pool, name=f"Other town premium {uuid.uuid4().hex[:6]}", retention_days=90,
                                     camera_quota=500, manager_quota=1, viewer_quota=5,
                                     storage_quota_bytes=None)
    await plans.assign(pool, other, secret_plan.id)
    pass_id = await pool.fetchval("INSERT INTO retention_passes (trigger, state, chunks, bytes)"
                                  " VALUES ('api', 'done', 30, 3000) RETURNING id")
    start = datetime.now(UTC) - timedelta(days=40)
    for tenant, chunks in ((city, 10), (other, 20)):
        await pool.execute(
            "INSERT INTO purge_report (pass_id, tenant_id, camera_id, local_day, chunks, bytes, first_start, last_end)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7, $7)", pass_id, tenant, uuid.uuid4(), start.date(), chunks,
            chunks * 100, start)
    async with make_api() as api:
        viewer, manager = await api.bearer(Role.VIEWER, city), await api.bearer(Role.MANAGER, city)
        seen = (await api.client.get("/api/v1/plans", headers=viewer)).json()
        own = await plans.of_tenant(pool, city)
        assert own is not None and [p["id"] for p in seen] == [str(own.id)]
        everything = (await api.client.get("/api/v1/plans", headers=await api.bearer(Role.ADMIN, None))).json()
        assert str(secret_plan.id) in {p["id"] for p in everything}

        assert (await api.client.get("/api/v1/retention/passes", headers=viewer)).status_code == 403
        mine = (await api.client.get("/api/v1/retention/passes", headers=manager)).json()
        line = next(p for p in mine if p["id"] == pass_id)
        assert (line["chunks"], line["bytes"], line["error"]) == (10, 1000, None), "its city's figures only"
        platform = (await api.client.get("/api/v1/retention/passes", headers=await api.bearer(Role.ADMIN, None))).json()
        assert next(p for p in platform if p["id"] == pass_id)["chunks"] == 30


async def test_a_username_taken_in_another_city_is_not_revealed_and_logins_name_the_city(
    make_api: App, pool: asyncpg.Pool
) -> None:
    city, other = await _city(pool), await _city(pool)
    name = f"ana-{uuid.uuid4().hex[:6]}"
    await users.create(pool, username=name, password_hash=hash_password("password-of-city-a"), role="viewer",
                       tenant_id=city)
    async with make_api() as api:
        made = await api.client.post("/api/v1/users", headers=await api.bearer(Role.MANAGER, other), json={
            "username": name, "password": "password-of-city-b", "role": "viewer"})
        assert made.status_code == 201, "another city's user of that name is not revealed by a 409"
        again = await api.client.post("/api/v1/users", headers=await api.bearer(Role.MANAGER, other), json={
            "username": name, "password": "password-of-city-b", "role": "viewer"})
        assert again.status_code == 409, "names stay unique within a city"

        async def login(password: str, tenant: uuid.UUID | None = None) -> int:
            body = {"username": name, "password": password, **({"tenant_id": str(tenant)} if tenant else {})}
            return (await api.client.post("/api/v1/auth/login", json=body)).status_code

        assert await login("password-of-city-a") == 401, "an ambiguous name needs the city"
        assert await login("password-of-city-a", city) == 200
        assert await login("password-of-city-b", other) == 200
        assert await login("password-of-city-b", city) == 401

        admin = f"root-{uuid.uuid4().hex[:6]}"
        await users.create(pool, username=admin, password_hash=hash_password("admin-password"), role="admin",
                           tenant_id=None)
        clash = await api.client.post("/api/v1/users", headers=await api.bearer(Role.MANAGER, city), json={
            "username": admin, "password": "password-of-city-a", "role": "viewer"})
        assert clash.status_code == 201
        platform = await api.client.post("/api/v1/auth/login", json={"username": admin, "password": "admin-password"})
        assert platform.status_code == 200, "a city user cannot lock a platform admin out"
