"""End to end on Ray: the Serve API, the Fleet and camera hosts, on real parts.

Runs once per object store backend (S3 protocol and local directory).
"""

from __future__ import annotations

import asyncio
import itertools
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import ray

from actor_client.names import FLEET_NAME, host_slot
from actors.host_actor import named_hosts
from domain.events import tenant_stream
from domain.recording import FragmentEntry
from media.chunk_file import complete_prefix_length
from storage.bus import open_bus
from tests.support.media_checks import assert_fragment_table_addresses_moofs, decode_chunk
from tests.support.rtsp_camera import RtspTestCamera
from tests.support.system import ADMIN_PASSWORD, NAMESPACE, System, new_city, wait_for


def _chunks(system: System, headers: dict[str, str], camera_id: str, since: datetime) -> list[dict[str, Any]]:
    response = system.client.get(
        f"/cameras/{camera_id}/recordings", headers=headers,
        params={"start": since.isoformat(), "end": (datetime.now(UTC) + timedelta(minutes=1)).isoformat()},
    )
    assert response.status_code == 200, response.text
    chunks: list[dict[str, Any]] = response.json()["chunks"]
    return chunks


def test_camera_created_through_the_api_is_recorded_indexed_and_listed(
    system: System, rtsp_camera: RtspTestCamera
) -> None:
    admin = system.login("admin", ADMIN_PASSWORD)
    _, manager, viewer = new_city(system, admin)
    created_at = datetime.now(UTC)
    camera = system.client.post("/cameras", headers=manager, json={
        "name": "Praça central", "rtsp_url": rtsp_camera.url("cam"), "latitude": -23.55, "longitude": -46.63,
    })
    assert camera.status_code == 201, camera.text
    camera_id = camera.json()["id"]

    def first_chunk() -> tuple[dict[str, Any], datetime] | None:
        chunks = _chunks(system, viewer, camera_id, created_at - timedelta(seconds=5))
        return (chunks[0], datetime.now(UTC)) if chunks else None

    chunk, seen_at = wait_for(first_chunk, 70)
    start, end = datetime.fromisoformat(chunk["start"]), datetime.fromisoformat(chunk["end"])
    assert created_at - timedelta(seconds=1) <= start < end
    assert abs((seen_at - end).total_seconds()) <= 1.0, "index time within ±1 s of the wall clock it covers"

    data = httpx.get(chunk["url"], timeout=30).content  # presigned: S3 itself, or the API for a directory
    assert len(data) == chunk["bytes"]
    assert_fragment_table_addresses_moofs(data, chunk["init_length"], [FragmentEntry.from_row(f) for f in chunk["fragments"]])
    decoded = decode_chunk(data)
    assert (decoded.codec, decoded.width, decoded.height) == ("h264", 640, 360)
    assert decoded.end_s - decoded.first_s == pytest.approx((end - start).total_seconds(), abs=0.1)

    status = system.client.get(f"/cameras/{camera_id}/status", headers=viewer).json()
    assert status["state"] == "streaming"
    report = system.client.get(f"/cameras/{camera_id}/uptime", headers=viewer,
                               params={"day": datetime.now(UTC).date().isoformat()}).json()
    assert report["seconds_by_state"]["streaming"] > 0 and report["uptime_ratio"] > 0.5, report

    async def status_events() -> list[dict[str, Any]]:
        bus = open_bus(system.settings.bus_url, namespace=NAMESPACE)
        try:
            events = await bus.read(tenant_stream(uuid.UUID(camera.json()["tenant_id"])), count=1000)
        finally:
            await bus.close()
        return [e for _, e in events if e.get("camera_id") == camera_id]  # tenant.health names no camera

    states = [e["state"] for e in asyncio.run(status_events())]
    assert states[:2] == ["connecting", "streaming"]
    assert status["last_packet_age_s"] < 2 and status["fps"] > 20 and status["bitrate_bps"] > 0
    assert system.client.delete(f"/cameras/{camera_id}", headers=manager).status_code == 204


