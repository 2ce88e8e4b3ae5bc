"""Camera offline/online alerts on the real parts: a real RTSP camera whose server is stopped and restarted, its
supervisor storing transitions in PostgreSQL, the alert watch the Fleet runs, Redis streams; and the city's
alert delays through the API (GET/PUT /tenants/{id}/alerts)."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from actors.camera import CameraSupervisor
from domain.camera_alerts import AlertSettings
from domain.camera_state import CameraState
from domain.events import tenant_stream
from domain.rbac import Role
from domain.settings import Settings
from services.camera_alert_watch import TICK_S, AlertWatch
from storage import camera_alerts, tenants
from storage.bus import RedisBus
from storage.objects import open_object_store
from tests.support.asgi_api import running_api
from tests.support.cameras import camera_spec, wait_for
from tests.support.ports import free_port
from tests.support.rtsp_camera import RtspTestCamera
from tests.support.sessions import access_headers, new_bearer
from tests.support.system import REDIS_URL, drop_redis_keys

OFFLINE_AFTER_S = 5
ONLINE_AFTER_S = 5
MARGIN_S = 4.0  # loss seen by the supervisor, the transition stored, one watch tick


@pytest.fixture
def own_camera() -> Iterator[RtspTestCamera]:
    camera = RtspTestCamera(free_port(), ["cam"])
    camera.start()
    yield camera
    camera.stop()


@pytest.fixture
async def bus() -> AsyncIterator[RedisBus]:
    prefix = f"gtv-camalerts-{uuid.uuid4().hex[:8]}:"
    bus = RedisBus(REDIS_URL, prefix=prefix)
    yield bus
    await bus.close()
    await drop_redis_keys(prefix)


@asynccontextmanager
async def watching(pool: asyncpg.Pool, bus: RedisBus) -> AsyncIterator[AlertWatch]:
    """The alert watch as the Fleet runs it: rebuilt from PostgreSQL, then ticked every second."""
    watch = AlertWatch()
    await watch.rebuild(pool)

    async def forever() -> None:
        while True:
            await watch.tick(pool, bus)
            await asyncio.sleep(TICK_S)

    task = asyncio.create_task(forever())
    try:
        yield watch
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


class Events:
    """The city's stream, read from where the test started."""

    def __init__(self, bus: RedisBus, tenant_id: uuid.UUID) -> None:
        self.bus, self.stream, self.after = bus, tenant_stream(tenant_id), "0-0"
        self.seen: list[dict[str, Any]] = []

    async def next_of(self, kind: str, within_s: float,
                      matching: Callable[[dict[str, Any]], bool] = lambda _: True) -> dict[str, Any]:
        deadline = time.monotonic() + within_s
        while (left := deadline - time.monotonic()) > 0:
            for event_id, event in await self.bus.read(self.stream, self.after, block_s=min(left, 1.0)):
                self.after = event_id
                self.seen.append(event)
                if event["type"] == kind and matching(event):
                    return event
        raise AssertionError(f"no {kind} within {within_s} s; saw {[e['type'] for e in self.seen]}")

    def of(self, kind: str) -> list[dict[str, Any]]:
        return [e for e in self.seen if e["type"] == kind]


