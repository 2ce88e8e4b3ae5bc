"""Camera faults on the real RTSP server: stalls, restarts, bad credentials, bad streams,
B-frames, timestamp resets, and many cameras dropping at once."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from actors.camera import CameraSupervisor
from domain.camera import CameraSpec
from domain.camera_state import CameraState, ErrorReason
from domain.events import tenant_stream
from storage.bus import MemoryStreams
from storage.objects import ObjectStore, open_object_store
from tests.support.cameras import camera_spec, chunks_of, gaps_s, history_of, wait_for
from tests.support.media_checks import decode_chunk
from tests.support.ports import free_port
from tests.support.rtsp_camera import RtspFarm, RtspTestCamera

OUTAGE_S = 10


@pytest.fixture
def store(tmp_path: Path) -> ObjectStore:
    return open_object_store((tmp_path / "objects").as_uri())


@pytest.fixture
def own_camera(camera_server: type[RtspTestCamera | RtspFarm]) -> Iterator[RtspTestCamera | RtspFarm]:
    """A camera server of this test's own (GStreamer's, then the farm), free to pause, stop and restart."""
    camera = camera_server(free_port(), ["cam"])
    camera.start()
    yield camera
    camera.stop()


class Supervisors:
    def __init__(self, pool: asyncpg.Pool, store: ObjectStore, spool: Path) -> None:
        self.pool, self.store, self.spool = pool, store, spool
        self.running: list[CameraSupervisor] = []

    async def start(self, spec: CameraSpec, **options: Any) -> CameraSupervisor:
        supervisor = CameraSupervisor(spec, self.store, self.pool, spool_root=self.spool,
                                      chunk_max_s=options.pop("chunk_max_s", 2), **options)
        await supervisor.start()
        self.running.append(supervisor)
        return supervisor

    async def stop_all(self) -> None:
        await asyncio.gather(*(s.stop() for s in self.running))
        self.running.clear()


@pytest.fixture
async def supervisors(pool: asyncpg.Pool, store: ObjectStore, tmp_path: Path) -> AsyncIterator[Supervisors]:
    harness = Supervisors(pool, store, tmp_path / "spool")
    yield harness
    await harness.stop_all()


async def _recording(supervisor: CameraSupervisor, chunks: int = 1) -> bool:
    status = supervisor.status()
    return status.state == CameraState.STREAMING and status.chunks_recorded >= chunks


async def _state(supervisor: CameraSupervisor, state: CameraState) -> bool:
    return supervisor.status().state == state


async def _all_streaming(supervisors: list[CameraSupervisor]) -> bool:
    return all(s.status().state == CameraState.STREAMING for s in supervisors)


def _states_after(history: list[dict[str, Any]], since: datetime) -> list[str]:
    """The sequence of states since ``since``, repeats (a new reason) collapsed."""
    states = [h.state for h in history if h.at >= since]
    return [s for i, s in enumerate(states) if i == 0 or states[i - 1] != s]


async def test_stall_is_detected_within_5_s_and_recording_resumes(
    pool: asyncpg.Pool, supervisors: Supervisors, own_camera: RtspTestCamera | RtspFarm
) -> None:
    spec = await camera_spec(pool, own_camera.url("cam"))
    supervisor = await supervisors.start(spec)
    await wait_for(lambda: _recording(supervisor), 30)
    paused_at = datetime.now(UTC)
    own_camera.pause()
    await asyncio.sleep(OUTAGE_S)
    own_camera.resume()
    resumed = supervisor.status().chunks_recorded
    await wait_for(lambda: _recording(supervisor, resumed + 2), 30)
    await supervisors.stop_all()

    history = await history_of(pool, spec)
    states = _states_after(history, paused_at)
    assert states[:3] == ["stalled", "reconnecting", "streaming"], states
    stalled_at = next(h.at for h in history if h.state == "stalled" and h.at >= paused_at)
    assert (stalled_at - paused_at).total_seconds() <= 5.6  # 5 s threshold + one monitor tick
    gaps = [g for g in gaps_s(await chunks_of(pool, spec)) if g > 0]
    assert len(gaps) == 1 and gaps[0] <= OUTAGE_S + 2, gaps


async def test_camera_restarted_on_the_same_url_records_again_within_2_s(
    pool: asyncpg.Pool, supervisors: Supervisors, own_camera: RtspTestCamera | RtspFarm
) -> None:
    spec = await camera_spec(pool, own_camera.url("cam"))
    supervisor = await supervisors.start(spec)
    await wait_for(lambda: _recording(supervisor), 30)
    stopped_at = time.monotonic()
    own_camera.stop()
    await asyncio.sleep(OUTAGE_S)
    await asyncio.to_thread(own_camera.start)
    outage_s = time.monotonic() - stopped_at
    back_at = time.monotonic()
    await wait_for(lambda: _state(supervisor, CameraState.STREAMING), 10, interval_s=0.05)
    back_after_s = time.monotonic() - back_at
    before = supervisor.status().chunks_recorded
    await wait_for(lambda: _recording(supervisor, before + 1), 30)
    await supervisors.stop_all()

    assert back_after_s <= 2.0, f"streaming again {back_after_s:.2f} s after the camera came back"
    history = await history_of(pool, spec)
    assert _states_after(history, history[0].at)[:4] == ["connecting", "streaming", "reconnecting", "streaming"]
    gaps = [g for g in gaps_s(await chunks_of(pool, spec)) if g > 0]
    assert len(gaps) == 1 and gaps[0] <= outage_s + 2, (gaps, outage_s)


async def _garbage_server(stop: threading.Event) -> tuple[threading.Thread, int]:
    """Answers every connection with bytes that are not RTSP. Its port is the kernel's choice (never a clash)."""
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    listener.settimeout(0.2)

    def serve() -> None:
        with listener:
            while not stop.is_set():
                try:
                    conn, _ = listener.accept()
                except TimeoutError:
                    continue
                with conn:
                    conn.sendall(b"\x00\xffHELLO not rtsp\r\n\r\n" * 64)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return thread, port


