"""Watching, end to end on Ray and Serve: live over WebSocket and HLS, timeline, playback across a gap,
evidence clips, snapshots, thumbnails, mosaics, media tokens and the audit log — on both object stores.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import asyncpg
import av
import httpx
import jwt
import m3u8
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from domain.events import tenant_stream
from domain.session import Bearer
from serve import tokens
from storage.bus import open_bus
from tests.support.rtsp_camera import RtspTestCamera
from tests.support.system import ADMIN_PASSWORD, NAMESPACE, System, new_city, wait_for

GOP_S = 2.0  # the built-in test pattern's keyframe interval


@dataclass
class City:
    tenant_id: str
    manager: dict[str, str]
    viewer: dict[str, str]
    camera_id: str
    runs: list[dict[str, Any]]  # the timeline's runs after the gap was made


def _parse(value: str) -> datetime:
    return datetime.fromisoformat(value)


def _status(system: System, headers: dict[str, str], camera_id: str) -> dict[str, Any]:
    result: dict[str, Any] = system.client.get(f"/cameras/{camera_id}/status", headers=headers).json()
    return result


def _timeline(system: System, headers: dict[str, str], camera_id: str, start: datetime, end: datetime) -> dict[str, Any]:
    response = system.client.get(f"/cameras/{camera_id}/timeline", headers=headers,
                                 params={"start": start.isoformat(), "end": end.isoformat()})
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


@pytest.fixture(scope="module")
def city(system: System) -> Iterator[City]:
    """A pattern camera recorded for a while, disabled for a while (the gap), recorded again."""
    admin = system.login("admin", ADMIN_PASSWORD)
    tenant_id, manager, viewer = new_city(system, admin)
    created = datetime.now(UTC) - timedelta(seconds=1)
    camera = system.client.post("/cameras", headers=manager, json={
        "name": "Terminal rodoviário", "rtsp_url": "test://pattern?w=320&h=180&fps=10"}).json()
    camera_id = camera["id"]

    def chunks() -> int:
        return int(_status(system, manager, camera_id).get("chunks_recorded", 0))

    wait_for(lambda: chunks() >= 3, 60)
    system.client.patch(f"/cameras/{camera_id}", headers=manager, json={"enabled": False})
    time.sleep(4)
    system.client.patch(f"/cameras/{camera_id}", headers=manager, json={"enabled": True})
    wait_for(lambda: chunks() >= 3, 60)
    runs = _timeline(system, manager, camera_id, created, datetime.now(UTC))["runs"]
    yield City(tenant_id, manager, viewer, camera_id, runs)
    system.client.delete(f"/cameras/{camera_id}", headers=manager)


def _media_token(system: System, headers: dict[str, str], camera_id: str) -> str:
    response = system.client.post(f"/cameras/{camera_id}/media-token", headers=headers)
    assert response.status_code == 200, response.text
    return str(response.json()["token"])


def _session_of(system: System, headers: dict[str, str]) -> Bearer:
    """The user and live session behind a logged-in client's access token."""
    return tokens.verify(headers["authorization"].removeprefix("Bearer "), system.settings.key("jwt"), kind="access")


def _ws_url(system: System, camera_id: str, token: str, meta: bool = True) -> str:
    base = system.settings.public_url.replace("http://", "ws://")
    return f"{base}/api/v1/cameras/{camera_id}/live?token={token}{'&meta=1' if meta else ''}"


def _decode(data: bytes) -> list[av.VideoFrame]:
    with av.open(io.BytesIO(data), mode="r") as container:
        return list(container.decode(video=0))


