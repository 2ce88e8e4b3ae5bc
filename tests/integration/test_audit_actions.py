"""Every action that matters writes exactly one audit row — right action, actor, city, camera and client address —
through the real app on PostgreSQL, Redis and a directory object store (no Ray). Then the trail's own API: its
filters and its CSV export.

The app trusts 127.0.0.0/8 as its reverse proxy and every request says ``X-Forwarded-For: 203.0.113.7``, so each
row's ``source`` must be that address: the forwarded client, not the proxy.
"""

from __future__ import annotations

import csv
import io
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import asyncpg
import httpx
import pytest

from actors.retention_actor import RetentionActor
from domain.audit_anchors import anchor_key
from domain.rbac import Principal, Role
from domain.settings import Settings
from domain.stream_url import parse_stream_url
from serve.passwords import hash_password
from serve.routes import audit as audit_routes
from storage import audit, cameras, clips, holds, plans, tenants, users
from storage.objects import open_object_store
from tests.support.asgi_api import running_api
from tests.support.sessions import access_headers, bearer_of
from tests.support.system import REDIS_URL, drop_redis_keys

pytestmark = pytest.mark.integration

PASSWORD = "a long password"
CLIENT = "203.0.113.7"


@dataclass
class World:
    api: httpx.AsyncClient
    pool: asyncpg.Pool
    settings: Settings
    objects: Path
    city: UUID
    admin: Principal
    manager: Principal
    mark_id: int = 0
    names: dict[str, str] = field(default_factory=dict)

    async def mark(self) -> None:
        """From here on, rows are the action's (what the case prepared before is not counted)."""
        self.mark_id = await self.pool.fetchval("SELECT coalesce(max(id), 0) FROM audit_log")

    async def headers(self, who: Principal) -> dict[str, str]:
        return {**access_headers(self.settings, await bearer_of(self.pool, who)), "x-forwarded-for": CLIENT}

    async def user(self, role: Role, tenant: UUID | None = None) -> Principal:
        name = f"{role.value}-{uuid.uuid4().hex[:10]}"
        created = await users.create(self.pool, username=name, password_hash=hash_password(PASSWORD), role=role.value,
                                     tenant_id=tenant if role != Role.ADMIN else None)
        self.names[str(created.id)] = name
        return created.principal

    async def camera(self) -> UUID:
        camera = await cameras.create(self.pool, tenant_id=self.city, name="Praça", vendor="generic",
                                      stream=parse_stream_url("rtsp://10.20.0.5/stream"))
        return camera.id

    async def clip(self, camera_id: UUID) -> tuple[UUID, str, datetime]:
        start = datetime(2031, 5, 1, 12, tzinfo=UTC)
        job = await clips.create(self.pool, self.city, camera_id, self.manager.user_id, start, start + timedelta(minutes=1))
        key = f"t/{self.city}/clips/{job.id}.mp4"
        open_object_store(self.objects.as_uri()).put(key, b"an mp4")
        await clips.finish(self.pool, job.id, object_key=key, size=6, sha256="ab" * 32, first_frame_at=start,
                           last_frame_at=start + timedelta(minutes=1))
        return job.id, key, start


@dataclass(frozen=True)
class Expect:
    answer: httpx.Response
    status: int
    action: str
    actor: UUID | None
    city: UUID | None
    camera: UUID | None = None


Case = Callable[[World], Awaitable[Expect]]


async def _login_ok(w: World) -> Expect:
    who = await w.user(Role.VIEWER, w.city)
    await w.mark()
    answer = await w.api.post("/api/v1/auth/login", json={"username": w.names[str(who.user_id)], "password": PASSWORD},
                              headers={"x-forwarded-for": CLIENT})
    return Expect(answer, 200, "user.login", who.user_id, w.city)


async def _login_wrong_password(w: World) -> Expect:
    who = await w.user(Role.VIEWER, w.city)
    await w.mark()
    answer = await w.api.post("/api/v1/auth/login", json={"username": w.names[str(who.user_id)],
                                                          "password": "not the password"},
                              headers={"x-forwarded-for": CLIENT})
    return Expect(answer, 401, "user.login_failed", who.user_id, w.city)