async def test_broken_cameras_get_a_reason_and_a_good_camera_alongside_records_without_gaps(
    pool: asyncpg.Pool, supervisors: Supervisors, rtsp_camera: RtspTestCamera,
    camera_server: type[RtspTestCamera | RtspFarm],
) -> None:
    auth_camera = camera_server(free_port(), ["cam"], auth=("alice", "s3cret"))
    mjpeg_camera = RtspTestCamera(free_port(), ["cam:mjpeg"])
    await asyncio.gather(asyncio.to_thread(auth_camera.start), asyncio.to_thread(mjpeg_camera.start))
    stop_garbage = threading.Event()
    garbage, garbage_port = await _garbage_server(stop_garbage)
    try:
        good = await supervisors.start(await camera_spec(pool, rtsp_camera.url("cam")))
        good_spec = good.spec
        cases = {
            ErrorReason.UNAUTHORIZED: auth_camera.url("cam").replace("rtsp://", "rtsp://alice:wrong@"),
            ErrorReason.UNSUPPORTED_CODEC: mjpeg_camera.url("cam"),
            ErrorReason.BAD_STREAM: f"rtsp://127.0.0.1:{garbage_port}/cam",
        }
        broken = {reason: await supervisors.start(await camera_spec(pool, url), source_timeout_s=3)
                  for reason, url in cases.items()}
        for reason, supervisor in broken.items():
            status = await wait_for(lambda s=supervisor: _errored(s), 30)  # type: ignore[misc]
            assert status.reason == reason, (reason, status)
        authorized = await supervisors.start(await camera_spec(pool, auth_camera.url("cam").replace(
            "rtsp://", "rtsp://alice:s3cret@")))
        await wait_for(lambda: _recording(authorized), 30)
        await wait_for(lambda: _recording(good, 4), 30)
        await supervisors.stop_all()
    finally:
        auth_camera.stop()
        mjpeg_camera.stop()
        stop_garbage.set()
        garbage.join(5)
    rows = await chunks_of(pool, good_spec)
    assert len(rows) >= 4 and gaps_s(rows) == [0.0] * (len(rows) - 1)


async def _errored(supervisor: CameraSupervisor) -> Any:
    status = supervisor.status()
    return status if status.state == CameraState.ERROR else None


async def test_b_frames_over_rtsp_are_recorded_whole(pool: asyncpg.Pool, supervisors: Supervisors) -> None:
    camera = RtspTestCamera(free_port(), ["cam:bframes"])
    await asyncio.to_thread(camera.start)
    try:
        spec = await camera_spec(pool, camera.url("cam"))
        supervisor = await supervisors.start(spec, source_timeout_s=15)
        await wait_for(lambda: _recording(supervisor, 3), 60)
        await supervisors.stop_all()
    finally:
        camera.stop()
    rows = await chunks_of(pool, spec)
    assert all(g >= 0 for g in gaps_s(rows)) and all(r.end > r.start for r in rows)
    assert supervisor.status().extra["dropped_packets"] == 0
    for row in rows:
        data = await asyncio.to_thread(supervisors.store.get, row.object_key)
        decoded = decode_chunk(data)
        seconds = (row.end - row.start).total_seconds()
        assert decoded.frames == pytest.approx(seconds * 25, abs=1), "every frame of every GOP is there"