def test_live_websocket_starts_at_once_with_frames_that_decode(system: System, rtsp_camera: RtspTestCamera) -> None:
    admin = system.login("admin", ADMIN_PASSWORD)
    _, manager, viewer = new_city(system, admin)
    camera = system.client.post("/cameras", headers=manager, json={"name": "live", "rtsp_url": rtsp_camera.url("cam")}).json()
    wait_for(lambda: _status(system, viewer, camera["id"]).get("state") == "streaming", 30)
    token = _media_token(system, viewer, camera["id"])
    for attempt in range(2):  # the first viewer starts the camera's live muxer; the second joins the running feed
        started = time.monotonic()
        with connect(_ws_url(system, camera["id"], token), open_timeout=10) as ws:
            connected = time.monotonic()
            messages: list[tuple[dict[str, Any], bytes]] = []
            first_fragment_at = None
            while time.monotonic() - connected < 3:
                meta = json.loads(ws.recv(timeout=5))
                data = ws.recv(timeout=5)
                assert isinstance(data, bytes)
                if not meta["init"] and first_fragment_at is None:
                    first_fragment_at = time.monotonic()
                messages.append((meta, data))
        first_ms = (first_fragment_at or 0) - connected
        assert first_ms < 0.3, f"attempt {attempt}: first fragment {first_ms * 1000:.0f} ms after connect"
        assert messages[0][0]["init"] and messages[0][1][4:8] == b"ftyp"
        assert messages[1][0]["keyframe"], "a viewer starts at a keyframe"
        assert all(sum(p["bytes"] for p in m["pieces"]) == len(data) for m, data in messages), "meta describes each piece"
        seqs = [p["seq"] for m, _ in messages[1:] for p in m["pieces"]]
        assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), "no fragment lost or reordered"
        frames = _decode(b"".join(data for _, data in messages))
        assert len(frames) >= 2 * 25 and (frames[0].width, frames[0].height) == (640, 360)
        lag = time.time() - messages[-1][0]["pieces"][-1]["received_at"]
        assert lag < 1.0, f"the newest frame is {lag:.2f} s old"
        assert started  # (handshake time is measured by benchmarks/watch.py)
    system.client.delete(f"/cameras/{camera['id']}", headers=manager)


def test_live_hls_serves_the_latest_gops(system: System, city: City) -> None:
    token = _media_token(system, city.viewer, city.camera_id)
    url = f"{system.settings.public_url}/api/v1/cameras/{city.camera_id}/live.m3u8?token={token}"
    playlist = m3u8.loads(httpx.get(url, timeout=10).text, uri=url)
    assert not playlist.is_endlist and playlist.segments
    segment = playlist.segments[-1]
    init = httpx.get(segment.init_section.absolute_uri, timeout=10)
    media = httpx.get(segment.absolute_uri, timeout=10)
    assert init.status_code == media.status_code == 200
    frames = _decode(init.content + media.content)
    assert len(frames) == pytest.approx(GOP_S * 10, abs=1) and frames[0].key_frame
    assert segment.program_date_time is not None
    assert abs((datetime.now(UTC) - segment.program_date_time).total_seconds()) < 3 * GOP_S + 2


def test_timeline_shows_runs_and_the_gap_for_one_camera_and_many(system: System, city: City) -> None:
    assert len(city.runs) == 2, city.runs
    (first, second) = city.runs
    gap_s = (_parse(second["start"]) - _parse(first["end"])).total_seconds()
    assert gap_s >= 2, "the camera was off for 4 s (less the Fleet's reaction time on both ends)"
    start, end = _parse(first["start"]) - timedelta(minutes=1), _parse(second["end"])
    one = _timeline(system, city.viewer, city.camera_id, start, end)
    assert [(_parse(g["start"]), _parse(g["end"])) for g in one["gaps"]] == [
        (start, _parse(first["start"])), (_parse(first["end"]), _parse(second["start"]))]
    many = system.client.get("/timeline", headers=city.viewer, params={
        "cameras": f"{city.camera_id},{city.camera_id}", "start": start.isoformat(), "end": end.isoformat()})
    assert many.status_code == 200 and many.json()["cameras"][0]["runs"] == one["runs"]
    month = _timeline(system, city.viewer, city.camera_id, end - timedelta(days=30), end)
    assert month["runs"] == one["runs"]
    bad = system.client.get(f"/cameras/{city.camera_id}/timeline", headers=city.viewer,
                            params={"start": end.isoformat(), "end": start.isoformat()})
    assert bad.status_code == 422 and "after start" in bad.json()["error"]["message"]


