"""A camera's password never leaves media/: not in its status, its status history, the city's events or any log
line — through a wrong password, a stalled stream, a killed server and the reconnects after each; the same
through the API on Ray, its events socket and the actors' and replicas' log files."""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import asyncpg
import pytest
from websockets.sync.client import connect

from actors.camera import CameraSupervisor
from domain.camera_state import CameraState, ErrorReason
from domain.events import tenant_stream
from storage import status_history
from storage.bus import MemoryStreams
from storage.db import create_pool
from storage.objects import open_object_store
from tests.support.cameras import camera_spec, history_of, wait_for
from tests.support.ports import free_port
from tests.support.rtsp_camera import RtspTestCamera
from tests.support.secret_scan import assert_no_secrets, log_file_texts, ray_log_dir, record_texts
from tests.support.system import ADMIN_PASSWORD, System, new_city
from tests.support.system import wait_for as wait_until

pytestmark = pytest.mark.integration

USER = "alice"


@pytest.fixture
def passwords() -> tuple[str, str]:
    """The camera's password, and a wrong one with the characters that break naive URL handling."""
    return f"Pw-{uuid.uuid4().hex[:16]}", f"wr@ng/p:w#{uuid.uuid4().hex[:8]}"


@pytest.fixture
def auth_camera(passwords: tuple[str, str]) -> Iterator[RtspTestCamera]:
    camera = RtspTestCamera(free_port(), ["cam"], auth=(USER, passwords[0]))
    camera.start()
    yield camera
    camera.stop()


def _with_credentials(camera: RtspTestCamera, password: str) -> str:
    return camera.url("cam").replace("rtsp://", f"rtsp://{USER}:{quote(password, safe='')}@")


async def test_wrong_password_stall_and_dead_server_leave_the_password_nowhere(
    pool: asyncpg.Pool, tmp_path: Path, auth_camera: RtspTestCamera, passwords: tuple[str, str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    good, wrong = passwords
    bus = MemoryStreams()
    store = open_object_store((tmp_path / "objects").as_uri())
    seen: list[dict[str, Any]] = []  # every status read along the way, as the API would answer it

    def supervisor(spec: Any) -> CameraSupervisor:
        return CameraSupervisor(spec, store, pool, spool_root=tmp_path / "spool", bus=bus, chunk_max_s=2,
                                source_timeout_s=3)

    async def state_of(s: CameraSupervisor, *states: CameraState) -> bool:
        status = s.status()
        seen.append(status.to_json())
        return status.state in states

    refused = supervisor(await camera_spec(pool, _with_credentials(auth_camera, wrong)))
    recording = supervisor(await camera_spec(pool, _with_credentials(auth_camera, good)))
    await refused.start()
    await recording.start()
    try:
        await wait_for(lambda: state_of(refused, CameraState.ERROR), 30)
        assert refused.status().reason == ErrorReason.UNAUTHORIZED
        await wait_for(lambda: state_of(recording, CameraState.STREAMING), 30)
        auth_camera.pause()  # a stall: the socket stays open and silent
        await wait_for(lambda: state_of(recording, CameraState.RECONNECTING), 20)
        await asyncio.sleep(4)  # reconnects to the silent server time out
        auth_camera.stop()  # the server dies: reconnects are refused
        await asyncio.sleep(3)
        await state_of(recording)
    finally:
        await asyncio.gather(refused.stop(), recording.stop())

    history = [*await history_of(pool, refused.spec), *await history_of(pool, recording.spec)]
    details = [t.detail or "" for t in history]
    assert {t.state for t in history} >= {"error", "stalled", "reconnecting"}, [t.state for t in history]
    events = [e for tenant in {refused.spec.tenant_id, recording.spec.tenant_id}
              for _, e in await bus.read(tenant_stream(tenant), count=1000)]
    assert any(e["type"] == "camera.status" and e["reason"] == "unauthorized" for e in events)
    texts = [json.dumps(seen, default=str), *details, json.dumps(events, default=str), *record_texts(caplog.records)]
    assert_no_secrets(texts, [good, wrong])


@pytest.mark.parametrize("system", ["dir"], indirect=True)  # one runtime is enough: the bus is not the point
def test_through_the_api_status_history_events_and_log_files_hold_no_password(
    system: System, auth_camera: RtspTestCamera, passwords: tuple[str, str], caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    started = time.time()
    good, wrong = passwords
    admin = system.login("admin", ADMIN_PASSWORD)
    tenant, manager, _ = new_city(system, admin)
    ticket = system.client.post("/events/ticket", headers=manager).json()["ticket"]
    ws_url = system.settings.public_url.replace("http", "ws") + f"/api/v1/events?ticket={ticket}"
    messages: list[str] = []
    with connect(ws_url, open_timeout=10) as socket:
        assert json.loads(socket.recv(timeout=10))["type"] == "ready"
        ids = {}
        for name, password in (("refused", wrong), ("recording", good)):
            created = system.client.post("/cameras", headers=manager, json={
                "name": f"{name} {uuid.uuid4().hex[:4]}", "rtsp_url": _with_credentials(auth_camera, password)})
            assert created.status_code == 201, created.text
            assert password not in created.text
            ids[name] = created.json()["id"]
        statuses: list[str] = []

        def state(name: str, *wanted: str) -> bool:
            answer = system.client.get(f"/cameras/{ids[name]}/status", headers=manager)
            statuses.append(answer.text)
            return answer.status_code == 200 and answer.json()["state"] in wanted

        wait_until(lambda: state("refused", "error"), 60)
        wait_until(lambda: state("recording", "streaming"), 60)
        auth_camera.pause()
        wait_until(lambda: state("recording", "stalled", "reconnecting"), 30)
        time.sleep(4)  # reconnects to the silent server time out
        auth_camera.stop()
        time.sleep(3)
        state("recording", "?")
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                messages.append(socket.recv(timeout=max(0.1, deadline - time.monotonic())))
            except TimeoutError:
                break
    assert any('"unauthorized"' in m for m in messages), "the events socket carried the cameras' transitions"
    history = asyncio.run(_history(system.settings.database_url, tenant, list(ids.values())))
    assert "unauthorized" in history and "stalled" in history
    texts = [*statuses, *messages, history, *record_texts(caplog.records),
             *log_file_texts(ray_log_dir(), since=started)]
    assert_no_secrets(texts, [good, wrong])


async def _history(database_url: str, tenant: str, camera_ids: list[str]) -> str:
    pool = await create_pool(database_url, max_size=1)
    try:
        now = datetime.now(UTC)
        rows = [t for cid in camera_ids for t in await status_history.between(
            pool, uuid.UUID(tenant), uuid.UUID(cid), now - timedelta(hours=1), now + timedelta(hours=1))]
    finally:
        await pool.close()
    return json.dumps([(t.state, t.reason, t.detail) for t in rows], default=str)