async def test_timestamp_reset_never_makes_overlapping_or_negative_chunks(
    pool: asyncpg.Pool, supervisors: Supervisors
) -> None:
    spec = await camera_spec(pool, "test://pattern?w=160&h=90&fps=10&reset_every=1")  # resets every 4 s
    supervisor = await supervisors.start(spec, chunk_max_s=60)
    await wait_for(lambda: _recording(supervisor, 3), 30)
    await supervisors.stop_all()
    rows = await chunks_of(pool, spec)
    assert len(rows) >= 3
    assert all(r.end > r.start for r in rows)
    assert all(0 <= g <= 0.2 for g in gaps_s(rows)), gaps_s(rows)


async def test_twenty_cameras_dropped_together_do_not_reconnect_together(
    pool: asyncpg.Pool, supervisors: Supervisors, own_camera: RtspTestCamera | RtspFarm
) -> None:
    specs = [await camera_spec(pool, own_camera.url("cam")) for _ in range(20)]
    running = [await supervisors.start(spec, chunk_max_s=60) for spec in specs]
    try:
        await wait_for(lambda: _all_streaming(running), 60)  # 20 openings on a busy 2-core box, one deadline for all
    except TimeoutError:  # once seen in CI (never alone, where it takes 6 s): say what each camera was doing
        late = [(status.state, status.reason, status.detail) for status in (s.status() for s in running)
                if status.state != CameraState.STREAMING]
        raise AssertionError(f"{len(late)} of 20 not streaming after 60 s (the server running: "
                             f"{own_camera.running()}): {late}") from None
    dropped_at = datetime.now(UTC)
    own_camera.stop()
    await asyncio.sleep(3)
    await asyncio.to_thread(own_camera.start)
    await wait_for(lambda: _all_streaming(running), 60)
    await supervisors.stop_all()
    back = []
    for spec in specs:
        history = await history_of(pool, spec)
        back.append(next(h.at for h in history if h.at > dropped_at and h.state == "streaming"))
    spread_s = (max(back) - min(back)).total_seconds()
    assert spread_s > 0.1, f"all 20 reconnected within {spread_s:.3f} s"


async def test_full_spool_is_an_explicit_error_and_an_alert_not_a_silent_stop(
    pool: asyncpg.Pool, store: ObjectStore, tmp_path: Path
) -> None:
    bus = MemoryStreams()
    spec = await camera_spec(pool, "test://pattern?w=160&h=90&fps=10")
    supervisor = CameraSupervisor(spec, store, pool, spool_root=tmp_path / "spool", bus=bus, has_room=lambda: False)
    await supervisor.start()
    try:
        status = await wait_for(lambda: _errored(supervisor), 20)
    finally:
        await supervisor.stop()
    assert status.reason == ErrorReason.STORAGE_FULL
    events = [e for _, e in await bus.read(tenant_stream(spec.tenant_id), count=100)]
    alerts = [e for e in events if e["type"] == "alert"]
    assert alerts and alerts[0]["kind"] == "storage_full" and alerts[0]["camera_id"] == str(spec.camera_id)
    assert any(e["type"] == "camera.status" and e["reason"] == "storage_full" for e in events)


async def test_a_path_paused_on_the_farm_stalls_its_camera_only(pool: asyncpg.Pool, supervisors: Supervisors) -> None:
    farm = RtspFarm(free_port(), ["a", "b"])
    await asyncio.to_thread(farm.start)
    try:
        paused, neighbour = [await supervisors.start(await camera_spec(pool, farm.url(p))) for p in ("a", "b")]
        await wait_for(lambda: _recording(paused), 30)
        await wait_for(lambda: _recording(neighbour), 30)
        farm.command("pause a")
        await wait_for(lambda: _lost(paused), 15)
        before = neighbour.status().chunks_recorded
        await wait_for(lambda: _recording(neighbour, before + 2), 30)
        farm.command("resume a")
        resumed = paused.status().chunks_recorded
        await wait_for(lambda: _recording(paused, resumed + 1), 30)
        await supervisors.stop_all()
    finally:
        farm.stop()
    assert neighbour.status().reconnects == 0, "the other path never stalled"


async def _lost(supervisor: CameraSupervisor) -> bool:
    return supervisor.status().state in (CameraState.STALLED, CameraState.RECONNECTING, CameraState.ERROR)