def _fetch(url: str, byterange: str) -> bytes:
    length, _, offset = byterange.partition("@")
    response = httpx.get(url, headers={"range": f"bytes={offset}-{int(offset) + int(length) - 1}"}, timeout=30)
    assert response.status_code == 206, response.status_code
    return response.content


def test_playback_across_the_gap_plays_every_recorded_moment(system: System, city: City) -> None:
    (first, second) = city.runs
    start = _parse(first["start"]) + timedelta(seconds=1)
    end = _parse(second["end"]) - timedelta(seconds=1)
    token = _media_token(system, city.viewer, city.camera_id)
    url = f"{system.settings.public_url}/api/v1/cameras/{city.camera_id}/playback.m3u8"
    response = httpx.get(url, params={"start": start.isoformat(), "end": end.isoformat(), "token": token}, timeout=30)
    assert response.status_code == 200, response.text
    playlist = m3u8.loads(response.text, uri=url)
    assert playlist.is_endlist and playlist.playlist_type == "vod"
    runs: list[list[Any]] = [[]]
    for segment in playlist.segments:
        if segment.discontinuity:
            runs.append([])
        runs[-1].append(segment)
    assert len(runs) == 2, "one discontinuity: at the gap"
    for run, recorded in zip(runs, city.runs, strict=True):
        began = run[0].program_date_time
        assert began is not None
        data = b""
        for segment in run:  # init of the first chunk, then every fragment, as a player would append them
            if not data:
                data = _fetch(segment.init_section.absolute_uri, segment.init_section.byterange)
            data += _fetch(segment.absolute_uri, segment.byterange)
        frames = _decode(data)
        times = [began + timedelta(seconds=f.time - frames[0].time) for f in frames]
        covered_from = max(start, _parse(recorded["start"]))
        covered_to = min(end, _parse(recorded["end"]))
        assert times[0] <= covered_from + timedelta(milliseconds=150) and times[0] >= covered_from - timedelta(seconds=GOP_S)
        assert times[-1] >= covered_to - timedelta(milliseconds=250) and times[-1] <= covered_to + timedelta(seconds=GOP_S)
        assert len(frames) == pytest.approx((times[-1] - times[0]).total_seconds() * 10 + 1, abs=2), "no frame missing"
    nothing = httpx.get(url, params={"start": "2020-01-01T00:00:00Z", "end": "2020-01-01T01:00:00Z", "token": token})
    assert nothing.status_code == 404 and "no recordings" in nothing.json()["error"]["message"]
    too_long = httpx.get(url, params={"start": "2020-01-01T00:00:00Z", "end": "2020-01-02T00:00:00Z", "token": token})
    assert too_long.status_code == 422 and "maximum" in too_long.json()["error"]["message"]


