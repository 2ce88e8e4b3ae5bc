"""A camera's sub-stream (docs/watching.md "Sub-streams"): watched on demand from its own mount while the main
stream is recorded, the main stream served when there is none, and a broken one that leaves the recording alone."""

from __future__ import annotations

import io
import json
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import av
import httpx
import m3u8
from websockets.sync.client import connect

from actors.camera import CameraSupervisor
from domain.camera_state import CameraState
from domain.rbac import Role
from domain.settings import Settings
from media.live import LivePiece
from storage import tenants
from storage.objects import open_object_store
from tests.support.asgi_api import running_api
from tests.support.cameras import camera_spec, chunks_of, history_of, wait_for
from tests.support.ports import free_port
from tests.support.rtsp_camera import RtspTestCamera
from tests.support.sessions import access_headers, new_bearer
from tests.support.system import ADMIN_PASSWORD, REDIS_URL, System, drop_redis_keys, new_city
from tests.support.system import wait_for as wait_until

LINGER_S = 2.0


async def _watched(supervisor: CameraSupervisor, *, sub: bool, frames: int = 10) -> tuple[bytes, list[LivePiece]]:
    """``frames`` live fragments of one stream, read as a viewer reads them (long polls), and their init."""
    got: list[LivePiece] = []

    async def enough() -> bool:
        got.extend(await supervisor.live_frames(got[-1].seq if got else None, 1.0, sub))
        return len(got) >= frames

    await wait_for(enough, 30, interval_s=0)
    init = supervisor.live_init(got[-1].init_id, sub)
    assert init is not None
    return init, [p for p in got if p.init_id == got[-1].init_id]


def _size_of(init: bytes, pieces: list[LivePiece]) -> tuple[int, int, int]:
    """Width, height and decoded frame count of a live fMP4 stream (proves it plays)."""
    with av.open(io.BytesIO(init + b"".join(p.data for p in pieces))) as container:
        decoded = list(container.decode(video=0))
        video = container.streams.video[0]
        return video.width, video.height, len(decoded)


async def test_the_sub_stream_is_watched_from_its_own_mount_while_the_main_is_recorded(
    pool: asyncpg.Pool, rtsp_camera: RtspTestCamera, tmp_path: Path
) -> None:
    spec = await camera_spec(pool, rtsp_camera.url("cam"), substream_url=rtsp_camera.url("cam-sub"))
    supervisor = CameraSupervisor(spec, open_object_store(tmp_path.joinpath("objects").as_uri()), pool,
                                  spool_root=tmp_path / "spool", chunk_max_s=2, substream_linger_s=LINGER_S)
    await supervisor.start()
    try:
        await wait_for(lambda: _state(supervisor, CameraState.STREAMING), 30)
        assert supervisor.status().extra["substream"]["state"] == "idle"  # nobody watches it: not even opened

        init, pieces = await _watched(supervisor, sub=True)
        width, height, decoded = _size_of(init, pieces)
        assert (width, height) == (320, 180) and decoded >= len(pieces) - 1  # the half-size sub mount
        sub = supervisor.status().extra["substream"]
        assert (sub["state"], sub["width"], sub["height"], sub["watched"]) == ("streaming", 320, 180, True)

        main_init, main_pieces = await _watched(supervisor, sub=False)
        assert _size_of(main_init, main_pieces)[:2] == (640, 360)
        assert await wait_for(lambda: _chunks_at_least(pool, spec, 2), 30)

        # the last viewer gone, the sub-stream closes after its linger; the recording goes on
        await wait_for(lambda: _sub_state(supervisor, "idle"), LINGER_S + 10)
        status = supervisor.status()
        assert status.state == CameraState.STREAMING and status.width == 640
    finally:
        await supervisor.stop()
    for chunk in await chunks_of(pool, spec):
        assert (chunk.width, chunk.height) == (640, 360)  # only the main stream is recorded


async def test_a_camera_without_a_sub_stream_serves_its_main_stream(
    pool: asyncpg.Pool, rtsp_camera: RtspTestCamera, tmp_path: Path
) -> None:
    spec = await camera_spec(pool, rtsp_camera.url("cam"))
    supervisor = CameraSupervisor(spec, open_object_store(tmp_path.joinpath("objects").as_uri()), pool,
                                  spool_root=tmp_path / "spool")
    await supervisor.start()
    try:
        init, pieces = await _watched(supervisor, sub=True)
        assert _size_of(init, pieces)[:2] == (640, 360)
        assert supervisor.status().extra["substream"] is None
    finally:
        await supervisor.stop()


