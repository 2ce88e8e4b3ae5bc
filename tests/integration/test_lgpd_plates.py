"""LGPD for plates on real PostgreSQL, Redis and object stores (the API as a plain ASGI app, no Ray): a plate's
report and exports, its anonymization, the requests and their deadline, plate reads that expire in the retention
pass (held ones kept), and plate masking for viewers in search, CSV and the /events socket."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import uvicorn
from asyncpg import Range
from pypdf import PdfReader
from websockets.asyncio.client import connect

from domain.lpr.pseudonym import KEY_PURPOSE, pseudonym
from domain.lpr.queued_read import QueuedRead
from domain.lpr.reads import PlateRead
from domain.rbac import Role
from domain.settings import Settings
from serve.app import create_app
from services.lpr_write import write_batch
from services.purge_pass import retention_pass
from storage import lpr_events, plans, tenants, watchlists
from storage.bus import RedisBus
from storage.objects import ObjectStore, open_object_store_for
from storage.watchlist_cache import WatchlistCache
from tests.support.asgi_api import running_api
from tests.support.ports import free_port
from tests.support.sessions import access_headers, new_bearer
from tests.support.system import REDIS_URL, drop_redis_keys

JPEG = (Path(__file__).parents[1] / "fixtures" / "lpr" / "plate.jpg").read_bytes()
NOW = datetime.now(UTC).replace(microsecond=0)
PLATE = "ABC1D23"


@dataclass
class City:
    client: httpx.AsyncClient
    settings: Settings
    pool: asyncpg.Pool
    store: ObjectStore
    tenant: uuid.UUID
    cameras: list[uuid.UUID]
    manager: dict[str, str]
    viewer: dict[str, str]
    viewer_id: uuid.UUID
    prefix: str

    @property
    def key(self) -> bytes:
        return self.settings.key(KEY_PURPOSE)

    async def user(self, role: Role) -> tuple[uuid.UUID, dict[str, str]]:
        bearer = await new_bearer(self.pool, role, None if role == Role.ADMIN else self.tenant)
        return bearer.principal.user_id, access_headers(self.settings, bearer)

    async def reads(self, plate: str, ages: list[timedelta], camera: int = 0,
                    tenant: uuid.UUID | None = None) -> list[QueuedRead]:
        """Reads of ``plate`` captured ``ages`` ago, each with one image in the store, stored as the writer does."""
        queued = [QueuedRead.of(PlateRead(plate=plate, captured_at=NOW - age, confidence=90.0, images=(JPEG,)),
                                tenant_id=tenant or self.tenant, camera_id=self.cameras[camera], sender="generic",
                                received_at=NOW - age) for age in ages]
        for read in queued:
            for key in read.image_keys:
                await asyncio.to_thread(self.store.put, key, JPEG)
        outcome = await lpr_events.store_batch(self.pool, queued)
        assert len(outcome.stored) == len(queued)
        return queued

    async def audit(self, action: str) -> list[dict[str, Any]]:
        rows = await self.pool.fetch("SELECT user_id, detail FROM audit_log WHERE tenant_id = $1 AND action = $2"
                                     " ORDER BY id", self.tenant, action)
        return [{**r["detail"], "by": r["user_id"]} for r in rows]


@asynccontextmanager
async def _city(database_url: str, pool: asyncpg.Pool, store_url: str, tmp_path: Path) -> AsyncIterator[City]:
    prefix = f"gtv-lgpd-{uuid.uuid4().hex[:8]}:"
    settings = Settings(database_url=database_url, object_store_url=store_url, public_url="http://127.0.0.1:1",
                        secret="lgpd-test-secret", bus_url=f"{REDIS_URL}?prefix={prefix}",
                        spool_dir=str(tmp_path / "spool"), session_check_ttl_s=0.2)
    city = await tenants.create(pool, f"lgpd {uuid.uuid4().hex[:8]}")
    cameras = [uuid.uuid4(), uuid.uuid4()]
    await pool.executemany("INSERT INTO cameras (id, tenant_id, name, rtsp_url, enabled) VALUES ($1, $2, $3,"
                           " 'rtsp://127.0.0.1:9/x', false)",
                           [(c, city.id, f"Av. Paulista {n}") for n, c in enumerate(cameras)])
    store = await asyncio.to_thread(open_object_store_for, settings)
    manager = await new_bearer(pool, Role.MANAGER, city.id)
    viewer = await new_bearer(pool, Role.VIEWER, city.id)
    try:
        async with running_api(settings) as client:
            yield City(client, settings, pool, store, city.id, cameras, access_headers(settings, manager),
                       access_headers(settings, viewer), viewer.principal.user_id, prefix)
    finally:
        await drop_redis_keys(prefix)


@pytest.fixture
async def city(database_url: str, pool: asyncpg.Pool, tmp_path: Path) -> AsyncIterator[City]:
    async with _city(database_url, pool, (tmp_path / "objects").as_uri(), tmp_path) as made:
        yield made


def _ok(answer: httpx.Response, status: int = 200) -> Any:
    assert answer.status_code == status, answer.text
    return answer.json() if answer.headers.get("content-type", "").startswith("application/json") else answer


async def test_a_plates_report_lists_its_reads_and_who_searched_it_and_exports_as_csv_and_pdf(city: City) -> None:
    reads = await city.reads(PLATE, [timedelta(hours=h) for h in (1, 2, 3)], camera=1)
    await city.reads("XYZ9876", [timedelta(hours=1)])
    other = await tenants.create(city.pool, f"lgpd other {uuid.uuid4().hex[:8]}")
    await city.reads(PLATE, [timedelta(hours=1)], tenant=other.id)  # another city's read of the same plate
    _ok(await city.client.get("/api/v1/lpr/events", params={"plate": "abc-1d23"}, headers=city.viewer))
    _ok(await city.client.get("/api/v1/lpr/events", params={"plate": "ABC*"}, headers=city.manager))
    _ok(await city.client.get("/api/v1/lpr/events", params={"plate": "XYZ*"}, headers=city.manager))
    _ok(await city.client.get("/api/v1/lpr/events.csv", headers=city.manager, params={
        "plate": "A?C1D23", "start": (NOW - timedelta(days=1)).isoformat(), "end": NOW.isoformat()}))

    report = _ok(await city.client.get(f"/api/v1/lgpd/plates/{PLATE.lower()}", headers=city.manager))
    assert report["plate"] == PLATE
    assert sorted(r["id"] for r in report["reads"]) == sorted(str(r.id) for r in reads), "this city's reads only"
    first = report["reads"][0]
    assert first["camera_id"] == str(city.cameras[1]) and first["camera_name"] == "Av. Paulista 1"
    assert [image["key"] for image in first["images"]] == list(reads[0].image_keys) and first["images"][0]["url"]
    image = await city.client.get(first["images"][0]["url"].removeprefix("http://127.0.0.1:1"))
    assert image.status_code == 200 and image.content == JPEG, "the image link works"
    terms = sorted((lookup["action"], lookup["term"]) for lookup in report["lookups"])
    assert terms == [("lpr.export", "A?C1D23"), ("lpr.search", "ABC*"), ("lpr.search", "abc-1d23")]
    assert all(lookup["username"] for lookup in report["lookups"])
    [audited] = await city.audit("lgpd.plate_report")
    assert audited["plate_pseudonym"] == pseudonym(city.key, PLATE) and audited["reads"] == 3
    assert PLATE not in json.dumps(audited, default=str), "the audit names the subject by its pseudonym"

    exported = _ok(await city.client.get(f"/api/v1/lgpd/plates/{PLATE}", params={"format": "csv"},
                                         headers=city.manager))
    rows = list(csv.reader(io.StringIO(exported.text)))
    assert rows[0][:2] == ["plate", PLATE] and [r[0] for r in rows[2:]].count("read") == 3
    assert [r[0] for r in rows[2:]].count("search") == 2 and [r[0] for r in rows[2:]].count("export") == 1
    pdf = _ok(await city.client.get(f"/api/v1/lgpd/plates/{PLATE}", params={"format": "pdf"}, headers=city.manager))
    assert pdf.headers["content-type"] == "application/pdf"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "Relatório do titular" in text and PLATE in text and "Av. Paulista 1" in text
    as_json = await city.client.get(f"/api/v1/lgpd/plates/{PLATE}", params={"format": "json"}, headers=city.manager)
    assert as_json.status_code == 200, as_json.text
    assert "attachment" in as_json.headers["content-disposition"] and len(json.loads(as_json.content)["reads"]) == 3
    assert [e["format"] for e in await city.audit("lgpd.plate_export")] == ["csv", "pdf", "json"]


async def test_viewers_may_not_use_the_lgpd_routes_and_bad_plates_are_refused(city: City) -> None:
    refused = [
        await city.client.get(f"/api/v1/lgpd/plates/{PLATE}", headers=city.viewer),
        await city.client.get(f"/api/v1/lgpd/plates/{PLATE}", params={"format": "csv"}, headers=city.viewer),
        await city.client.post(f"/api/v1/lgpd/plates/{PLATE}/anonymize", json={"legal_basis": "x"},
                               headers=city.viewer),
        await city.client.post("/api/v1/lgpd/requests", json={"kind": "access", "plate": PLATE, "legal_basis": "x"},
                               headers=city.viewer),
        await city.client.get("/api/v1/lgpd/requests", headers=city.viewer),
    ]
    assert [answer.status_code for answer in refused] == [403] * 5
    assert await city.audit("lgpd.plate_report") == []
    bad = await city.client.get("/api/v1/lgpd/plates/%3DHYPERLINK(1)", headers=city.manager)
    assert bad.status_code == 422 and "licence plate" in bad.text
    anon = await city.client.get(f"/api/v1/lgpd/plates/{pseudonym(city.key, PLATE)}", headers=city.manager)
    assert anon.status_code == 422, "a pseudonym is not a plate"
    blank = await city.client.post(f"/api/v1/lgpd/plates/{PLATE}/anonymize", json={"legal_basis": "  "},
                                   headers=city.manager)
    assert blank.status_code == 422 and "legal_basis" in blank.text


async def test_anonymizing_a_plate_deletes_its_images_hides_it_from_search_and_keeps_the_counts(
    database_url: str, pool: asyncpg.Pool, object_store_url: str, tmp_path: Path
) -> None:
    async with _city(database_url, pool, object_store_url, tmp_path) as city:
        reads = await city.reads(PLATE, [timedelta(minutes=m) for m in (10, 20, 70)])
        kept = await city.reads("ABC1D24", [timedelta(minutes=15)])
        await watchlists.create(pool, city.tenant, PLATE, "stolen", uuid.uuid4())
        await watchlists.create(pool, city.tenant, "ABC*", "a fleet", uuid.uuid4())
        window = {"start": (NOW - timedelta(hours=3)).isoformat(), "end": (NOW + timedelta(hours=1)).isoformat()}
        before = _ok(await city.client.get("/api/v1/lpr/stats", params=window, headers=city.manager))
        opened = _ok(await city.client.post("/api/v1/lgpd/requests", headers=city.manager, json={
            "kind": "anonymize", "plate": PLATE, "legal_basis": "LGPD art. 18, IV", "request_reference": "P-1"}), 201)
        assert opened["plate"] == PLATE and opened["state"] == "open"

        done = _ok(await city.client.post(f"/api/v1/lgpd/plates/{PLATE}/anonymize", headers=city.manager, json={
            "legal_basis": "LGPD art. 18, IV", "request_reference": "P-1", "note": "pedido do titular",
            "request_id": opened["id"]}))
        anonymous = pseudonym(city.key, PLATE)
        assert done["plate_pseudonym"] == anonymous and done["reads"] == 3 and done["images"] == 3
        assert done["watch_entries"] == 1 and done["request"]["state"] == "completed"
        assert PLATE not in json.dumps(done)
        for read in reads:
            assert await asyncio.to_thread(city.store.stat, read.image_keys[0]) is None, "image deleted"
        assert await asyncio.to_thread(city.store.get, kept[0].image_keys[0]) == JPEG, "other plates untouched"
        rows = await pool.fetch("SELECT plate, image_keys, dedupe_key FROM lpr_events WHERE id = ANY($1::uuid[])",
                                [r.id for r in reads])
        assert len(rows) == 3 and {r["plate"] for r in rows} == {anonymous}
        assert all(r["image_keys"] == [] and PLATE not in r["dedupe_key"] for r in rows)

        for term in (PLATE, "ABC*", "A*", "*", "ANON*"):
            found = _ok(await city.client.get("/api/v1/lpr/events", params={"plate": term}, headers=city.manager))
            assert all(e["plate"] == "ABC1D24" for e in found["events"]), term
        after = _ok(await city.client.get("/api/v1/lpr/stats", params=window, headers=city.manager))
        assert after["total"] == before["total"] == 4 and after["per_hour"] == before["per_hour"]
        assert [e.pattern for e in await watchlists.list_for_tenant(pool, city.tenant)] == ["ABC*"]
        listed = _ok(await city.client.get("/api/v1/lgpd/requests", headers=city.manager))["requests"]
        assert listed[0]["plate"] is None and listed[0]["plate_pseudonym"] == anonymous
        [audited] = await city.audit("lgpd.plate_anonymized")
        assert audited["plate_pseudonym"] == anonymous and audited["request_id"] == opened["id"]
        lgpd_rows = await pool.fetch("SELECT detail::text FROM audit_log WHERE tenant_id = $1 AND action LIKE 'lgpd.%'",
                                     city.tenant)
        assert lgpd_rows and not any(PLATE in r["detail"] for r in lgpd_rows), "no clear plate in LGPD audit rows"

        later = await city.reads(PLATE, [timedelta(minutes=5)])  # the vehicle passes again
        again = _ok(await city.client.post(f"/api/v1/lgpd/plates/{PLATE}/anonymize", headers=city.manager,
                                           json={"legal_basis": "LGPD art. 18, IV"}))
        assert again["plate_pseudonym"] == anonymous and again["reads"] == 1, "the same plate, the same pseudonym"
        assert await pool.fetchval("SELECT plate FROM lpr_events WHERE id = $1", later[0].id) == anonymous
        counted = await pool.fetchval("SELECT count(*) FROM lpr_events WHERE tenant_id = $1 AND plate = $2",
                                      city.tenant, anonymous)
        assert counted == 4


async def test_requests_are_due_in_fifteen_days_flagged_overdue_and_completed_by_their_step(city: City) -> None:
    await city.reads(PLATE, [timedelta(hours=1)])
    old = _ok(await city.client.post("/api/v1/lgpd/requests", headers=city.manager, json={
        "kind": "access", "plate": PLATE, "legal_basis": "art. 18, II",
        "received_at": (NOW - timedelta(days=20)).isoformat()}), 201)
    assert datetime.fromisoformat(old["due_at"]) == NOW - timedelta(days=5) and old["overdue"]
    fresh = _ok(await city.client.post("/api/v1/lgpd/requests", headers=city.manager, json={
        "kind": "export", "plate": "abc 1d23", "legal_basis": "art. 18, V"}), 201)
    assert not fresh["overdue"] and fresh["plate"] == PLATE
    listed = _ok(await city.client.get("/api/v1/lgpd/requests", headers=city.manager))
    assert listed["overdue"] == 1 and {r["id"] for r in listed["requests"]} == {old["id"], fresh["id"]}

    wrong_step = await city.client.get(f"/api/v1/lgpd/plates/{PLATE}", params={"request_id": fresh["id"]},
                                       headers=city.manager)
    assert wrong_step.status_code == 409 and "does not complete" in wrong_step.text
    wrong_plate = await city.client.get("/api/v1/lgpd/plates/XYZ9876", params={"request_id": old["id"]},
                                        headers=city.manager)
    assert wrong_plate.status_code == 409 and "another plate" in wrong_plate.text
    made_up = await city.client.get(f"/api/v1/lgpd/plates/{PLATE}", params={"request_id": str(uuid.uuid4())},
                                    headers=city.manager)
    assert made_up.status_code == 404
    assert await city.audit("lgpd.plate_report") == [], "a refused step does nothing, audits nothing"

    report = _ok(await city.client.get(f"/api/v1/lgpd/plates/{PLATE}", params={"request_id": old["id"]},
                                       headers=city.manager))
    assert report["request"]["state"] == "completed" and not report["request"]["overdue"]
    _ok(await city.client.get(f"/api/v1/lgpd/plates/{PLATE}", params={"request_id": fresh["id"], "format": "csv"},
                              headers=city.manager))
    listed = _ok(await city.client.get("/api/v1/lgpd/requests", headers=city.manager))
    assert listed["overdue"] == 0 and {r["state"] for r in listed["requests"]} == {"completed"}
    assert _ok(await city.client.get("/api/v1/lgpd/requests", params={"open_only": "true"},
                                     headers=city.manager))["requests"] == []
    again = await city.client.get(f"/api/v1/lgpd/plates/{PLATE}", params={"request_id": old["id"]},
                                  headers=city.manager)
    assert again.status_code == 409 and "already completed" in again.text
    assert len(await city.audit("lgpd.request_opened")) == 2
    [report_row] = await city.audit("lgpd.plate_report")
    assert report_row["request_id"] == old["id"]
    future = await city.client.post("/api/v1/lgpd/requests", headers=city.manager, json={
        "kind": "access", "plate": PLATE, "legal_basis": "x", "received_at": (NOW + timedelta(days=1)).isoformat()})
    assert future.status_code == 422


async def test_the_retention_pass_anonymizes_plate_reads_past_the_plans_lpr_retention_but_not_held_ones(
    city: City
) -> None:
    plan = await plans.create(city.pool, name=f"lpr 7 {uuid.uuid4().hex[:6]}", retention_days=30, camera_quota=10,
                              manager_quota=5, viewer_quota=5, storage_quota_bytes=None, lpr_retention_days=7)
    assert await plans.assign(city.pool, city.tenant, plan.id)
    listed = _ok(await city.client.get(f"/api/v1/tenants/{city.tenant}/plan", headers=city.manager))
    assert listed["lpr_retention_days"] == 7 and listed["retention_days"] == 30
    [expired] = await city.reads(PLATE, [timedelta(days=10)], camera=0)
    [held] = await city.reads(PLATE, [timedelta(days=10, minutes=1)], camera=1)
    [recent] = await city.reads(PLATE, [timedelta(days=2)], camera=0)
    await city.pool.execute(
        "INSERT INTO legal_holds (id, tenant_id, camera_id, time_range, reason, case_number, created_by)"
        " VALUES ($1, $2, $3, $4, 'inquérito', 'IP-1', $5)", uuid.uuid4(), city.tenant, city.cameras[1],
        Range(NOW - timedelta(days=11), NOW - timedelta(days=9)), uuid.uuid4())
    for age_days in (10, 2):  # reads that could not be stored hold the plate too
        await city.pool.execute(
            "INSERT INTO lpr_dead_letters (tenant_id, read, error, first_seen) VALUES ($1, $2, 'bad', $3)",
            city.tenant, f'{{"plate": "{PLATE}"}}', NOW - timedelta(days=age_days))

    result = await retention_pass(city.pool, city.store, trigger="test", pseudonym_key=city.key)
    assert result.lpr_reads_anonymized >= 1 and result.lpr_reads_held >= 1
    plates = {r["id"]: r for r in await city.pool.fetch(
        "SELECT id, plate, image_keys FROM lpr_events WHERE tenant_id = $1", city.tenant)}
    assert plates[expired.id]["plate"] == pseudonym(city.key, PLATE) and plates[expired.id]["image_keys"] == []
    assert await asyncio.to_thread(city.store.stat, expired.image_keys[0]) is None
    assert plates[held.id]["plate"] == PLATE, "a legal hold keeps the read as it is"
    assert await asyncio.to_thread(city.store.get, held.image_keys[0]) == JPEG
    assert plates[recent.id]["plate"] == PLATE, "within the LPR retention"
    [audited] = await city.audit("retention.lpr_anonymized")
    assert (audited["reads"], audited["images"], audited["held_reads"]) == (1, 1, 1)
    assert audited["lpr_retention_days"] == 7 and audited["pass_id"] == result.pass_id
    assert audited["dead_letters_deleted"] == 1
    assert await city.pool.fetchval("SELECT count(*) FROM lpr_dead_letters WHERE tenant_id = $1", city.tenant) == 1

    await city.pool.execute("UPDATE legal_holds SET released_at = now() WHERE tenant_id = $1", city.tenant)
    await retention_pass(city.pool, city.store, trigger="test", pseudonym_key=city.key)
    assert await city.pool.fetchval("SELECT plate FROM lpr_events WHERE id = $1", held.id) == pseudonym(
        city.key, PLATE), "released: anonymized on the next pass"
    assert [a["reads"] for a in await city.audit("retention.lpr_anonymized")] == [1, 1]


@asynccontextmanager
async def _server(settings: Settings) -> AsyncIterator[str]:
    """The app on a real local port (sockets need one): its ws:// events URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning"))
    serving = asyncio.create_task(server.serve())
    try:
        for _ in range(200):
            if server.started:
                break
            await asyncio.sleep(0.05)
        assert server.started, "the API did not start"
        yield f"ws://127.0.0.1:{port}/api/v1/events"
    finally:
        server.should_exit = True
        await serving