def test_clip_export_is_exact_to_the_keyframe_with_a_verifiable_sha256(system: System, city: City) -> None:
    first = city.runs[0]
    start = _parse(first["start"]) + timedelta(seconds=1.3)
    end = _parse(first["end"]) - timedelta(seconds=0.5)
    viewer_try = system.client.post("/clips", headers=city.viewer, json={
        "camera_id": city.camera_id, "start": start.isoformat(), "end": end.isoformat()})
    assert viewer_try.status_code == 403
    created = system.client.post("/clips", headers=city.manager, json={
        "camera_id": city.camera_id, "start": start.isoformat(), "end": end.isoformat()})
    assert created.status_code == 202, created.text
    clip_id = created.json()["id"]
    done = wait_for(lambda: (c := system.client.get(f"/clips/{clip_id}", headers=city.manager).json())["state"]
                    in ("done", "failed") and c, 60)
    assert done["state"] == "done", done
    download = system.client.get(f"/clips/{clip_id}/download", headers=city.manager).json()
    data = httpx.get(download["url"], timeout=30).content
    assert hashlib.sha256(data).hexdigest() == done["sha256"] == download["sha256"]
    assert len(data) == done["bytes"]
    assert data.index(b"moov") < data.index(b"mdat"), "progressive MP4 (faststart)"
    first_frame, last_frame = _parse(done["first_frame_at"]), _parse(done["last_frame_at"])
    assert start - timedelta(seconds=GOP_S) <= first_frame <= start, "from the keyframe at or before start"
    assert end - timedelta(milliseconds=100) <= last_frame <= end + timedelta(seconds=GOP_S), "covers end"
    frames = _decode(data)
    assert frames[0].key_frame and frames[0].time == pytest.approx(0, abs=0.01)
    assert frames[-1].time == pytest.approx((last_frame - first_frame).total_seconds(), abs=0.05)
    assert len(frames) == pytest.approx((last_frame - first_frame).total_seconds() * 10 + 1, abs=1)

    async def clip_events() -> list[dict[str, Any]]:
        bus = open_bus(system.settings.bus_url, namespace=NAMESPACE)
        try:
            events = await bus.read(tenant_stream(uuid.UUID(city.tenant_id)), count=10_000)
        finally:
            await bus.close()
        return [e for _, e in events if e.get("type") == "clip" and e["clip_id"] == clip_id]

    events = asyncio.run(clip_events())
    assert events[0]["state"] == "running" and events[-1]["state"] == "done"
    assert events[-1]["sha256"] == done["sha256"]
    assert [e["progress"] for e in events] == sorted(e["progress"] for e in events)

    def refused(body: dict[str, Any]) -> str:
        response = system.client.post("/clips", headers=city.manager, json={"camera_id": city.camera_id, **body})
        assert response.status_code == 422, response.text
        return str(response.json()["error"]["message"])

    assert "after start" in refused({"start": end.isoformat(), "end": start.isoformat()})
    assert "maximum" in refused({"start": "2026-01-01T00:00:00Z", "end": "2026-01-03T00:00:00Z"})
    assert "no footage" in refused({"start": "2020-01-01T00:00:00Z", "end": "2020-01-01T00:10:00Z"})
    assert "timezone" in refused({"start": "2026-01-01T00:00:00", "end": "2026-01-01T00:10:00"})


def _jpeg_size(data: bytes) -> tuple[int, int]:
    assert data[:2] == b"\xff\xd8", "a JPEG"
    (frame,) = _decode(data)
    return frame.width, frame.height


async def _thumbnails_indexed(system: System, camera_id: str) -> int:
    connection = await asyncpg.connect(system.settings.database_url)
    try:
        found: int = await connection.fetchval(
            "SELECT count(*) FROM recordings WHERE camera_id = $1 AND thumbnail_key IS NOT NULL", uuid.UUID(camera_id))
        return found
    finally:
        await connection.close()