async def test_a_stopped_camera_raises_one_offline_and_once_back_one_online_across_a_watch_restart(
    pool: asyncpg.Pool, bus: RedisBus, own_camera: RtspTestCamera, tmp_path: Path
) -> None:
    spec = await camera_spec(pool, own_camera.url("cam"))
    assert await camera_alerts.set_settings(pool, spec.tenant_id, AlertSettings(OFFLINE_AFTER_S, ONLINE_AFTER_S))
    events = Events(bus, spec.tenant_id)
    supervisor = CameraSupervisor(spec, open_object_store((tmp_path / "objects").as_uri()), pool,
                                  spool_root=tmp_path / "spool", bus=bus, chunk_max_s=2)
    await supervisor.start()
    try:
        async with watching(pool, bus):
            await wait_for(lambda: _state(supervisor, CameraState.STREAMING), 30)
            # A push may come first that counts the camera while it was still connecting (neither online nor offline).
            health = await events.next_of("tenant.health", 10, lambda h: h["online"] == 1)
            assert health["offline"] == 0, health

            stopped_at, stopped_wall = time.monotonic(), _to_ms(datetime.now(UTC))
            own_camera.stop()
            offline = await events.next_of("camera.offline", OFFLINE_AFTER_S + MARGIN_S + 2)
            offline_after_s = time.monotonic() - stopped_at
        # The Fleet restarts here: the new watch must neither raise the offline alert again nor forget it.
        async with watching(pool, bus):
            await asyncio.to_thread(own_camera.start)
            back_at = time.monotonic()
            online = await events.next_of("camera.online", ONLINE_AFTER_S + MARGIN_S + 5)
            online_after_s = time.monotonic() - back_at
            await asyncio.sleep(2 * TICK_S)  # anything raised late would be on the stream by now
            events.seen += [e for _, e in await bus.read(events.stream, events.after)]
    finally:
        await supervisor.stop()

    # The camera recorded for less than ONLINE_AFTER_S before it was stopped: its outage is the stop, not its start.
    assert datetime.fromisoformat(offline["since"]) >= stopped_wall, (offline["since"], stopped_wall)
    assert OFFLINE_AFTER_S <= offline_after_s <= OFFLINE_AFTER_S + MARGIN_S, offline_after_s
    assert offline["camera_id"] == str(spec.camera_id) and offline["camera_name"] == await _name(pool, spec.camera_id)
    assert offline["reason"] in ("disconnected", "unreachable", "timeout") and offline["severity"] == "critical"
    assert ONLINE_AFTER_S <= online_after_s <= ONLINE_AFTER_S + MARGIN_S + 3, online_after_s
    assert online["offline_since"] == offline["since"] and online["since"] > offline["since"]
    assert len(events.of("camera.offline")) == 1 and len(events.of("camera.online")) == 1, events.seen
    assert any(h["offline"] == 1 and h["online"] == 0 for h in events.of("tenant.health")), events.of("tenant.health")
    stored = await camera_alerts.of_camera(pool, spec.camera_id)
    assert [kind for kind, _ in stored] == ["online", "offline"]  # newest first: the log a restart reads


