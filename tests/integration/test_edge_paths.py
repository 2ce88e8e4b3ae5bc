"""Provisioning the MediaMTX edge against a server that answers as MediaMTX's Control API v3 documents
(tests/support/fake_mediamtx.py): what is sent, and what happens when MediaMTX is down."""

from __future__ import annotations

import asyncio
import base64
import time
from dataclasses import replace
from datetime import UTC, datetime
from uuid import UUID, uuid4

from domain.camera import Camera
from domain.edge_credential import edge_credential
from domain.edge_paths import desired_path, path_name
from domain.settings import Settings
from domain.stream_url import parse_stream_url
from services.edge_paths import EdgePathReport, follow_cameras
from tests.support.fake_mediamtx import FakeMediaMtx, fake_mediamtx
from tests.support.ports import free_port

TENANT = uuid4()


def _camera(url: str, camera_id: UUID | None = None) -> Camera:
    now = datetime.now(UTC)
    return Camera(camera_id or uuid4(), TENANT, "c", "generic", parse_stream_url(url), True, None, None, now, now)


def _settings(api_url: str | None) -> Settings:
    return Settings(database_url="", object_store_url="", public_url="", secret="edge-test", edge_api_url=api_url)


async def test_cameras_are_added_once_with_the_documented_requests() -> None:
    real, pattern = _camera("rtsp://admin:p%40ss@10.1.2.3:554/stream1"), _camera("test://pattern?fps=5")
    async with fake_mediamtx() as fake:
        settings = _settings(fake.url)
        assert await follow_cameras(settings, [real, pattern]) == EdgePathReport(added=1)
        assert fake.changes() == [("POST", f"/v3/config/paths/add/cam/{real.id}",
                                   {"source": "rtsp://admin:p%40ss@10.1.2.3:554/stream1", "sourceOnDemand": True,
                                    "rtspTransport": "tcp"})]
        listing = fake.requests[0]
        assert (listing.method, listing.path, listing.query) == ("GET", "/v3/config/paths/list",
                                                                 "page=0&itemsPerPage=500")
        credential = edge_credential(settings)
        expected = "Basic " + base64.b64encode(f"{credential.user}:{credential.password}".encode()).decode()
        assert {r.authorization for r in fake.requests} == {expected}  # MediaMTX asks GT-Vision: action "api"

        assert await follow_cameras(settings, [real, pattern]) == EdgePathReport()  # nothing left to do
        assert len(fake.changes()) == 1


async def test_a_changed_url_is_patched_and_a_removed_camera_deleted() -> None:
    kept, moved, gone = (_camera(f"rtsp://10.0.0.{i}/s") for i in (1, 2, 3))
    fake = FakeMediaMtx(paths={path_name(c.id): desired_path(c.stream.with_credentials()) for c in (kept, moved, gone)})
    fake.paths["all_others"] = {"source": "publisher"}  # configured by an operator: not GT-Vision's
    async with fake_mediamtx(fake=fake):
        moved = replace(moved, stream=parse_stream_url("rtsp://10.0.0.22/s", "u", "new"))
        report = await follow_cameras(_settings(fake.url), [kept, moved])
        assert report == EdgePathReport(patched=1, deleted=1)
        assert fake.changes() == [
            ("PATCH", f"/v3/config/paths/patch/cam/{moved.id}", {"source": "rtsp://u:new@10.0.0.22/s"}),
            ("DELETE", f"/v3/config/paths/delete/cam/{gone.id}", None),
        ]
        assert set(fake.paths) == {path_name(kept.id), path_name(moved.id), "all_others"}


async def test_many_paths_are_listed_page_by_page() -> None:
    cameras = [_camera(f"rtsp://10.0.{i // 250}.{i % 250}/s") for i in range(1200)]
    fake = FakeMediaMtx(paths={path_name(c.id): desired_path(c.stream.with_credentials()) for c in cameras})
    async with fake_mediamtx(fake=fake):
        assert await follow_cameras(_settings(fake.url), cameras) == EdgePathReport()
        assert [r.query for r in fake.requests] == [f"page={p}&itemsPerPage=500" for p in range(3)]


async def test_mediamtx_down_costs_a_bounded_pass_and_the_next_pass_provisions() -> None:
    camera = _camera("rtsp://10.0.0.9/s")
    port = free_port()
    settings = _settings(f"http://127.0.0.1:{port}")
    started = time.monotonic()
    assert await follow_cameras(settings, [camera]) is None  # nothing listens: logged, not raised
    assert time.monotonic() - started < 5
    fake = FakeMediaMtx(failing=True)
    async with fake_mediamtx(port, fake):
        assert await follow_cameras(settings, [camera]) is None  # 500s: three attempts, then the pass gives up
        assert [r.path for r in fake.requests] == ["/v3/config/paths/list"] * 3
        fake.failing = False
        assert await follow_cameras(settings, [camera]) == EdgePathReport(added=1)
        assert set(fake.paths) == {path_name(camera.id)}


async def test_a_mediamtx_that_never_answers_is_given_up_within_the_pass_budget() -> None:
    done = asyncio.Event()

    async def mute(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(65536)  # takes the request, never answers
        await done.wait()
        writer.close()

    server = await asyncio.start_server(mute, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        started = time.monotonic()
        assert await follow_cameras(_settings(f"http://127.0.0.1:{port}"), [_camera("rtsp://10.0.0.1/s")],
                                    budget_s=1.0) is None
        assert time.monotonic() - started < 3
    finally:
        done.set()
        server.close()
        await server.wait_closed()


async def test_a_refused_change_is_counted_and_the_pass_goes_on() -> None:
    first, second = _camera("rtsp://10.0.0.1/s"), _camera("rtsp://10.0.0.2/s")
    # MediaMTX has the path already (someone added it after the listing): the add is refused with a 400
    fake = FakeMediaMtx(paths={path_name(first.id): desired_path("rtsp://elsewhere/s")}, unlisted={path_name(first.id)})
    async with fake_mediamtx(fake=fake):
        report = await follow_cameras(_settings(fake.url), [first, second])
        assert report == EdgePathReport(added=1, refused=1)
        assert path_name(second.id) in fake.paths


async def test_no_edge_configured_does_nothing() -> None:
    assert await follow_cameras(_settings(None), [_camera("rtsp://10.0.0.1/s")]) is None