def test_snapshots_live_and_recorded_and_thumbnails(system: System, city: City) -> None:
    live = system.client.get(f"/cameras/{city.camera_id}/snapshot.jpg", headers=city.viewer)
    assert live.status_code == 200 and live.headers["content-type"] == "image/jpeg"
    assert _jpeg_size(live.content) == (320, 180)
    at = _parse(city.runs[0]["start"]) + timedelta(seconds=3.05)
    recorded = system.client.get(f"/cameras/{city.camera_id}/snapshot.jpg", headers=city.viewer,
                                 params={"at": at.isoformat(), "width": 160})
    assert recorded.status_code == 200, recorded.text
    assert _jpeg_size(recorded.content) == (160, 90)
    taken = _parse(recorded.headers["x-frame-time"])
    assert at - timedelta(milliseconds=100) <= taken <= at, "the frame showing at that instant"
    nothing = system.client.get(f"/cameras/{city.camera_id}/snapshot.jpg", headers=city.viewer,
                                params={"at": "2020-01-01T00:00:00Z"})
    assert nothing.status_code == 404

    start, end = _parse(city.runs[0]["start"]) - timedelta(seconds=1), datetime.now(UTC)

    def thumbnails() -> list[dict[str, Any]]:
        answer = system.client.get(f"/cameras/{city.camera_id}/thumbnails", headers=city.viewer,
                                   params={"start": start.isoformat(), "end": end.isoformat()})
        assert answer.status_code == 200, answer.text
        listed: list[dict[str, Any]] = answer.json()["thumbnails"]
        return listed

    listed = thumbnails()  # the recorder makes none: the first request makes them (one per chunk here)
    assert len(listed) >= 3
    assert _jpeg_size(httpx.get(listed[0]["url"], timeout=10).content) == (320, 180)
    assert [t["at_ms"] for t in thumbnails()] == [t["at_ms"] for t in listed], "made once, then listed"
    assert asyncio.run(_thumbnails_indexed(system, city.camera_id)) >= len(listed)


def test_media_tokens_are_bound_to_camera_and_time(system: System, city: City, rtsp_camera: RtspTestCamera) -> None:
    url = f"{system.settings.public_url}/api/v1/cameras/{city.camera_id}/snapshot.jpg"
    assert httpx.get(url).status_code == 401
    token = _media_token(system, city.viewer, city.camera_id)
    assert httpx.get(url, params={"token": token}, timeout=10).status_code == 200
    tampered = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    assert httpx.get(url, params={"token": tampered}).status_code == 401
    who = _session_of(system, city.viewer)  # a real, live session: tokens of made-up users are refused
    key = system.settings.key("media")
    expired = tokens.issue(who, key, kind=tokens.MEDIA, ttl_s=-10, camera_id=uuid.UUID(city.camera_id))
    response = httpx.get(url, params={"token": expired})
    assert response.status_code == 401 and "expired" in response.json()["error"]["message"]
    other_camera = tokens.issue(who, key, kind=tokens.MEDIA, ttl_s=60, camera_id=uuid.uuid4())
    assert httpx.get(url, params={"token": other_camera}).status_code == 403
    access_key_token = tokens.issue(who, system.settings.key("jwt"), kind="access", ttl_s=60)
    assert httpx.get(url, params={"token": access_key_token}).status_code == 401, "an access token is no media token"
    with pytest.raises(ConnectionClosed) as closed, connect(_ws_url(system, city.camera_id, expired)) as ws:
        ws.recv(timeout=10)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401


def test_disabling_a_viewer_closes_their_open_live_socket_with_4401(system: System, city: City) -> None:
    name = f"watcher-{uuid.uuid4().hex[:6]}"
    created = system.client.post("/users", headers=city.manager, json={
        "username": name, "password": "a long password", "role": "viewer", "tenant_id": city.tenant_id})
    assert created.status_code == 201, created.text
    watcher = system.login(name, "a long password")
    token = _media_token(system, watcher, city.camera_id)
    with connect(_ws_url(system, city.camera_id, token, meta=False), open_timeout=10) as ws:
        assert isinstance(ws.recv(timeout=10), bytes)
        assert system.client.post(f"/users/{created.json()['id']}/disable", headers=city.manager).status_code == 200
        disabled_at = time.monotonic()
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                ws.recv(timeout=15)
    assert closed.value.rcvd is not None
    assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (4401, "session revoked")
    assert time.monotonic() - disabled_at < system.settings.session_check_ttl_s + 3


