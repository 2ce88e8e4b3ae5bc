"""The API app (plain ASGI, no Ray) on real PostgreSQL: the LPR CSV export is bounded, paged and formula-safe, and
camera URLs may only point where the deployment's or the city's camera networks allow."""

from __future__ import annotations

import asyncio
import csv
import io
import socket
import threading
import time
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
from fastapi import FastAPI

import serve.app
import serve.routes.lpr
from domain.camera_targets import REFUSED
from domain.rbac import Role
from domain.settings import Settings
from media.sources import SourceError, coarse_detail, open_source
from serve.app import create_app
from storage import tenants
from tests.support.sessions import access_headers, new_bearer
from tests.support.system import REDIS_URL, drop_redis_keys

AT = datetime(2026, 11, 20, 12, tzinfo=UTC)


@dataclass
class Api:
    app: FastAPI
    client: httpx.AsyncClient
    settings: Settings
    tenant_id: uuid.UUID
    camera_id: uuid.UUID
    pool: asyncpg.Pool

    async def bearer(self, role: Role, tenant_id: uuid.UUID | None = None) -> dict[str, str]:
        """The headers of a new user of that role (of this city unless told) with a live session."""
        city = None if role == Role.ADMIN else (tenant_id or self.tenant_id)
        return access_headers(self.settings, await new_bearer(self.pool, role, city))


@asynccontextmanager
async def _api(database_url: str, pool: asyncpg.Pool, tmp_path: Path, **settings: Any) -> AsyncIterator[Api]:
    prefix = f"gtv-footage-{uuid.uuid4().hex[:8]}:"
    config = Settings(database_url=database_url, object_store_url=(tmp_path / "objects").as_uri(),
                      public_url="http://127.0.0.1:1", secret=uuid.uuid4().hex, spool_dir=str(tmp_path / "spool"),
                      bus_url=f"{REDIS_URL}?prefix={prefix}", **settings)
    city = await tenants.create(pool, f"footage {uuid.uuid4().hex[:6]}")
    camera_id = uuid.uuid4()
    await pool.execute("INSERT INTO cameras (id, tenant_id, name, rtsp_url, enabled) VALUES ($1, $2, $3, $4, false)",
                       camera_id, city.id, f"lpr {camera_id.hex[:6]}", "test://pattern")
    app = create_app(config)
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1/api/v1") as client:
        yield Api(app, client, config, city.id, camera_id, pool)
    await drop_redis_keys(prefix)


async def _reads(pool: asyncpg.Pool, api: Api, plates: list[str]) -> None:
    await pool.executemany(
        "INSERT INTO lpr_events (id, tenant_id, camera_id, plate, captured_at, sender, vehicle_color, dedupe_key)"
        " VALUES ($1, $2, $3, $4, $5, 'generic', $6, $7)",
        [(uuid.uuid4(), api.tenant_id, api.camera_id, plate, AT - timedelta(seconds=n), color, uuid.uuid4().hex)
         for n, (plate, color) in enumerate((p, f"=cmd|' /C calc'!A{n}") for n, p in enumerate(plates))])


DAY = {"start": (AT - timedelta(days=1)).isoformat(), "end": (AT + timedelta(hours=1)).isoformat()}


