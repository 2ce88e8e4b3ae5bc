"""The camera supervisor records a real RTSP camera into each object store backend."""

from __future__ import annotations

import asyncio
import itertools
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import pytest

from actors.camera import CameraSupervisor
from domain.camera_state import CameraState, ErrorReason
from storage import recordings
from storage.objects import open_object_store
from tests.support.cameras import camera_spec, chunks_of, gaps_s, wait_for
from tests.support.media_checks import assert_fragment_table_addresses_moofs, decode_chunk
from tests.support.rtsp_camera import RtspFarm, RtspTestCamera

SECRET = b"x" * 32


@pytest.mark.parametrize("mount", ["cam", "cam-audio", "farm/cam"])
async def test_records_chunks_that_decode_and_match_wall_clock(
    pool: asyncpg.Pool, object_store_url: str, mount: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    server, _, mount = mount.rpartition("/")
    camera: RtspTestCamera | RtspFarm = request.getfixturevalue("rtsp_farm" if server == "farm" else "rtsp_camera")
    store = open_object_store(object_store_url, public_base_url="http://127.0.0.1:1/o", signing_secret=SECRET)
    spec = await camera_spec(pool, camera.url(mount))
    supervisor = CameraSupervisor(spec, store, pool, spool_root=tmp_path / "spool", chunk_max_s=4)
    started = datetime.now(UTC)
    await supervisor.start()
    try:
        async def first_rows():  # type: ignore[no-untyped-def]
            rows = await recordings.in_range(pool, spec.tenant_id, spec.camera_id, started - timedelta(minutes=1),
                                             started + timedelta(minutes=5))
            return rows, datetime.now(UTC)

        async def two_chunks():  # type: ignore[no-untyped-def]
            rows, seen = await first_rows()
            return (rows, seen) if len(rows) >= 2 else None

        rows, seen_at = await wait_for(two_chunks, 70)
        status = supervisor.status()
    finally:
        await supervisor.stop()
    assert status.state == CameraState.STREAMING
    assert (status.codec, status.width, status.height) == ("h264", 640, 360)
    assert status.fps == pytest.approx(25, abs=3)
    newest = rows[-1]
    # The newest chunk ended moments before its row appeared: wall clock within ±1 s.
    assert abs((seen_at - newest.end).total_seconds()) <= 1.0
    assert newest.start >= started - timedelta(seconds=1)
    for before, after in itertools.pairwise(rows):
        assert before.end <= after.start, "chunks of one camera never overlap"
    for row in rows:
        data = await asyncio.to_thread(store.get, row.object_key)
        assert len(data) == row.bytes
        fragments = list(row.fragments)
        assert_fragment_table_addresses_moofs(data, row.init_length, fragments)
        decoded = decode_chunk(data)
        assert (decoded.codec, decoded.width, decoded.height) == ("h264", 640, 360)
        indexed_s = (row.end - row.start).total_seconds()
        assert decoded.end_s - decoded.first_s == pytest.approx(indexed_s, abs=0.1)
        if mount == "cam-audio":
            assert decoded.audio_frames > 0


async def test_unreachable_camera_reports_a_reason_and_keeps_retrying(pool: asyncpg.Pool, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from tests.support.ports import free_port

    store = open_object_store(tmp_path.as_uri())
    spec = await camera_spec(pool, f"rtsp://user:hunter2secret@127.0.0.1:{free_port()}/nothing")
    supervisor = CameraSupervisor(spec, store, pool, spool_root=tmp_path / "spool", source_timeout_s=2)
    await supervisor.start()
    try:
        async def errored():  # type: ignore[no-untyped-def]
            s = supervisor.status()
            return s if s.state == CameraState.ERROR and s.reconnects >= 2 else None

        status = await wait_for(errored, 20)
    finally:
        await supervisor.stop()
    assert status.reason == ErrorReason.UNREACHABLE
    assert "hunter2secret" not in (status.detail or "")


async def test_unknown_path_is_not_found(pool: asyncpg.Pool, shared_camera: RtspTestCamera | RtspFarm,
                                         tmp_path: Path) -> None:
    store = open_object_store(tmp_path.as_uri())
    spec = await camera_spec(pool, shared_camera.url("no-such-mount"))
    supervisor = CameraSupervisor(spec, store, pool, spool_root=tmp_path / "spool", source_timeout_s=3)
    await supervisor.start()
    try:
        async def errored():  # type: ignore[no-untyped-def]
            s = supervisor.status()
            return s if s.state == CameraState.ERROR else None

        status = await wait_for(errored, 20)
    finally:
        await supervisor.stop()
    assert status.reason == ErrorReason.NOT_FOUND


async def test_camera_that_goes_away_and_comes_back_is_recorded_again(
    pool: asyncpg.Pool, tmp_path: Path, camera_server: type[RtspTestCamera | RtspFarm]
) -> None:
    from tests.support.ports import free_port

    camera = camera_server(free_port(), ["cam"])
    camera.start()
    store = open_object_store(tmp_path.as_uri())
    spec = await camera_spec(pool, camera.url("cam"))
    supervisor = CameraSupervisor(spec, store, pool, spool_root=tmp_path / "spool", chunk_max_s=2,
                                  source_timeout_s=2)
    await supervisor.start()
    try:
        async def streaming():  # type: ignore[no-untyped-def]
            return supervisor.status().state == CameraState.STREAMING and supervisor.status().chunks_recorded >= 1

        await wait_for(streaming, 30)
        camera.stop()

        async def lost():  # type: ignore[no-untyped-def]
            return supervisor.status().state in (CameraState.RECONNECTING, CameraState.ERROR)

        await wait_for(lost, 20)
        chunks_before = supervisor.status().chunks_recorded
        camera.start()
        back_at = time.monotonic()

        async def recording_again():  # type: ignore[no-untyped-def]
            s = supervisor.status()
            return s.state == CameraState.STREAMING and s.chunks_recorded > chunks_before

        await wait_for(recording_again, 30)
        assert supervisor.status().reconnects >= 1
        assert time.monotonic() - back_at < 30
    finally:
        await supervisor.stop()
        camera.stop()


async def test_sixty_seconds_are_recorded_whole(pool: asyncpg.Pool, rtsp_camera: RtspTestCamera, tmp_path: Path) -> None:
    store = open_object_store((tmp_path / "objects").as_uri())
    spec = await camera_spec(pool, rtsp_camera.url("cam-audio"))
    supervisor = CameraSupervisor(spec, store, pool, spool_root=tmp_path / "spool", chunk_max_s=10)
    await supervisor.start()
    await wait_for(lambda: _streaming(supervisor), 30)
    await asyncio.sleep(61)
    await supervisor.stop()
    rows = await chunks_of(pool, spec)
    covered_s = sum((r.end - r.start).total_seconds() for r in rows)
    assert covered_s >= 59, covered_s
    assert gaps_s(rows) == [0.0] * (len(rows) - 1), "one run: chunks touch, never overlap"
    for row in rows:
        decoded = decode_chunk(await asyncio.to_thread(store.get, row.object_key))
        assert decoded.frames == pytest.approx((row.end - row.start).total_seconds() * 25, abs=1)
        assert decoded.audio_frames > 0


async def _streaming(supervisor: CameraSupervisor) -> bool:
    return supervisor.status().state == CameraState.STREAMING