def test_broken_cameras_show_a_reason_and_touch_no_other_camera(
    system: System, rtsp_camera: RtspTestCamera, closed_port: int
) -> None:
    admin = system.login("admin", ADMIN_PASSWORD)
    _, manager, _ = new_city(system, admin)
    malformed = system.client.post("/cameras", headers=manager, json={"name": "bad", "rtsp_url": "rtsp://host:99999/x"})
    assert malformed.status_code == 422
    assert "port" in malformed.json()["error"]["message"]
    neither = system.client.post("/cameras", headers=manager, json={"name": "bad"})
    assert neither.status_code == 422 and "rtsp_url or host" in neither.json()["error"]["message"]

    good = system.client.post("/cameras", headers=manager, json={"name": "good", "rtsp_url": rtsp_camera.url("cam-audio")}).json()
    dead = system.client.post("/cameras", headers=manager, json={
        "name": "dead", "rtsp_url": f"rtsp://127.0.0.1:{closed_port}/stream", "username": "u", "password": "s3cr3t!",
    }).json()
    assert "s3cr3t" not in str(dead) and dead["has_password"] is True
    missing = system.client.post(
        "/cameras", headers=manager, json={"name": "missing", "rtsp_url": rtsp_camera.url("nope")}
    ).json()

    def state(camera: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = system.client.get(f"/cameras/{camera['id']}/status", headers=manager).json()
        return result

    assert wait_for(lambda: state(dead).get("state") == "error", 30)
    assert state(dead)["reason"] == "unreachable"
    assert wait_for(lambda: state(missing).get("state") == "error", 30)
    assert state(missing)["reason"] == "not_found"
    assert wait_for(lambda: state(good).get("chunks_recorded", 0) >= 2, 40)
    assert system.client.get("/health").status_code == 200
    for camera in (good, dead, missing):
        system.client.delete(f"/cameras/{camera['id']}", headers=manager)


def test_login_failures_leak_nothing(system: System) -> None:
    wrong_password = system.client.post("/auth/login", json={"username": "admin", "password": "nope"})
    unknown_user = system.client.post("/auth/login", json={"username": "nobody", "password": "nope"})
    assert wrong_password.status_code == unknown_user.status_code == 401
    assert wrong_password.json() == unknown_user.json() == {
        "error": {"status": 401, "message": "invalid username or password"}
    }
    assert system.client.get("/cameras").status_code == 401
    bad_token = system.client.get("/cameras", headers={"authorization": "Bearer x.y.z"})
    assert bad_token.status_code == 401


def test_roles_and_tenant_isolation(system: System) -> None:
    admin = system.login("admin", ADMIN_PASSWORD)
    tenant_a, manager_a, viewer_a = new_city(system, admin)
    _, manager_b, viewer_b = new_city(system, admin)
    camera = system.client.post("/cameras", headers=manager_a, json={
        "name": "hik", "vendor": "hikvision", "host": "127.0.0.1", "port": 1, "channel": 2, "stream": "sub",
        "enabled": False,
    })
    assert camera.status_code == 201, camera.text
    assert camera.json()["rtsp_url"] == "rtsp://127.0.0.1:1/Streaming/Channels/202"
    camera_id = camera.json()["id"]

    assert system.client.post("/cameras", headers=viewer_a, json={"name": "x", "rtsp_url": "rtsp://h/x"}).status_code == 403
    assert system.client.patch(f"/cameras/{camera_id}", headers=viewer_a, json={"name": "y"}).status_code == 403
    assert system.client.post("/tenants", headers=manager_a, json={"name": "mine"}).status_code == 403
    assert system.client.get(f"/cameras/{camera_id}/status", headers=viewer_a).json()["state"] == "disabled"

    window = {"start": "2026-01-01T00:00:00Z", "end": "2026-01-02T00:00:00Z"}
    for headers in (manager_b, viewer_b):
        assert system.client.get(f"/cameras/{camera_id}", headers=headers).status_code == 404
        assert system.client.get(f"/cameras/{camera_id}/status", headers=headers).status_code == 404
        assert system.client.get(f"/cameras/{camera_id}/recordings", headers=headers, params=window).status_code == 404
        assert system.client.get(f"/cameras/{camera_id}/uptime", headers=headers,
                                 params={"day": "2026-01-01"}).status_code == 404
        assert system.client.patch(f"/cameras/{camera_id}", headers=headers, json={"name": "z"}).status_code == 404
        assert system.client.delete(f"/cameras/{camera_id}", headers=headers).status_code == 404
        assert system.client.get("/cameras", headers=headers).json() == []
        assert system.client.get(f"/tenants/{tenant_a}", headers=headers).status_code == 404
        assert system.client.get("/cameras", headers=headers, params={"tenant_id": tenant_a}).status_code == 404

    bad_range = system.client.get(f"/cameras/{camera_id}/recordings", headers=viewer_a,
                                  params={"start": "2026-01-02T00:00:00Z", "end": "2026-01-01T00:00:00Z"})
    assert bad_range.status_code == 422 and "after start" in bad_range.json()["error"]["message"]
    assert [c["id"] for c in system.client.get("/cameras", headers=viewer_a).json()] == [camera_id]


def test_killed_camera_host_is_refilled_by_the_fleet(system: System) -> None:
    admin = system.login("admin", ADMIN_PASSWORD)
    _, manager, _ = new_city(system, admin)
    camera = system.client.post("/cameras", headers=manager, json={
        "name": "pattern", "rtsp_url": "test://pattern?w=320&h=180&fps=10"}).json()

    def status() -> dict[str, Any]:
        result: dict[str, Any] = system.client.get(f"/cameras/{camera['id']}/status", headers=manager).json()
        return result

    wait_for(lambda: status().get("chunks_recorded", 0) >= 1, 30)
    host = ray.get_actor(status()["host"], namespace=NAMESPACE)
    ray.kill(host, no_restart=False)  # a crash: Ray restarts the process empty
    wait_for(lambda: status().get("state") == "streaming" and status().get("chunks_recorded", 0) == 0, 40)
    wait_for(lambda: status().get("chunks_recorded", 0) >= 1, 30)

    # Disabling stops recording; the Fleet reconciles within its interval.
    system.client.patch(f"/cameras/{camera['id']}", headers=manager, json={"enabled": False})
    fleet = ray.get_actor(FLEET_NAME, namespace=NAMESPACE)
    wait_for(lambda: camera["id"] not in {str(k) for k in ray.get(fleet.placement.remote())}, 20)
    assert status()["state"] == "disabled"


def test_a_crashed_fleet_comes_back_and_takes_over_its_hosts_without_a_gap(system: System) -> None:
    """The Fleet owns placement, not recording: Ray restarts it after a crash, it finds its camera hosts still
    running (detached) with their cameras, starts none twice, and places new cameras as before."""
    admin = system.login("admin", ADMIN_PASSWORD)
    _, manager, _ = new_city(system, admin)
    first = system.client.post("/cameras", headers=manager, json={
        "name": "before", "rtsp_url": "test://pattern?w=320&h=180&fps=10"}).json()

    def status(camera: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = system.client.get(f"/cameras/{camera['id']}/status", headers=manager).json()
        return result

    wait_for(lambda: status(first).get("chunks_recorded", 0) >= 2, 40)
    host = ray.get_actor(status(first)["host"], namespace=NAMESPACE)
    host_pid = ray.get(host.pid.remote(), timeout=30)
    fleet = ray.get_actor(FLEET_NAME, namespace=NAMESPACE)
    before = status(first)["chunks_recorded"]
    ray.kill(fleet, no_restart=False)  # a crash: Ray restarts the Fleet's process

    def placed() -> dict[str, str] | None:
        try:
            answer: dict[str, str] = ray.get(fleet.placement.remote(), timeout=5)
        except Exception:  # still restarting
            return None
        return answer if first["id"] in answer else None

    wait_for(placed, 60)
    # The same host process kept the camera: recording never stopped (a supervisor started again would count
    # from 0), and no second copy was started anywhere.
    assert ray.get(host.pid.remote(), timeout=30) == host_pid
    recorded = wait_for(lambda: status(first).get("chunks_recorded"), 30)
    assert recorded >= before, (recorded, before)
    running = [cid for handle in named_hosts(system.settings, host_slot).values()
               for cid in ray.get(handle.running.remote(), timeout=30)]
    assert [str(c) for c in running].count(first["id"]) == 1, running
    wait_for(lambda: status(first).get("chunks_recorded", 0) > recorded, 30)

    second = system.client.post("/cameras", headers=manager, json={
        "name": "after", "rtsp_url": "test://pattern?w=320&h=180&fps=10"}).json()
    wait_for(lambda: status(second).get("chunks_recorded", 0) >= 1, 40)
    for camera in (first, second):
        system.client.patch(f"/cameras/{camera['id']}", headers=manager, json={"enabled": False})


def test_host_killed_mid_chunk_recovers_its_spool(system: System, rtsp_camera: RtspTestCamera) -> None:
    admin = system.login("admin", ADMIN_PASSWORD)
    _, manager, _ = new_city(system, admin)
    created = datetime.now(UTC)
    camera = system.client.post("/cameras", headers=manager, json={"name": "crash", "rtsp_url": rtsp_camera.url("cam")}).json()
    spool = Path(system.settings.spool_dir) / camera["id"]

    def status() -> dict[str, Any]:
        result: dict[str, Any] = system.client.get(f"/cameras/{camera['id']}/status", headers=manager).json()
        return result

    wait_for(lambda: status().get("chunks_recorded", 0) >= 1, 40)

    def mid_chunk() -> bool:  # the open chunk holds at least one whole fragment (1 s GOP)
        parts = list(spool.glob("*.part"))
        try:
            return bool(parts) and complete_prefix_length(parts[0].read_bytes()) > 0
        except FileNotFoundError:  # closed meanwhile
            return False

    wait_for(mid_chunk, 10, interval_s=0.05)
    killed_at = datetime.now(UTC)
    ray.kill(ray.get_actor(status()["host"], namespace=NAMESPACE), no_restart=False)
    wait_for(lambda: status().get("state") == "streaming" and status().get("chunks_recorded", 0) >= 2, 60)

    rows = _chunks(system, manager, camera["id"], created - timedelta(seconds=5))
    starts = [r["start"] for r in rows]
    assert len(starts) == len(set(starts)), "no duplicate rows"
    spans = [(datetime.fromisoformat(r["start"]), datetime.fromisoformat(r["end"])) for r in rows]
    assert all(end <= after_start for (_, end), (after_start, _) in itertools.pairwise(spans)), "no overlap"
    recovered = [end for _, end in spans if end <= killed_at + timedelta(milliseconds=200)]
    assert recovered, "the chunk open at the kill was recovered from the spool"
    lost_s = (killed_at - max(recovered)).total_seconds()
    assert lost_s <= 1.0 + 0.5, f"lost {lost_s:.2f} s before the kill: at most the fragment in flight (1 s GOP)"
    for row in rows:  # no index row points at a missing or truncated object
        assert len(httpx.get(row["url"], timeout=30).content) == row["bytes"]
    assert system.client.delete(f"/cameras/{camera['id']}", headers=manager).status_code == 204