async def test_a_broken_sub_stream_shows_its_own_reason_and_leaves_the_recording_alone(
    pool: asyncpg.Pool, rtsp_camera: RtspTestCamera, tmp_path: Path
) -> None:
    broken = f"rtsp://127.0.0.1:{free_port()}/nothing"
    spec = await camera_spec(pool, rtsp_camera.url("cam"), substream_url=broken)
    supervisor = CameraSupervisor(spec, open_object_store(tmp_path.joinpath("objects").as_uri()), pool,
                                  spool_root=tmp_path / "spool", chunk_max_s=2, source_timeout_s=2,
                                  substream_linger_s=LINGER_S)
    await supervisor.start()
    try:
        await wait_for(lambda: _state(supervisor, CameraState.STREAMING), 30)

        async def sub_failed() -> bool:
            assert await supervisor.live_frames(None, 0.5, True) == []  # no picture, and no error to the reader
            return supervisor.status().extra["substream"]["state"] == "error"

        await wait_for(sub_failed, 20, interval_s=0)
        sub = supervisor.status().extra["substream"]
        assert sub["reason"] == "unreachable" and sub["reconnects"] >= 1
        assert await wait_for(lambda: _chunks_at_least(pool, spec, 3), 30)
        status = supervisor.status()
        assert (status.state, status.reason) == (CameraState.STREAMING, None)
    finally:
        await supervisor.stop()
    states = [t.state for t in await history_of(pool, spec)]
    assert CameraState.ERROR not in states and CameraState.RECONNECTING not in states, states


async def _state(supervisor: CameraSupervisor, state: CameraState) -> bool:
    return supervisor.status().state == state


async def _sub_state(supervisor: CameraSupervisor, state: str) -> bool:
    return bool(supervisor.status().extra["substream"]["state"] == state)


async def _chunks_at_least(pool: asyncpg.Pool, spec: object, count: int) -> bool:
    return len(await chunks_of(pool, spec)) >= count  # type: ignore[arg-type]


# --- through the API ---------------------------------------------------------------------------------------------


async def test_the_sub_stream_url_is_set_validated_filled_by_vendor_builders_and_audited(
    pool: asyncpg.Pool, database_url: str, tmp_path: Path
) -> None:
    city = (await tenants.create(pool, f"sub-{uuid.uuid4().hex[:6]}")).id
    prefix = f"gtv-sub-{uuid.uuid4().hex[:8]}:"
    settings = Settings(database_url=database_url, object_store_url=(tmp_path / "objects").as_uri(),
                        public_url="http://127.0.0.1:1", secret=uuid.uuid4().hex, bus_url=f"{REDIS_URL}?prefix={prefix}",
                        spool_dir=str(tmp_path / "spool"))
    manager = access_headers(settings, await new_bearer(pool, Role.MANAGER, city))
    try:
        async with running_api(settings) as api:
            built = await api.post("/api/v1/cameras", headers=manager, json={
                "name": "Intelbras", "vendor": "intelbras", "host": "10.0.0.5", "channel": 2,
                "username": "admin", "password": "s3cr3t"})
            assert built.status_code == 201, built.text
            camera = built.json()
            assert camera["substream_url"] == "rtsp://10.0.0.5:554/cam/realmonitor?channel=2&subtype=1"
            assert "s3cr3t" not in built.text

            refused = await api.post("/api/v1/cameras", headers=manager, json={
                "name": "other login", "rtsp_url": "rtsp://admin:one@10.0.0.6/main",
                "substream_url": "rtsp://admin:two@10.0.0.6/sub"})
            assert refused.status_code == 422 and "camera's login" in refused.text and "two" not in refused.text
            bad = await api.post("/api/v1/cameras", headers=manager, json={
                "name": "bad", "rtsp_url": "rtsp://10.0.0.6/main", "substream_url": "http://10.0.0.6/sub"})
            assert bad.status_code == 422 and "scheme" in bad.text
            metadata = await api.post("/api/v1/cameras", headers=manager, json={
                "name": "metadata", "rtsp_url": "rtsp://10.0.0.6/main", "substream_url": "rtsp://169.254.169.254/x"})
            assert metadata.status_code == 422, metadata.text  # the target rules of the main URL hold for it too

            same_login = await api.patch(f"/api/v1/cameras/{camera['id']}", headers=manager, json={
                "substream_url": "rtsp://admin:s3cr3t@10.0.0.5/Streaming/Channels/102"})
            assert same_login.status_code == 200, same_login.text
            assert same_login.json()["substream_url"] == "rtsp://10.0.0.5/Streaming/Channels/102"
            assert "s3cr3t" not in same_login.text
            removed = await api.patch(f"/api/v1/cameras/{camera['id']}", headers=manager, json={"substream_url": None})
            assert removed.json()["substream_url"] is None

            start = (datetime.now(UTC) - timedelta(minutes=5)).isoformat()
            end = (datetime.now(UTC) + timedelta(minutes=5)).isoformat()
            trail = (await api.get("/api/v1/audit", headers=manager, params={
                "start": start, "end": end, "camera_id": camera["id"], "action": "camera."})).json()
            by_action = {(row["action"], json.dumps(row["detail"], sort_keys=True)) for row in trail}
            assert any(a == "camera.created" and "subtype=1" in d for a, d in by_action)
            changes = [row["detail"]["changes"] for row in trail if row["action"] == "camera.updated"]
            assert {"from": "rtsp://10.0.0.5/Streaming/Channels/102", "to": None} in [
                c.get("substream_url") for c in changes]
            assert "s3cr3t" not in json.dumps(trail)

            schema = (await api.get("/openapi.json")).json()["components"]["schemas"]
            assert "substream_url" in schema["CameraIn"]["properties"]
            assert "substream_url" in schema["CameraPatch"]["properties"]
    finally:
        await drop_redis_keys(prefix)