async def test_viewers_see_masked_plates_in_search_csv_and_alerts_unless_granted_and_full_views_are_audited(
    city: City
) -> None:
    await city.reads(PLATE, [timedelta(hours=1)])
    _, admin = await city.user(Role.ADMIN)
    granted_id, granted = await city.user(Role.VIEWER)
    other_manager_id, _ = await city.user(Role.MANAGER)
    search = {"plate": "ABC*"}
    export = {"start": (NOW - timedelta(days=1)).isoformat(), "end": NOW.isoformat()}

    plain = _ok(await city.client.get("/api/v1/lpr/events", params=search, headers=city.viewer))
    assert [e["plate"] for e in plain["events"]] == [PLATE], "masking is off by default"
    patched = _ok(await city.client.patch(f"/api/v1/tenants/{city.tenant}", json={"plate_masking": True},
                                          headers=admin))
    assert patched["plate_masking"] is True
    assert _ok(await city.client.get(f"/api/v1/tenants/{city.tenant}", headers=city.viewer))["plate_masking"]
    assert len(await city.audit("tenant.plate_masking")) == 1

    masked = _ok(await city.client.get("/api/v1/lpr/events", params=search, headers=city.viewer))
    assert [e["plate"] for e in masked["events"]] == ["ABC1D**"] and masked["plates_masked"]
    masked_csv = _ok(await city.client.get("/api/v1/lpr/events.csv", params=export, headers=city.viewer)).text
    assert "ABC1D**" in masked_csv and PLATE not in masked_csv
    assert await city.audit("lpr.unmasked_view") == [], "masked views are not full views"

    full = _ok(await city.client.get("/api/v1/lpr/events", params=search, headers=city.manager))
    assert [e["plate"] for e in full["events"]] == [PLATE] and not full["plates_masked"]
    assert PLATE in _ok(await city.client.get("/api/v1/lpr/events.csv", params=export, headers=city.manager)).text
    assert [a["via"] for a in await city.audit("lpr.unmasked_view")] == ["lpr.search", "lpr.export"]

    assert (await city.client.post(f"/api/v1/users/{granted_id}/plate-view", headers=city.viewer)).status_code == 403
    to_manager = await city.client.post(f"/api/v1/users/{other_manager_id}/plate-view", headers=admin)
    assert to_manager.status_code == 422 and "always sees full plates" in to_manager.text
    grant = _ok(await city.client.post(f"/api/v1/users/{granted_id}/plate-view", headers=city.manager))
    assert grant["plate_full_view"] is True
    [granting] = await city.audit("user.plate_view_granted")
    assert granting["by"] == await _manager_id(city) and granting["user_id"] == str(granted_id)
    seen = _ok(await city.client.get("/api/v1/lpr/events", params=search, headers=granted))
    assert [e["plate"] for e in seen["events"]] == [PLATE]
    unmasked = await city.audit("lpr.unmasked_view")
    assert len(unmasked) == 3 and unmasked[-1]["by"] == granted_id and unmasked[-1]["role"] == "viewer"

    # Live alerts: each socket masks for its own user.
    await watchlists.create(city.pool, city.tenant, PLATE, "stolen", uuid.uuid4())
    async with _server(city.settings) as events, httpx.AsyncClient(
            base_url=events.replace("ws://", "http://").removesuffix("/api/v1/events")) as http:
        sockets: dict[str, Any] = {}
        for name, headers in (("viewer", city.viewer), ("granted", granted), ("manager", city.manager)):
            ticket = _ok(await http.post("/api/v1/events/ticket", headers=headers))["ticket"]
            sockets[name] = await connect(f"{events}?ticket={ticket}", open_timeout=10)
            assert json.loads(await asyncio.wait_for(sockets[name].recv(), 10))["type"] == "ready"
        try:
            read = QueuedRead.of(PlateRead(plate=PLATE, captured_at=NOW, confidence=90.0, images=()),
                                 tenant_id=city.tenant, camera_id=city.cameras[0], sender="generic", received_at=NOW)
            bus = RedisBus(REDIS_URL, prefix=city.prefix)
            try:
                _, alerts = await write_batch([read], city.pool, city.store, bus, WatchlistCache(city.pool))
            finally:
                await bus.close()
            assert alerts == 1
            shown = {name: await _alert(ws) for name, ws in sockets.items()}
        finally:
            for ws in sockets.values():
                await ws.close()
    assert shown["viewer"]["plate"] == "ABC1D**" and shown["viewer"]["pattern"] == "ABC1D**"
    assert shown["granted"]["plate"] == PLATE and shown["manager"]["plate"] == PLATE
    assert {shown[n]["event_id"] for n in shown} == {str(read.id)}

    _ok(await city.client.delete(f"/api/v1/users/{granted_id}/plate-view", headers=city.manager))
    again = _ok(await city.client.get("/api/v1/lpr/events", params=search, headers=granted))
    assert [e["plate"] for e in again["events"]] == ["ABC1D**", "ABC1D**"]
    assert len(await city.audit("user.plate_view_revoked")) == 1


async def _alert(ws: Any) -> dict[str, Any]:
    """The first LPR alert the socket delivers (after its ready message)."""
    for _ in range(10):
        message = json.loads(await asyncio.wait_for(ws.recv(), 10))
        event = message.get("event", message)
        if event.get("type") == "lpr.alert":
            return dict(event)
    raise AssertionError("no LPR alert on the socket")


async def _manager_id(city: City) -> uuid.UUID:
    me = _ok(await city.client.get("/api/v1/auth/me", headers=city.manager))
    return uuid.UUID(me["user_id"])