def test_another_city_gets_404_on_every_watching_endpoint(system: System, city: City) -> None:
    admin = system.login("admin", ADMIN_PASSWORD)
    _, manager_b, viewer_b = new_city(system, admin)
    cam = city.camera_id
    window = {"start": city.runs[0]["start"], "end": city.runs[-1]["end"]}
    for headers in (manager_b, viewer_b):
        for path, params in [(f"/cameras/{cam}/timeline", window), (f"/cameras/{cam}/playback.m3u8", window),
                             (f"/cameras/{cam}/live.m3u8", {}), (f"/cameras/{cam}/snapshot.jpg", {}),
                             (f"/cameras/{cam}/thumbnails", window), ("/timeline", {"cameras": cam, **window})]:
            response = system.client.get(path, headers=headers, params=params)
            assert response.status_code == 404, (path, response.status_code)
        assert system.client.post(f"/cameras/{cam}/media-token", headers=headers).status_code == 404
        assert system.client.post("/clips", headers=headers, json={"camera_id": cam, **window}).status_code == 404
    own_clips = system.client.get("/clips", headers=city.manager).json()
    assert own_clips and system.client.get("/clips", headers=manager_b).json() == []
    assert system.client.get(f"/clips/{own_clips[0]['id']}", headers=manager_b).status_code == 404
    foreign = tokens.issue(_session_of(system, viewer_b), system.settings.key("media"),
                           kind=tokens.MEDIA, ttl_s=60, camera_id=uuid.UUID(cam))
    assert httpx.get(f"{system.settings.public_url}/api/v1/cameras/{cam}/snapshot.jpg",
                     params={"token": foreign}).status_code == 404
    with pytest.raises(ConnectionClosed) as closed, connect(_ws_url(system, cam, foreign)) as ws:
        ws.recv(timeout=10)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4404


def test_mosaics_are_per_user_and_shareable_within_the_city(system: System, city: City) -> None:
    body = {"name": "Centro", "layout": "2x2", "cameras": [city.camera_id, None, city.camera_id]}
    twice = system.client.post("/mosaics", headers=city.viewer, json=body)
    assert twice.status_code == 422 and "twice" in twice.json()["error"]["message"]
    body["cameras"] = [city.camera_id]
    created = system.client.post("/mosaics", headers=city.viewer, json=body)
    assert created.status_code == 201, created.text
    mosaic = created.json()
    assert mosaic["cameras"] == [city.camera_id, None, None, None] and mosaic["shared"] is False
    assert system.client.post("/mosaics", headers=city.viewer, json=body).status_code == 409
    too_many = system.client.post("/mosaics", headers=city.viewer, json={**body, "name": "x", "layout": "1x1",
                                                                          "cameras": [city.camera_id, None]})
    assert too_many.status_code == 422 and "1 slots" in too_many.json()["error"]["message"]
    assert system.client.get(f"/mosaics/{mosaic['id']}", headers=city.manager).status_code == 404, "private"
    shared = system.client.put(f"/mosaics/{mosaic['id']}", headers=city.viewer, json={**body, "shared": True})
    assert shared.status_code == 200 and shared.json()["shared"] is True
    assert [m["id"] for m in system.client.get("/mosaics", headers=city.manager).json()] == [mosaic["id"]]
    renamed = system.client.put(f"/mosaics/{mosaic['id']}", headers=city.manager,
                                json={**body, "name": "Centro 4x4", "layout": "4x4", "shared": True})
    assert renamed.status_code == 200 and len(renamed.json()["cameras"]) == 16
    admin = system.login("admin", ADMIN_PASSWORD)
    _, manager_b, _ = new_city(system, admin)
    assert system.client.get(f"/mosaics/{mosaic['id']}", headers=manager_b).status_code == 404
    assert system.client.get("/mosaics", headers=manager_b).json() == []
    foreign = system.client.post("/mosaics", headers=manager_b, json={**body, "name": "spy"})
    assert foreign.status_code == 404
    assert system.client.delete(f"/mosaics/{mosaic['id']}", headers=city.viewer).status_code == 204
    assert system.client.get(f"/mosaics/{mosaic['id']}", headers=city.viewer).status_code == 404