def _ws_frames(system: System, camera_id: str, token: str, stream: str) -> tuple[int, int]:
    """Two seconds of the live WebSocket of ``stream``: the decoded picture's size."""
    base = system.settings.public_url.replace("http://", "ws://")
    data = b""
    with connect(f"{base}/api/v1/cameras/{camera_id}/live?token={token}&stream={stream}", open_timeout=10) as ws:
        until = time.monotonic() + 2
        while time.monotonic() < until:
            message = ws.recv(timeout=10)
            assert isinstance(message, bytes)
            data += message
    with av.open(io.BytesIO(data)) as container:
        frame = next(container.decode(video=0))
        return frame.width, frame.height


def _live_looks(system: System, headers: dict[str, str], camera_id: str) -> list[dict[str, Any]]:
    start = (datetime.now(UTC) - timedelta(minutes=5)).isoformat()
    end = (datetime.now(UTC) + timedelta(minutes=5)).isoformat()
    rows: list[dict[str, Any]] = system.client.get("/audit", headers=headers, params={
        "start": start, "end": end, "camera_id": camera_id, "action": "live.view"}).json()
    return [row["detail"] for row in rows]


def test_live_stream_sub_over_websocket_and_hls_with_fallback_to_main(
    system: System, rtsp_camera: RtspTestCamera
) -> None:
    admin = system.login("admin", ADMIN_PASSWORD)
    _, manager, viewer = new_city(system, admin)
    with_sub = system.client.post("/cameras", headers=manager, json={
        "name": "com sub", "rtsp_url": rtsp_camera.url("cam"), "substream_url": rtsp_camera.url("cam-sub")}).json()
    without = system.client.post("/cameras", headers=manager, json={
        "name": "sem sub", "rtsp_url": rtsp_camera.url("cam")}).json()
    for camera in (with_sub, without):
        wait_until(lambda c=camera: system.client.get(f"/cameras/{c['id']}/status", headers=viewer)
                   .json().get("state") == "streaming", 30)
    tokens = {c["id"]: system.client.post(f"/cameras/{c['id']}/media-token", headers=viewer).json()["token"]
              for c in (with_sub, without)}

    assert _ws_frames(system, with_sub["id"], tokens[with_sub["id"]], "sub") == (320, 180)
    assert _ws_frames(system, with_sub["id"], tokens[with_sub["id"]], "main") == (640, 360)
    assert _ws_frames(system, without["id"], tokens[without["id"]], "sub") == (640, 360)  # falls back to main

    url = f"{system.settings.public_url}/api/v1/cameras/{with_sub['id']}/live.m3u8?token={tokens[with_sub['id']]}&stream=sub"

    def sub_playlist() -> m3u8.M3U8 | None:
        playlist = m3u8.loads(httpx.get(url, timeout=10).text, uri=url)
        return playlist if playlist.segments else None

    segment = wait_until(sub_playlist, 20).segments[-1]
    assert "stream=sub" in segment.absolute_uri
    init = httpx.get(segment.init_section.absolute_uri, timeout=10).content
    media = httpx.get(segment.absolute_uri, timeout=10).content
    with av.open(io.BytesIO(init + media)) as container:
        frame = next(container.decode(video=0))
        assert (frame.width, frame.height) == (320, 180)

    looks = _live_looks(system, manager, with_sub["id"])
    assert {"transport": "websocket", "stream": "sub"} in looks and {"transport": "websocket", "stream": "main"} in looks
    assert {"transport": "hls", "stream": "sub"} in looks
    assert {"transport": "websocket", "stream": "main"} in _live_looks(system, manager, without["id"])
    sub_status = system.client.get(f"/cameras/{with_sub['id']}/status", headers=viewer).json()["extra"]["substream"]
    assert sub_status["state"] == "streaming" and sub_status["width"] == 320
    for camera in (with_sub, without):
        system.client.delete(f"/cameras/{camera['id']}", headers=manager)