async def test_the_export_neutralizes_formulas_and_refuses_what_is_too_big(
        database_url: str, pool: asyncpg.Pool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    async with _api(database_url, pool, tmp_path) as api:
        await _reads(pool, api, ["=1+2", "@SUM", "ABC1234", "-DEF1", "+GHI2"])
        viewer = await api.bearer(Role.VIEWER)
        answer = await api.client.get("/lpr/events.csv", headers=viewer, params=DAY)
        assert answer.status_code == 200, answer.text
        rows = list(csv.DictReader(io.StringIO(answer.text, newline="")))
        assert [r["plate"] for r in rows] == ["'=1+2", "'@SUM", "ABC1234", "'-DEF1", "'+GHI2"]
        assert all(r["vehicle_color"].startswith("'=cmd|") for r in rows)

        def refused(params: dict[str, str], status: int = 422) -> str:
            assert response.status_code == status, (params, response.status_code, response.text)
            return str(response.json()["error"]["message"])

        response = await api.client.get("/lpr/events.csv", headers=viewer, params={
            "start": "2026-09-01T00:00:00Z", "end": "2026-11-01T00:00:00Z"})
        assert "maximum of 31 days" in refused({})
        response = await api.client.get("/lpr/events.csv", headers=viewer)
        assert response.status_code == 422, "a range is required"
        monkeypatch.setattr(serve.routes.lpr, "MAX_EXPORT_ROWS", 4)
        response = await api.client.get("/lpr/events.csv", headers=viewer, params=DAY)
        assert "more than 4 reads" in refused({})
        exact = await api.client.get("/lpr/events.csv", headers=viewer, params={**DAY, "plate": "ABC1234"})
        assert exact.status_code == 200 and len(list(csv.DictReader(io.StringIO(exact.text)))) == 1


async def test_a_paused_download_holds_no_database_connection(
        database_url: str, pool: asyncpg.Pool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real_create_pool = serve.app.create_pool

    async def one_connection(dsn: str, **_: Any) -> asyncpg.Pool:
        return await real_create_pool(dsn, min_size=1, max_size=1)

    monkeypatch.setattr(serve.app, "create_pool", one_connection)
    monkeypatch.setattr(serve.routes.lpr, "EXPORT_PAGE_ROWS", 2)
    async with _api(database_url, pool, tmp_path) as api:
        await _reads(pool, api, [f"SLO{n:04d}" for n in range(7)])
        viewer = await api.bearer(Role.VIEWER)
        bodies: list[bytes] = []
        paused, resume, gone = asyncio.Event(), asyncio.Event(), asyncio.Event()

        async def receive() -> dict[str, Any]:
            await gone.wait()
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.body":
                bodies.append(message.get("body", b""))
                if len(bodies) == 2:  # the header line and the first page: the client stops reading
                    paused.set()
                    await resume.wait()

        query = "&".join(f"{k}={v.replace('+', '%2B')}" for k, v in DAY.items()).encode()
        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
                 "scheme": "http", "server": ("127.0.0.1", 80), "client": ("127.0.0.1", 5000), "root_path": "",
                 "path": "/api/v1/lpr/events.csv", "raw_path": b"/api/v1/lpr/events.csv", "query_string": query,
                 "headers": [(k.encode(), v.encode()) for k, v in viewer.items()]}
        download = asyncio.create_task(api.app(scope, receive, send))
        await asyncio.wait_for(paused.wait(), 10)
        other = await asyncio.wait_for(api.client.get("/lpr/events", headers=viewer, params=DAY), 5)
        assert other.status_code == 200 and len(other.json()["events"]) == 7, "the pool's one connection is free"
        resume.set()
        await asyncio.wait_for(download, 10)
        gone.set()
        lines = b"".join(bodies).decode().splitlines()
        assert [line.split(",")[2] for line in lines[1:]] == [f"SLO{n:04d}" for n in range(7)], "every read, once"


CREATE: list[tuple[str, dict[str, Any]]] = [
    ("loopback", {"rtsp_url": "rtsp://127.0.0.1:8554/cam"}),
    ("loopback by name", {"rtsp_url": "rtsp://localhost:8554/cam"}),
    ("IPv6 loopback", {"rtsp_url": "rtsp://[::1]:8554/cam"}),
    ("mapped loopback", {"rtsp_url": "rtsp://[::ffff:127.0.0.1]/cam"}),
    ("cloud metadata", {"rtsp_url": "rtsp://169.254.169.254:80/latest/meta-data"}),
    ("link-local", {"rtsp_url": "rtsps://169.254.1.1/cam"}),
    ("unspecified", {"rtsp_url": "rtsp://0.0.0.0:554/cam"}),
    ("multicast", {"rtsp_url": "rtsp://239.1.1.1/cam"}),
    ("PostgreSQL on a camera network", {"rtsp_url": "rtsp://10.0.0.5:5432/x"}),
    ("vendor builder on loopback", {"vendor": "hikvision", "host": "127.0.0.1", "port": 554}),
]


@pytest.mark.parametrize(("case", "body"), CREATE, ids=[c for c, _ in CREATE])
async def test_cameras_pointing_at_the_platform_are_refused_with_one_coarse_reason(
        database_url: str, pool: asyncpg.Pool, tmp_path: Path, case: str, body: dict[str, Any]) -> None:
    async with _api(database_url, pool, tmp_path) as api:
        manager = await api.bearer(Role.MANAGER)
        created = await api.client.post("/cameras", headers=manager, json={"name": case, "enabled": False, **body})
        assert created.status_code == 422, created.text
        assert created.json()["error"]["message"] == REFUSED
        ok = await api.client.post("/cameras", headers=manager, json={
            "name": "ok", "rtsp_url": "rtsp://10.0.0.5:554/x", "enabled": False})
        assert ok.status_code == 201, ok.text
        patched = await api.client.patch(f"/cameras/{ok.json()['id']}", headers=manager,
                                         json={"rtsp_url": body.get("rtsp_url", "rtsp://127.0.0.1/x")})
        assert patched.status_code == 422 and patched.json()["error"]["message"] == REFUSED


async def test_camera_networks_allow_loopback_per_deployment_and_per_city(
        database_url: str, pool: asyncpg.Pool, tmp_path: Path) -> None:
    async with _api(database_url, pool, tmp_path, camera_networks=("127.0.0.0/8",)) as api:
        manager = await api.bearer(Role.MANAGER)

        async def create(url: str, headers: dict[str, str] = manager) -> httpx.Response:
            return await api.client.post("/cameras", headers=headers, json={"name": uuid.uuid4().hex, "rtsp_url": url,
                                                                              "enabled": False})

        assert (await create("rtsp://127.0.0.1:8554/cam")).status_code == 201
        assert (await create("rtsp://localhost:8554/cam")).status_code in (201, 422)  # ::1 is not listed
        for refused in ("rtsp://10.0.0.5/x", f"rtsp://127.0.0.1:{api.settings.api_port}/x",
                        "rtsp://127.0.0.1:6379/x", "rtsp://127.0.0.1:5432/x"):
            answer = await create(refused)
            assert answer.status_code == 422 and answer.json()["error"]["message"] == REFUSED, refused

        city = f"/tenants/{api.tenant_id}"
        admin = await api.bearer(Role.ADMIN)
        assert (await api.client.patch(city, headers=manager, json={"camera_networks": ["10.0.0.0/8"]})).status_code == 403
        bad = await api.client.patch(city, headers=admin, json={"camera_networks": ["10.0.0.1/8"]})
        assert bad.status_code == 422 and "CIDR" in bad.json()["error"]["message"]
        own = await api.client.patch(city, headers=admin, json={"camera_networks": ["10.0.0.0/8"]})
        assert own.status_code == 200 and own.json()["camera_networks"] == ["10.0.0.0/8"]
        assert (await create("rtsp://10.0.0.5/x")).status_code == 201
        assert (await create("rtsp://127.0.0.1:8554/cam")).status_code == 422, "the city's list replaces the default"
        back = await api.client.patch(city, headers=admin, json={"camera_networks": None})
        assert back.status_code == 200 and back.json()["camera_networks"] is None
        assert (await create("rtsp://127.0.0.1:8554/cam")).status_code == 201

        for pattern, status in (("test://pattern?w=320&h=180&fps=10", 201), ("test://pattern?w=7680&h=4320", 422),
                                ("test://pattern?fps=1000", 422)):
            assert (await create(pattern)).status_code == status, pattern




def test_a_camera_address_that_answers_with_a_banner_shows_only_a_coarse_reason() -> None:
    """A status must not relay what answered on a host and port (a port scanner with a banner grabber)."""
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]

    def answer() -> None:
        for _ in range(4):
            try:
                conn, _ = server.accept()
            except OSError:
                return
            with conn:
                conn.sendall(b"SSH-2.0-OpenSSH_9.2p1 Debian-2 secret-banner\r\n" * 20)
                time.sleep(0.2)

    threading.Thread(target=answer, daemon=True).start()
    try:
        with pytest.raises(SourceError) as failed:
            open_source(f"rtsp://127.0.0.1:{port}/stream", timeout_s=2, stall_s=2)
    finally:
        server.close()
    detail = failed.value.detail
    assert detail == coarse_detail(failed.value.reason), detail
    assert "127.0.0.1" not in detail and "SSH" not in detail and str(port) not in detail