def test_every_playback_export_and_download_is_in_the_audit_log(system: System, city: City) -> None:
    day = {"start": (datetime.now(UTC) - timedelta(hours=1)).isoformat(), "end": datetime.now(UTC).isoformat()}
    assert system.client.get("/audit", headers=city.viewer, params=day).status_code == 403
    entries = system.client.get("/audit", headers=city.manager, params=day).json()
    actions = {e["action"] for e in entries}
    assert {"media.token", "playback", "snapshot", "clip.requested", "clip.exported", "clip.downloaded"} <= actions
    playback = next(e for e in entries if e["action"] == "playback")
    assert playback["camera_id"] == city.camera_id and playback["range_start"] and playback["range_end"]
    exported = next(e for e in entries if e["action"] == "clip.exported")
    assert len(exported["detail"]["sha256"]) == 64


def _audit_ids(system: System, city: City) -> dict[int, str]:
    rows = system.client.get("/audit", headers=city.manager, params={
        "start": (datetime.now(UTC) - timedelta(hours=1)).isoformat(),
        "end": (datetime.now(UTC) + timedelta(minutes=5)).isoformat(), "camera_id": city.camera_id}).json()
    return {int(r["id"]): str(r["action"]) for r in rows}


def _url_expiry(url: str) -> int:
    """When a presigned URL stops working: the directory store's ``expires``, or S3's date plus its lifetime."""
    query = parse_qs(urlsplit(url).query)
    if "expires" in query:
        return int(query["expires"][0])
    if "token" in query:
        return int(jwt.decode(query["token"][0], options={"verify_signature": False})["exp"])
    signed = datetime.strptime(query["X-Amz-Date"][0], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    return int(signed.timestamp()) + int(query["X-Amz-Expires"][0])


def _playlist_urls(url: str, text: str) -> list[str]:
    playlist = m3u8.loads(text, uri=url)
    return [s.absolute_uri for s in playlist.segments] + [s.init_section.absolute_uri for s in playlist.segments
                                                           if s.init_section is not None]


def test_every_way_to_footage_is_audited_once_and_no_url_outlives_its_token(system: System, city: City) -> None:
    base = f"{system.settings.public_url}/api/v1/cameras/{city.camera_id}"
    token = _media_token(system, city.viewer, city.camera_id)
    token_exp = int(jwt.decode(token, options={"verify_signature": False})["exp"])
    first = city.runs[0]
    window = {"start": first["start"], "end": first["end"]}
    at = (_parse(first["start"]) + timedelta(seconds=2)).isoformat()
    clip = next(c for c in system.client.get("/clips", headers=city.manager).json() if c["state"] == "done")

    def live_websocket() -> tuple[int, list[str]]:
        with connect(_ws_url(system, city.camera_id, token), open_timeout=10) as ws:
            ws.recv(timeout=10)
        return 101, []

    def get(path: str, params: dict[str, str], headers: dict[str, str] | None = None,
            urls: Callable[[httpx.Response], list[str]] = lambda _: []) -> Callable[[], tuple[int, list[str]]]:
        def call() -> tuple[int, list[str]]:
            response = httpx.get(f"{system.settings.public_url}/api/v1{path}", params=params, headers=headers,
                                 timeout=30)
            return response.status_code, urls(response) if response.status_code == 200 else []
        return call

    cam = f"/cameras/{city.camera_id}"
    ways: list[tuple[str, Callable[[], tuple[int, list[str]]], str, int]] = [
        ("live websocket", live_websocket, "live.view", token_exp),
        ("live HLS", get(f"{cam}/live.m3u8", {"token": token},
                         urls=lambda r: _playlist_urls(f"{base}/live.m3u8", r.text)), "live.view", token_exp),
        ("live snapshot", get(f"{cam}/snapshot.jpg", {"token": token}), "snapshot", token_exp),
        ("recorded snapshot", get(f"{cam}/snapshot.jpg", {"token": token, "at": at}), "snapshot", token_exp),
        ("playback", get(f"{cam}/playback.m3u8", {**window, "token": token},
                         urls=lambda r: _playlist_urls(f"{base}/playback.m3u8", r.text)), "playback", token_exp),
        ("thumbnails", get(f"{cam}/thumbnails", window, city.viewer,
                           urls=lambda r: [t["url"] for t in r.json()["thumbnails"]]), "thumbnails", 0),
        ("presigned recordings", get(f"{cam}/recordings", window, city.viewer,
                                     urls=lambda r: [c["url"] for c in r.json()["chunks"]]), "recordings.urls", 0),
        ("clip download", get(f"/clips/{clip['id']}/download", {}, city.manager,
                              urls=lambda r: [r.json()["url"]]), "clip.downloaded", 0),
    ]
    for name, way, action, ceiling in ways:
        before = _audit_ids(system, city)
        status, urls = way()
        assert status in (101, 200), (name, status)
        new = {i: a for i, a in _audit_ids(system, city).items() if i not in before}
        assert list(new.values()) == [action], (name, new)
        # a URL handed out on a bearer request lives at most a fresh media token's lifetime
        limit = ceiling or int(time.time()) + system.settings.media_token_ttl_s
        assert all(_url_expiry(url) <= limit for url in urls), (name, [_url_expiry(u) - limit for u in urls])
        assert urls or name not in ("live HLS", "playback", "thumbnails", "presigned recordings", "clip download")
    before = _audit_ids(system, city)
    assert get(f"{cam}/live.m3u8", {"token": token})()[0] == 200
    assert _audit_ids(system, city) == before, "a live HLS reload with the same token is the same look"
    assert get(f"{cam}/recordings", {**window, "urls": "none"}, city.viewer)()[0] == 200
    assert _audit_ids(system, city) == before, "the index without URLs shows no footage"


def test_a_playback_url_dies_with_its_token_and_a_reloaded_playlist_plays_on(system: System, city: City) -> None:
    first = city.runs[0]
    window = {"start": first["start"], "end": first["end"]}
    url = f"{system.settings.public_url}/api/v1/cameras/{city.camera_id}/playback.m3u8"
    who = _session_of(system, city.viewer)
    short = tokens.issue(who, system.settings.key("media"), kind=tokens.MEDIA, ttl_s=3,
                         camera_id=uuid.UUID(city.camera_id))
    response = httpx.get(url, params={**window, "token": short}, timeout=30)
    assert response.status_code == 200 and response.headers["cache-control"] == "no-store"
    segment = m3u8.loads(response.text, uri=url).segments[0]
    assert _fetch(segment.absolute_uri, segment.byterange)
    assert _url_expiry(segment.absolute_uri) <= int(jwt.decode(short, options={"verify_signature": False})["exp"])
    time.sleep(4.5)
    if "X-Amz-Expires" not in segment.absolute_uri:  # the S3 test server (moto) does not enforce expiry; S3 does
        length, _, offset = segment.byterange.partition("@")
        expired = httpx.get(segment.absolute_uri, timeout=30,
                            headers={"range": f"bytes={offset}-{int(offset) + int(length) - 1}"})
        assert expired.status_code == 403, expired.status_code
    assert httpx.get(url, params={**window, "token": short}, timeout=30).status_code == 401
    fresh = _media_token(system, city.viewer, city.camera_id)
    again = m3u8.loads(httpx.get(url, params={**window, "token": fresh}, timeout=30).text, uri=url).segments[0]
    assert _fetch(again.absolute_uri, again.byterange), "the reloaded playlist is signed anew"