async def _login_unknown_user(w: World) -> Expect:
    await w.mark()
    answer = await w.api.post("/api/v1/auth/login", json={"username": "nobody-" + uuid.uuid4().hex[:8],
                                                          "password": "guess"}, headers={"x-forwarded-for": CLIENT})
    return Expect(answer, 401, "user.login_failed", None, None)


async def _logout(w: World) -> Expect:
    who = await w.user(Role.VIEWER, w.city)
    headers = await w.headers(who)
    await w.mark()
    return Expect(await w.api.post("/api/v1/auth/logout", headers=headers), 204, "user.logout", who.user_id, w.city)


async def _refresh_reused(w: World) -> Expect:
    who = await w.user(Role.VIEWER, w.city)
    pair = (await w.api.post("/api/v1/auth/login", json={"username": w.names[str(who.user_id)],
                                                         "password": PASSWORD})).json()
    assert (await w.api.post("/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]})).status_code == 200
    await w.mark()
    answer = await w.api.post("/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]},
                              headers={"x-forwarded-for": CLIENT})
    return Expect(answer, 401, "session.refresh_reused", who.user_id, w.city)


async def _password_changed(w: World) -> Expect:
    who = await w.user(Role.VIEWER, w.city)
    headers = await w.headers(who)
    await w.mark()
    answer = await w.api.post("/api/v1/auth/password", headers=headers,
                              json={"current_password": PASSWORD, "new_password": "another long password"})
    return Expect(answer, 200, "user.password_changed", who.user_id, w.city)


async def _user_created(w: World) -> Expect:
    await w.mark()
    answer = await w.api.post("/api/v1/users", headers=await w.headers(w.manager), json={
        "username": "new-" + uuid.uuid4().hex[:8], "password": PASSWORD, "role": "viewer"})
    return Expect(answer, 201, "user.created", w.manager.user_id, w.city)


def _user_admin(verb: str, action: str, status: int = 200) -> Case:
    async def case(w: World) -> Expect:
        target = await w.user(Role.VIEWER, w.city)
        headers = await w.headers(w.manager)
        await w.mark()
        path = f"/api/v1/users/{target.user_id}"
        if verb == "delete":
            answer = await w.api.delete(path, headers=headers)
        elif verb == "password":
            answer = await w.api.post(f"{path}/password", headers=headers, json={"password": "a reset password!"})
        else:
            answer = await w.api.post(f"{path}/{verb}", headers=headers)
        return Expect(answer, status, action, w.manager.user_id, w.city)
    return case


async def _role_changed(w: World) -> Expect:
    target = await w.user(Role.VIEWER, w.city)
    headers = await w.headers(w.admin)
    await w.mark()
    answer = await w.api.post(f"/api/v1/users/{target.user_id}/role", headers=headers, json={"role": "manager"})
    assert answer.status_code != 200 or answer.json()["role"] == "manager"
    return Expect(answer, 200, "user.role_changed", w.admin.user_id, w.city)


async def _camera_created(w: World) -> Expect:
    await w.mark()
    answer = await w.api.post("/api/v1/cameras", headers=await w.headers(w.manager), json={
        "name": "Rua Direita", "rtsp_url": "rtsp://operador:s3cr3t-pw@10.20.0.9:554/live"})
    camera = UUID(answer.json()["id"]) if answer.status_code == 201 else None
    return Expect(answer, 201, "camera.created", w.manager.user_id, w.city, camera)


async def _camera_updated(w: World) -> Expect:
    camera = await w.camera()
    headers = await w.headers(w.manager)
    await w.mark()
    answer = await w.api.patch(f"/api/v1/cameras/{camera}", headers=headers,
                               json={"name": "Praça nova", "username": "operador", "password": "n0v4-senha",
                                     "rtsp_url": "rtsp://10.20.0.6/s"})
    return Expect(answer, 200, "camera.updated", w.manager.user_id, w.city, camera)


async def _camera_deleted(w: World) -> Expect:
    camera = await w.camera()
    headers = await w.headers(w.manager)
    await w.mark()
    return Expect(await w.api.delete(f"/api/v1/cameras/{camera}", headers=headers), 204, "camera.deleted",
                  w.manager.user_id, w.city, camera)


async def _tenant_created(w: World) -> Expect:
    await w.mark()
    answer = await w.api.post("/api/v1/tenants", headers=await w.headers(w.admin),
                              json={"name": "Cidade " + uuid.uuid4().hex[:8]})
    city = UUID(answer.json()["id"]) if answer.status_code == 201 else None
    return Expect(answer, 201, "tenant.created", w.admin.user_id, city)


def _tenant_change(path: str, method: str, payload: dict[str, Any], action: str) -> Case:
    async def case(w: World) -> Expect:
        city = (await tenants.create(w.pool, "Cidade " + uuid.uuid4().hex[:8])).id
        headers = await w.headers(w.admin)
        await w.mark()
        answer = await w.api.request(method, f"/api/v1/tenants/{city}{path}", headers=headers, json=payload)
        return Expect(answer, 200, action, w.admin.user_id, city)
    return case


async def _hold_created(w: World) -> Expect:
    camera = await w.camera()
    headers = await w.headers(w.manager)
    await w.mark()
    answer = await w.api.post("/api/v1/holds", headers=headers, json={
        "camera_ids": [str(camera)], "start": "2031-05-01T00:00:00Z", "end": "2031-05-02T00:00:00Z",
        "reason": "assalto", "case_number": "BO-1"})
    return Expect(answer, 201, "hold.created", w.manager.user_id, w.city, camera)


async def _hold_released(w: World) -> Expect:
    camera = await w.camera()
    start = datetime(2031, 5, 1, tzinfo=UTC)
    [hold] = await holds.create(w.pool, tenant_id=w.city, camera_ids=[camera], start=start,
                                end=start + timedelta(hours=1), reason="r", case_number="BO-2",
                                created_by=w.manager.user_id)
    headers = await w.headers(w.manager)
    await w.mark()
    answer = await w.api.post(f"/api/v1/holds/{hold.id}/release", headers=headers, json={"reason": "arquivado"})
    return Expect(answer, 200, "hold.released", w.manager.user_id, w.city, camera)


async def _watchlist_added(w: World) -> Expect:
    await w.mark()
    answer = await w.api.post("/api/v1/lpr/watchlist", headers=await w.headers(w.manager),
                              json={"plate": "ABC1D23", "reason": "furto"})
    return Expect(answer, 201, "lpr.watchlist.added", w.manager.user_id, w.city)


async def _clip_downloaded(w: World) -> Expect:
    camera = await w.camera()
    clip_id, _, _ = await w.clip(camera)
    headers = await w.headers(w.manager)
    await w.mark()
    answer = await w.api.get(f"/api/v1/clips/{clip_id}/download", headers=headers)
    return Expect(answer, 200, "clip.downloaded", w.manager.user_id, w.city, camera)


async def _clip_deleted(w: World) -> Expect:
    camera = await w.camera()
    clip_id, key, _ = await w.clip(camera)
    headers = await w.headers(w.manager)
    await w.mark()
    answer = await w.api.delete(f"/api/v1/clips/{clip_id}", headers=headers)
    assert not (w.objects / key).exists(), "the clip's file is gone"
    assert await w.pool.fetchval("SELECT count(*) FROM clips WHERE id = $1", clip_id) == 0
    assert await w.pool.fetchval("SELECT count(*) FROM purge_queue WHERE object_key = $1", key) == 0
    return Expect(answer, 204, "clip.deleted", w.manager.user_id, w.city, camera)


async def _watchlist_removed(w: World) -> Expect:
    headers = await w.headers(w.manager)
    entry = (await w.api.post("/api/v1/lpr/watchlist", headers=headers, json={"plate": "XYZ9K87", "reason": "r"})).json()
    await w.mark()
    answer = await w.api.delete(f"/api/v1/lpr/watchlist/{entry['id']}", headers=headers)
    return Expect(answer, 204, "lpr.watchlist.removed", w.manager.user_id, w.city)


def _city_deletion(path: str, method: str, status: int, action: str) -> Case:
    async def case(w: World) -> Expect:
        city = (await tenants.create(w.pool, "Cidade " + uuid.uuid4().hex[:8])).id
        headers = await w.headers(w.admin)
        if path:  # a cancellation needs a scheduled deletion
            assert (await w.api.delete(f"/api/v1/tenants/{city}", headers=headers)).status_code == 202
        await w.mark()
        answer = await w.api.request(method, f"/api/v1/tenants/{city}{path}", headers=headers)
        return Expect(answer, status, action, w.admin.user_id, city)
    return case


def _plate_view(method: str, action: str) -> Case:
    async def case(w: World) -> Expect:
        target = await w.user(Role.VIEWER, w.city)
        headers = await w.headers(w.manager)
        await w.mark()
        answer = await w.api.request(method, f"/api/v1/users/{target.user_id}/plate-view", headers=headers)
        return Expect(answer, 200, action, w.manager.user_id, w.city)
    return case


def _lgpd(method: str, path: str, payload: dict[str, Any] | None, status: int, action: str) -> Case:
    async def case(w: World) -> Expect:
        headers = await w.headers(w.manager)
        await w.mark()
        answer = await w.api.request(method, f"/api/v1/lgpd{path}", headers=headers, json=payload)
        return Expect(answer, status, action, w.manager.user_id, w.city)
    return case


ACTIONS: list[tuple[str, Case]] = [
    ("login", _login_ok),
    ("login with a wrong password", _login_wrong_password),
    ("login with an unknown username", _login_unknown_user),
    ("logout", _logout),
    ("refresh token reused", _refresh_reused),
    ("own password changed", _password_changed),
    ("user created", _user_created),
    ("user disabled", _user_admin("disable", "user.disabled")),
    ("user enabled", _user_admin("enable", "user.enabled")),
    ("user deleted", _user_admin("delete", "user.deleted", 204)),
    ("password reset", _user_admin("password", "user.password_reset", 204)),
    ("role changed", _role_changed),
    ("camera created", _camera_created),
    ("camera updated", _camera_updated),
    ("camera deleted", _camera_deleted),
    ("city created", _tenant_created),
    ("city renamed", _tenant_change("", "PATCH", {"name": "Nova Cidade"}, "tenant.renamed")),
    ("city camera networks", _tenant_change("", "PATCH", {"camera_networks": ["10.20.0.0/16"]},
                                            "tenant.camera_networks")),
    ("city time zone", _tenant_change("/time-zone", "PUT", {"time_zone": "America/Manaus"}, "tenant.time_zone")),
    ("city plan", _tenant_change("/plan", "PUT", {"plan_id": "00000000-0000-4000-8000-000000000030"},
                                 "plan.assigned")),
    ("hold created", _hold_created),
    ("hold released", _hold_released),
    ("watchlist entry added", _watchlist_added),
    ("clip downloaded", _clip_downloaded),
    ("clip deleted", _clip_deleted),
    ("watchlist entry removed", _watchlist_removed),
    ("city deletion scheduled", _city_deletion("", "DELETE", 202, "tenant.deletion_scheduled")),
    ("city deletion cancelled", _city_deletion("/restore", "POST", 200, "tenant.deletion_cancelled")),
    ("city plate masking", _tenant_change("", "PATCH", {"plate_masking": True}, "tenant.plate_masking")),
    ("plate full view granted", _plate_view("POST", "user.plate_view_granted")),
    ("plate full view revoked", _plate_view("DELETE", "user.plate_view_revoked")),
    ("LGPD request opened", _lgpd("POST", "/requests", {"kind": "access", "plate": "ABC1D23",
                                                        "legal_basis": "LGPD art. 18, II"}, 201,
                                  "lgpd.request_opened")),
    ("LGPD plate report", _lgpd("GET", "/plates/ABC1D23", None, 200, "lgpd.plate_report")),
    ("LGPD plate export", _lgpd("GET", "/plates/ABC1D23?format=csv", None, 200, "lgpd.plate_export")),
    ("LGPD plate anonymized", _lgpd("POST", "/plates/QWE4R56/anonymize", {"legal_basis": "LGPD art. 18, IV"}, 200,
                                    "lgpd.plate_anonymized")),
]


@pytest.fixture
async def world(database_url: str, pool: asyncpg.Pool, tmp_path: Path) -> AsyncIterator[World]:
    prefix = f"gtv-audit-{uuid.uuid4().hex[:8]}:"
    objects = tmp_path / "objects"
    settings = Settings(database_url=database_url, object_store_url=objects.as_uri(), public_url="http://127.0.0.1:1",
                        secret="audit-actions-test-secret", bus_url=f"{REDIS_URL}?prefix={prefix}",
                        spool_dir=str(tmp_path / "spool"), trusted_proxies=("127.0.0.0/8",),
                        camera_networks=("10.0.0.0/8",))
    city = (await tenants.create(pool, "Auditada " + uuid.uuid4().hex[:8])).id
    roomy = await plans.create(pool, name="roomy " + uuid.uuid4().hex[:6], retention_days=30, camera_quota=1000,
                               manager_quota=1000, viewer_quota=1000, storage_quota_bytes=None)
    await plans.assign(pool, city, roomy.id)
    try:
        async with running_api(settings) as api:
            w = World(api, pool, settings, objects, city, Principal(uuid.uuid4(), Role.ADMIN, None),
                      Principal(uuid.uuid4(), Role.MANAGER, city))
            w.admin = await w.user(Role.ADMIN)
            w.manager = await w.user(Role.MANAGER, city)
            yield w
    finally:
        await drop_redis_keys(prefix)


@pytest.mark.parametrize("case", [case for _, case in ACTIONS], ids=[name for name, _ in ACTIONS])
async def test_each_action_writes_exactly_one_audit_row(world: World, case: Case) -> None:
    expect = await case(world)
    assert expect.answer.status_code == expect.status, expect.answer.text
    rows = await world.pool.fetch("SELECT * FROM audit_log WHERE id > $1 ORDER BY id", world.mark_id)
    assert [r["action"] for r in rows] == [expect.action]
    [row] = rows
    assert (row["user_id"], row["tenant_id"], row["camera_id"]) == (expect.actor, expect.city, expect.camera)
    assert row["source"] == CLIENT, "the client a trusted proxy forwarded for, not the proxy"
    text = json.dumps(row["detail"])
    for secret in (PASSWORD, "not the password", "guess", "s3cr3t-pw", "n0v4-senha", "another long password",
                   "a reset password!"):
        assert secret not in text, f"{secret!r} in the audit row"


async def test_a_failed_login_names_the_username_tried(world: World) -> None:
    name = "ghost-" + uuid.uuid4().hex[:8]
    await world.mark()
    answer = await world.api.post("/api/v1/auth/login", json={"username": name, "password": "hunter2-long"})
    assert answer.status_code == 401
    detail = await world.pool.fetchval("SELECT detail FROM audit_log WHERE id > $1 AND action = 'user.login_failed'",
                                       world.mark_id)
    assert detail == {"username": name, "reason": "unknown username"}


async def test_camera_rows_say_what_changed_without_credentials(world: World) -> None:
    expect = await _camera_updated(world)
    detail = await world.pool.fetchval("SELECT detail FROM audit_log WHERE id > $1", world.mark_id)
    assert detail["changes"]["name"] == {"from": "Praça", "to": "Praça nova"}
    assert detail["changes"]["rtsp_url"] == {"from": "rtsp://10.20.0.5/stream", "to": "rtsp://10.20.0.6/s"}
    assert detail["changes"]["credentials"] == "changed" and expect.answer.status_code == 200


async def test_a_clip_under_a_legal_hold_is_not_deleted(world: World) -> None:
    camera = await world.camera()
    clip_id, key, start = await world.clip(camera)
    await holds.create(world.pool, tenant_id=world.city, camera_ids=[camera], start=start - timedelta(hours=1),
                       end=start + timedelta(seconds=30), reason="r", case_number="BO-9",
                       created_by=world.manager.user_id)
    viewer = await world.user(Role.VIEWER, world.city)
    await world.mark()
    refused = await world.api.delete(f"/api/v1/clips/{clip_id}", headers=await world.headers(viewer))
    assert refused.status_code == 403, "viewers may not delete clips"
    held = await world.api.delete(f"/api/v1/clips/{clip_id}", headers=await world.headers(world.manager))
    assert held.status_code == 409 and "BO-9" in held.json()["error"]["message"]
    assert (world.objects / key).exists()
    assert await world.pool.fetchval("SELECT count(*) FROM audit_log WHERE id > $1", world.mark_id) == 0


async def test_the_trail_filters_by_actor_action_camera_and_range_and_pages_by_id(world: World) -> None:
    city = (await tenants.create(world.pool, "Filtrada " + uuid.uuid4().hex[:8])).id
    alice, bob, camera = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    written = [(alice, "lpr.search", camera), (alice, "lpr.watchlist.added", None), (bob, "lpr.search", None),
               (bob, "live.view", camera), (alice, "user.login", None)]
    for actor, action, cam in written:
        await audit.record(world.pool, actor, action, tenant_id=city, camera_id=cam, source="198.51.100.1")
    manager = await world.user(Role.MANAGER, city)
    headers = await world.headers(manager)
    day = {"start": (datetime.now(UTC) - timedelta(hours=1)).isoformat(),
           "end": (datetime.now(UTC) + timedelta(hours=1)).isoformat()}

    async def actions(**params: Any) -> list[str]:
        answer = await world.api.get("/api/v1/audit", headers=headers, params={**day, **params})
        assert answer.status_code == 200, answer.text
        return [e["action"] for e in answer.json() if e["user_id"] != str(manager.user_id)]

    assert await actions(user_id=str(alice)) == ["user.login", "lpr.watchlist.added", "lpr.search"]
    assert await actions(action="lpr.search") == ["lpr.search", "lpr.search"], "exact"
    assert await actions(action="lpr.") == ["lpr.search", "lpr.watchlist.added", "lpr.search"], "a prefix"
    assert await actions(action="lpr") == [], "no dot: exact, and no action is just 'lpr'"
    assert await actions(camera_id=str(camera)) == ["live.view", "lpr.search"]
    assert await actions(user_id=str(bob), action="lpr.", camera_id=str(camera)) == []
    past = {"start": "2020-01-01T00:00:00Z", "end": "2020-01-02T00:00:00Z"}
    assert (await world.api.get("/api/v1/audit", headers=headers, params=past)).json() == []

    first = await world.api.get("/api/v1/audit", headers=headers, params={**day, "limit": 2, "action": "lpr."})
    entries = first.json()
    assert len(entries) == 2 and entries[0]["source"] == "198.51.100.1" and len(entries[0]["row_hash"]) == 64
    stored = await world.pool.fetchval("SELECT row_hash FROM audit_log WHERE id = $1", entries[0]["id"])
    assert bytes.fromhex(entries[0]["row_hash"]) == stored
    rest = await world.api.get("/api/v1/audit", headers=headers, params={
        **day, "limit": 2, "action": "lpr.", "before_id": first.headers["x-next-before-id"]})
    assert [e["action"] for e in rest.json()] == ["lpr.search"] and "x-next-before-id" not in rest.headers

    viewer = await world.user(Role.VIEWER, city)
    assert (await world.api.get("/api/v1/audit", headers=await world.headers(viewer), params=day)).status_code == 403
    other = await world.api.get("/api/v1/audit", headers=await world.headers(world.manager),
                                params={**day, "tenant_id": str(city)})
    assert other.status_code == 404, "another city's trail is not found"


async def test_the_trail_exports_as_csv_with_each_rows_hash(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(audit_routes, "_CSV_PAGE", 2)  # five rows come in three pages
    city = (await tenants.create(world.pool, "Exportada " + uuid.uuid4().hex[:8])).id
    actor = uuid.uuid4()
    hashes = [await audit.record(world.pool, actor, "hold.created", tenant_id=city,
                                 detail={"case_number": f"BO-{i}", "nome": "São Paulo, \"centro\""})
              for i in range(5)]
    headers = await world.headers(world.admin)
    day = {"start": (datetime.now(UTC) - timedelta(hours=1)).isoformat(),
           "end": (datetime.now(UTC) + timedelta(hours=1)).isoformat(), "tenant_id": str(city)}
    answer = await world.api.get("/api/v1/audit", headers=headers, params={**day, "format": "csv",
                                                                          "user_id": str(actor)})
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
    assert "attachment" in answer.headers["content-disposition"]
    table = list(csv.DictReader(io.StringIO(answer.text)))
    assert [row["row_hash"] for row in table] == hashes[::-1], "newest first, each with its chain hash"
    assert all(row["action"] == "hold.created" and row["user_id"] == str(actor) for row in table)
    assert json.loads(table[0]["detail"]) == {"case_number": "BO-4", "nome": "São Paulo, \"centro\""}
    bounded = await world.api.get("/api/v1/audit", headers=headers, params={**day, "format": "csv", "limit": 3})
    assert len(list(csv.DictReader(io.StringIO(bounded.text)))) == 3


class _PassesOnDemand(RetentionActor):
    """The retention actor in-process, without its schedule: passes run when the test says."""

    async def _schedule(self) -> None:
        return


async def test_a_retention_pass_anchors_the_chain_once_a_day_and_its_report_shows_the_anchor(world: World) -> None:
    await audit.record(world.pool, world.admin.user_id, "tenant.created", tenant_id=world.city)
    actor = _PassesOnDemand(world.settings)
    try:
        first = await actor.run_now("test")
        anchor = first["audit_anchor"]
        assert anchor is not None and anchor["day"] == datetime.now(UTC).date().isoformat()
        head = await world.pool.fetchrow("SELECT last_id, row_hash FROM audit_chain_head")
        assert (anchor["last_id"], anchor["row_hash"]) == (head["last_id"], head["row_hash"].hex())
        stored = json.loads((world.objects / anchor_key(datetime.now(UTC).date())).read_bytes())
        assert stored == anchor
        await audit.record(world.pool, None, "user.login", tenant_id=None)
        again = await actor.run_now("test")
        assert again["audit_anchor"] == anchor, "one anchor a day: a later pass keeps it"
    finally:
        await actor.stop()
    report = await world.api.get(f"/api/v1/retention/passes/{first['pass_id']}/report.json",
                                 headers=await world.headers(world.admin))
    assert report.status_code == 200, report.text
    assert report.json()["audit_anchor"] == anchor


async def test_only_admins_change_roles_and_the_users_sessions_end(world: World) -> None:
    target = await world.user(Role.VIEWER, world.city)
    their_headers = await world.headers(target)
    path = f"/api/v1/users/{target.user_id}/role"
    refused = await world.api.post(path, headers=await world.headers(world.manager), json={"role": "manager"})
    assert refused.status_code == 403 and "only platform admins" in refused.json()["error"]["message"]
    admin = await world.headers(world.admin)
    assert (await world.api.post(path, headers=admin, json={"role": "viewer"})).status_code == 409, "already one"
    assert (await world.api.post(path, headers=admin, json={"role": "manager"})).status_code == 200
    assert (await world.api.get("/api/v1/auth/me", headers=their_headers)).status_code == 401, "old-role token dead"