def _to_ms(at: datetime) -> datetime:
    """As precise as the events' timestamps."""
    return at.replace(microsecond=at.microsecond // 1000 * 1000)


async def _name(pool: asyncpg.Pool, camera_id: uuid.UUID) -> str:
    name: str = await pool.fetchval("SELECT name FROM cameras WHERE id = $1", camera_id)
    return name


async def _state(supervisor: CameraSupervisor, state: CameraState) -> bool:
    return supervisor.status().state == state


async def test_the_citys_alert_delays_are_set_by_its_managers_within_bounds(
    pool: asyncpg.Pool, database_url: str, tmp_path: Path
) -> None:
    city, other = (await tenants.create(pool, f"alerts-{uuid.uuid4().hex[:6]}")).id, \
        (await tenants.create(pool, f"alerts-{uuid.uuid4().hex[:6]}")).id
    prefix = f"gtv-camalerts-{uuid.uuid4().hex[:8]}:"
    settings = Settings(database_url=database_url, object_store_url=(tmp_path / "objects").as_uri(),
                        public_url="http://127.0.0.1:1", secret=uuid.uuid4().hex, bus_url=f"{REDIS_URL}?prefix={prefix}",
                        spool_dir=str(tmp_path / "spool"))
    manager, viewer, stranger, admin = [
        access_headers(settings, await new_bearer(pool, role, tenant))
        for role, tenant in ((Role.MANAGER, city), (Role.VIEWER, city), (Role.MANAGER, other), (Role.ADMIN, None))]
    url = f"/api/v1/tenants/{city}/alerts"
    try:
        async with running_api(settings) as api:
            got = await api.get(url, headers=viewer)
            assert got.status_code == 200 and got.json() == {"offline_after_s": 30, "online_after_s": 10}, got.text
            put = await api.put(url, json={"offline_after_s": 5, "online_after_s": 60}, headers=manager)
            assert put.status_code == 200 and put.json() == {"offline_after_s": 5, "online_after_s": 60}, put.text
            assert await camera_alerts.settings_of(pool, city) == AlertSettings(5, 60)

            too_short = await api.put(url, json={"offline_after_s": 4, "online_after_s": 10}, headers=manager)
            assert too_short.status_code == 422 and "offline_after_s" in too_short.text
            too_long = await api.put(url, json={"offline_after_s": 30, "online_after_s": 3601}, headers=admin)
            assert too_long.status_code == 422 and "online_after_s" in too_long.text
            viewer_put = await api.put(url, json={"offline_after_s": 60, "online_after_s": 60}, headers=viewer)
            assert viewer_put.status_code == 403 and "may not write" in viewer_put.text
            for method in ("get", "put"):  # another city's manager: not found, as if it did not exist
                answer = await api.request(method.upper(), url, headers=stranger,
                                           json={"offline_after_s": 60, "online_after_s": 60})
                assert answer.status_code == 404 and "tenant not found" in answer.text, (method, answer.text)
            by_admin = await api.put(url, json={"offline_after_s": 3600, "online_after_s": 5}, headers=admin)
            assert by_admin.status_code == 200
            missing = await api.put(f"/api/v1/tenants/{uuid.uuid4()}/alerts", headers=admin,
                                    json={"offline_after_s": 60, "online_after_s": 60})
            assert missing.status_code == 404
    finally:
        await drop_redis_keys(prefix)
    assert await camera_alerts.settings_of(pool, city) == AlertSettings(3600, 5)
    assert await camera_alerts.settings_of(pool, other) == AlertSettings()  # the other city untouched
    audited = await pool.fetch("SELECT detail FROM audit_log WHERE tenant_id = $1 AND action = 'tenant.camera_alerts'"
                               " ORDER BY id", city)
    assert [dict(r["detail"]) for r in audited] == [
        {"from": {"offline_after_s": 30, "online_after_s": 10}, "to": {"offline_after_s": 5, "online_after_s": 60}},
        {"from": {"offline_after_s": 5, "online_after_s": 60}, "to": {"offline_after_s": 3600, "online_after_s": 5}}]


async def test_a_cameras_timeline_carries_its_offline_and_online_alerts_in_range(
    pool: asyncpg.Pool, database_url: str, tmp_path: Path
) -> None:
    from datetime import timedelta

    from domain.camera_alerts import AlertKind, CameraAlert

    spec = await camera_spec(pool, "test://pattern")
    now = datetime.now(UTC).replace(microsecond=0)
    down, up, old = now - timedelta(minutes=10), now - timedelta(minutes=8), now - timedelta(days=2)
    for kind, since, reason in ((AlertKind.OFFLINE, old, "timeout"), (AlertKind.OFFLINE, down, "unreachable"),
                                (AlertKind.ONLINE, up, None)):
        await camera_alerts.insert(pool, spec.tenant_id, spec.camera_id, CameraAlert(kind, since, since, reason))
    prefix = f"gtv-camalerts-{uuid.uuid4().hex[:8]}:"
    settings = Settings(database_url=database_url, object_store_url=(tmp_path / "objects").as_uri(),
                        public_url="http://127.0.0.1:1", secret=uuid.uuid4().hex, bus_url=f"{REDIS_URL}?prefix={prefix}",
                        spool_dir=str(tmp_path / "spool"))
    viewer = access_headers(settings, await new_bearer(pool, Role.VIEWER, spec.tenant_id))
    try:
        async with running_api(settings) as api:
            line = await api.get(f"/api/v1/cameras/{spec.camera_id}/timeline", headers=viewer, params={
                "start": (now - timedelta(hours=1)).isoformat(), "end": now.isoformat()})
            assert line.status_code == 200, line.text
            alerts = line.json()["alerts"]
            assert [(a["kind"], datetime.fromisoformat(a["at"]), a["reason"]) for a in alerts] == [
                ("offline", down, "unreachable"), ("online", up, None)]  # the one two days ago is out of range
    finally:
        await drop_redis_keys(prefix)
