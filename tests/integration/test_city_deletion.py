"""Deleting a city after its grace period, on the real PostgreSQL and object stores (directory and S3).

A deleted city leaves no object and no row but its audit trail and its deletion report; nothing goes before the
grace period ends; a restore cancels; a city under a legal hold is not deleted; an interrupted deletion resumes;
another city's data is untouched.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from io import BytesIO
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from asyncpg import Range
from pypdf import PdfReader

from domain.city_deletion import report_keys
from domain.evidence import evidence_key
from domain.recording import chunk_object_key, thumbnail_object_key
from domain.settings import Settings
from serve.passwords import hash_password
from services.city_deletion import delete_due_cities
from services.evidence_check import verify_document
from services.purge_pass import retention_pass
from storage import cameras, holds, tenant_deletions, tenants, users
from storage.objects import ObjectStore, open_object_store_for
from tests.support.asgi_api import running_api
from tests.support.system import REDIS_URL, drop_redis_keys

PASSWORD = "a long password"
GRACE_S = 60.0


@dataclass
class City:
    id: uuid.UUID
    name: str
    camera: uuid.UUID
    manager: str  # username
    keys: list[str]


@dataclass
class World:
    api: httpx.AsyncClient
    admin: dict[str, str]
    settings: Settings
    store: ObjectStore
    pool: asyncpg.Pool

    async def login(self, username: str, tenant: uuid.UUID | None = None) -> int:
        body: dict[str, Any] = {"username": username, "password": PASSWORD}
        if tenant is not None:
            body["tenant_id"] = str(tenant)
        return (await self.api.post("/api/v1/auth/login", json=body)).status_code

    async def city(self) -> City:
        """A city with a camera, recent chunks (with a thumbnail), a clip and its manifest, a plate read and its
        image, a watchlist entry, a released hold and a manager."""
        tenant = await tenants.create(self.pool, f"Maricá deletion {uuid.uuid4().hex[:6]}")
        camera = uuid.uuid4()
        await self.pool.execute("INSERT INTO cameras (id, tenant_id, name, rtsp_url) VALUES ($1, $2, 'Orla', $3)",
                                camera, tenant.id, "rtsp://127.0.0.1:1/x")
        now = datetime.now(UTC).replace(microsecond=0)
        keys = []
        for i in range(5):
            start = now - timedelta(minutes=10 - i)
            key = chunk_object_key(tenant.id, camera, start)
            thumb = thumbnail_object_key(key) if i == 0 else None
            await self.pool.execute(
                "INSERT INTO recordings (tenant_id, camera_id, time_range, object_key, bytes, init_length, codec,"
                " width, height, fragments, thumbnail_key) VALUES ($1,$2,$3,$4,100,10,'h264',640,360,'[]',$5)",
                tenant.id, camera, Range(start, start + timedelta(minutes=1)), key, thumb)
            keys += [key] + ([thumb] if thumb else [])
        manager = await users.create(self.pool, username=f"manager-{uuid.uuid4().hex[:6]}",
                                     password_hash=hash_password(PASSWORD), role="manager", tenant_id=tenant.id)
        clip = uuid.uuid4()
        await self.pool.execute("INSERT INTO clips (id, tenant_id, camera_id, requested_by, start_at, end_at, state)"
                                " VALUES ($1, $2, $3, $4, $5, $6, 'done')", clip, tenant.id, camera, manager.id,
                                now - timedelta(minutes=10), now - timedelta(minutes=9))
        keys += [f"t/{tenant.id}/clips/{clip}.mp4", f"t/{tenant.id}/clips/{clip}.manifest.json",
                 f"t/{tenant.id}/lpr/2026/11/30/{uuid.uuid4()}/0.jpg"]
        await self.pool.execute("INSERT INTO lpr_events (id, tenant_id, camera_id, plate, captured_at, sender,"
                                " dedupe_key) VALUES ($1, $2, $3, 'ABC1D23', $4, 'generic', $5)",
                                uuid.uuid4(), tenant.id, camera, now, uuid.uuid4().hex)
        await self.pool.execute("INSERT INTO lpr_watchlist (id, tenant_id, pattern, reason, created_by)"
                                " VALUES ($1, $2, 'ABC*', 'furto', $3)", uuid.uuid4(), tenant.id, manager.id)
        (hold,) = await holds.create(self.pool, tenant_id=tenant.id, camera_ids=[camera], start=now - timedelta(hours=1),
                                     end=now, reason="x", case_number="BO 1", created_by=manager.id)
        await holds.release(self.pool, hold.id, manager.id, "arquivado")
        for key in keys:
            self.store.put(key, b"city data " + key.encode())
        return City(tenant.id, tenant.name, camera, manager.username, keys)


@pytest.fixture(params=["dir", "s3"])
async def world(request: pytest.FixtureRequest, database_url: str, pool: asyncpg.Pool,
                tmp_path: Path) -> AsyncIterator[World]:
    store_url = (tmp_path / "objects").as_uri() if request.param == "dir" else \
        request.getfixturevalue("s3_server").url(f"deletion-{uuid.uuid4().hex[:8]}")
    prefix = f"gtv-deletion-{uuid.uuid4().hex[:8]}:"
    settings = Settings(database_url=database_url, object_store_url=store_url, public_url="http://127.0.0.1:1",
                        secret=uuid.uuid4().hex, bus_url=f"{REDIS_URL}?prefix={prefix}", spool_dir=str(tmp_path / "spool"),
                        city_deletion_grace_days=GRACE_S / 86400)
    admin = await users.create(pool, username=f"admin-{uuid.uuid4().hex[:6]}", password_hash=hash_password(PASSWORD),
                               role="admin", tenant_id=None)
    try:
        async with running_api(settings) as api:
            token = (await api.post("/api/v1/auth/login", json={"username": admin.username, "password": PASSWORD}))
            assert token.status_code == 200, token.text
            yield World(api, {"authorization": f"Bearer {token.json()['access_token']}"}, settings,
                        open_object_store_for(settings), pool)
    finally:
        await drop_redis_keys(prefix)


def _objects(store: ObjectStore, tenant: uuid.UUID) -> set[str]:
    return {o.key for o in store.list_prefix(f"t/{tenant}/")}


async def _enabled(pool: asyncpg.Pool) -> set[uuid.UUID]:
    return {c.id for c in await cameras.list_enabled(pool)}


async def _actions(pool: asyncpg.Pool, tenant: uuid.UUID) -> list[str]:
    return [r["action"] for r in await pool.fetch(
        "SELECT action FROM audit_log WHERE tenant_id = $1 AND action LIKE 'tenant.%' ORDER BY id", tenant)]


async def test_a_city_is_deleted_after_its_grace_period_and_only_then_and_restore_cancels(world: World) -> None:
    doomed, other = await world.city(), await world.city()
    other_rows = await _rows_but_audit(world, other.id)
    key = evidence_key(world.settings)

    scheduled = await world.api.delete(f"/api/v1/tenants/{doomed.id}", headers=world.admin)
    assert scheduled.status_code == 202, scheduled.text
    due = datetime.fromisoformat(scheduled.json()["due_at"])
    assert timedelta(seconds=GRACE_S - 5) < due - datetime.now(UTC) <= timedelta(seconds=GRACE_S)
    again = await world.api.delete(f"/api/v1/tenants/{doomed.id}", headers=world.admin)
    assert again.status_code == 409 and "already scheduled" in again.json()["error"]["message"]
    assert await world.login(doomed.manager, doomed.id) == 401, "its users can no longer log in"
    assert await world.login(other.manager, other.id) == 200
    enabled = await _enabled(world.pool)
    assert doomed.camera not in enabled and other.camera in enabled, "its cameras stop recording"

    await retention_pass(world.pool, world.store, trigger="test", evidence_key=key)  # within the grace period
    assert _objects(world.store, doomed.id) == set(doomed.keys), "nothing is deleted before the grace period ends"
    assert (await tenant_deletions.rows_of_city(world.pool, doomed.id))["recordings"] == 5

    restored = await world.api.post(f"/api/v1/tenants/{doomed.id}/restore", headers=world.admin)
    assert restored.status_code == 200 and restored.json()["state"] == "cancelled", restored.text
    assert await world.login(doomed.manager, doomed.id) == 200 and doomed.camera in await _enabled(world.pool)
    assert (await world.api.post(f"/api/v1/tenants/{doomed.id}/restore", headers=world.admin)).status_code == 404
    await retention_pass(world.pool, world.store, trigger="test", now=datetime.now(UTC) + timedelta(seconds=GRACE_S * 2),
                         evidence_key=key)
    assert _objects(world.store, doomed.id) == set(doomed.keys), "a cancelled deletion never happens"

    assert (await world.api.delete(f"/api/v1/tenants/{doomed.id}", headers=world.admin)).status_code == 202
    later = datetime.now(UTC) + timedelta(seconds=GRACE_S + 1)
    # Interrupted after one small batch: the deletion has begun and resumes on the next pass.
    assert await delete_due_cities(world.pool, world.store, key, now=later, batch=3, max_batches=1) == []
    assert len(_objects(world.store, doomed.id)) == len(doomed.keys) - 3
    late = await world.api.post(f"/api/v1/tenants/{doomed.id}/restore", headers=world.admin)
    assert late.status_code == 409 and "can no longer be cancelled" in late.json()["error"]["message"]
    await retention_pass(world.pool, world.store, trigger="test", now=later, evidence_key=key)

    assert _objects(world.store, doomed.id) == set(), "no object of the city is left"
    left = await tenant_deletions.rows_of_city(world.pool, doomed.id)
    assert {t for t, n in left.items() if n} == {"audit_log", "tenant_deletions"}, left
    assert await world.pool.fetchval("SELECT count(*) FROM sessions s JOIN users u ON u.id = s.user_id"
                                     " WHERE u.tenant_id = $1", doomed.id) == 0
    assert await _actions(world.pool, doomed.id) == [
        "tenant.deletion_scheduled", "tenant.deletion_cancelled", "tenant.deletion_scheduled", "tenant.deleted"]

    status = await world.api.get(f"/api/v1/tenants/{doomed.id}/deletion", headers=world.admin)
    assert status.status_code == 200 and status.json()["state"] == "deleted", status.text
    report = status.json()["report"]
    assert report["objects"]["recordings"] == {"objects": 5, "bytes": sum(
        len(b"city data " + k.encode()) for k in doomed.keys if k.endswith(".mp4") and "/c/" in k)}
    assert report["objects"]["thumbnails"]["objects"] == 1 and report["objects"]["lpr_images"]["objects"] == 1
    assert report["objects"]["clips"]["objects"] == 1 and report["objects"]["clip_manifests"]["objects"] == 1
    assert report["rows"]["recordings"] == 5 and report["rows"]["lpr_events"] == 1 and report["rows"]["tenants"] == 1
    assert report["rows"]["legal_holds"] == 1 and report["rows"]["users"] == 1 and "audit_log" in report["kept"]
    json_key, pdf_key, manifest_key = report_keys(doomed.id, int(await world.pool.fetchval(
        "SELECT id FROM tenant_deletions WHERE tenant_id = $1 AND state = 'deleted'", doomed.id)))
    assert status.json()["report_key"] == json_key
    pdf = await world.api.get(f"/api/v1/tenants/{doomed.id}/deletion/report.pdf", headers=world.admin)
    manifest = await world.api.get(f"/api/v1/tenants/{doomed.id}/deletion/report.pdf.manifest", headers=world.admin)
    assert pdf.content == world.store.get(pdf_key) and manifest.content == world.store.get(manifest_key)
    tmp = Path(world.settings.spool_dir).parent
    (tmp / "deletion.pdf").write_bytes(pdf.content)
    (tmp / "deletion.json").write_bytes(manifest.content)
    (tmp / "key.pem").write_text(key.public.pem)
    assert verify_document(tmp / "deletion.pdf", tmp / "deletion.json", tmp / "key.pem").ok
    text = "".join(p.extract_text() for p in PdfReader(BytesIO(world.store.get(pdf_key))).pages)
    assert doomed.name in text and "Relatório de exclusão" in text

    assert _objects(world.store, other.id) == set(other.keys), "another city's objects are untouched"
    assert await _rows_but_audit(world, other.id) == other_rows, "and its rows (the trail grows with its actions)"
    assert await world.login(other.manager, other.id) == 200


async def _rows_but_audit(world: World, tenant_id: uuid.UUID) -> dict[str, int]:
    rows = await tenant_deletions.rows_of_city(world.pool, tenant_id)
    return {table: n for table, n in rows.items() if table != "audit_log"}


async def test_a_city_under_a_legal_hold_cannot_be_deleted(world: World) -> None:
    city = await world.city()
    now = datetime.now(UTC)
    await holds.create(world.pool, tenant_id=city.id, camera_ids=[city.camera], start=now - timedelta(hours=1), end=now,
                       reason="homicídio", case_number="IP 42/2026", created_by=uuid.uuid4())
    refused = await world.api.delete(f"/api/v1/tenants/{city.id}", headers=world.admin)
    assert refused.status_code == 409 and "legal hold" in refused.json()["error"]["message"], refused.text
    assert await world.login(city.manager, city.id) == 200 and city.camera in await _enabled(world.pool)
    assert (await world.api.get(f"/api/v1/tenants/{city.id}/deletion", headers=world.admin)).status_code == 404
    assert await _actions(world.pool, city.id) == []
    manager_token = (await world.api.post("/api/v1/auth/login", json={
        "username": city.manager, "password": PASSWORD, "tenant_id": str(city.id)})).json()["access_token"]
    as_manager = await world.api.delete(f"/api/v1/tenants/{city.id}",
                                        headers={"authorization": f"Bearer {manager_token}"})
    assert as_manager.status_code == 403
