"""Back-pressure instead of loss: recording goes on into the spool while the object
store or PostgreSQL is unreachable, and everything is stored and indexed once it returns."""

from __future__ import annotations

import asyncio
import itertools
import time
from pathlib import Path
from uuid import uuid4

import asyncpg
import pytest

from actors.camera import CameraSupervisor
from domain.camera_state import CameraState
from storage.db import create_pool
from storage.objects import open_object_store
from tests.support.cameras import camera_spec, chunks_of, wait_for
from tests.support.rtsp_camera import RtspTestCamera
from tests.support.s3_server import S3TestServer
from tests.support.tcp_proxy import TcpProxy

OUTAGE_S = 30
RECOVERY_S = 60


@pytest.mark.parametrize("broken", ["object_store", "database"])
async def test_outage_loses_nothing(
    broken: str, database_url: str, pool: asyncpg.Pool, s3_server: S3TestServer,
    rtsp_camera: RtspTestCamera, tmp_path: Path,
) -> None:
    spec = await camera_spec(pool, rtsp_camera.url("cam"))
    bucket = f"outage-{uuid4().hex[:8]}"
    direct_store = open_object_store(s3_server.url(bucket))
    proxy = TcpProxy(s3_server.port if broken == "object_store" else 5432).start()
    store = open_object_store(s3_server.url(bucket).replace(f":{s3_server.port}/", f":{proxy.port}/")) \
        if broken == "object_store" else direct_store
    supervisor_pool = (
        await create_pool(database_url.replace(":5432/", f":{proxy.port}/"), max_size=2)
        if broken == "database" else pool
    )
    supervisor = CameraSupervisor(spec, store, supervisor_pool, spool_root=tmp_path, chunk_max_s=2)
    await supervisor.start()
    try:
        async def recording() -> bool:
            return supervisor.status().chunks_recorded >= 2

        await wait_for(recording, 30)
        proxy.cut()
        cut_at = time.monotonic()

        async def spooling() -> bool:
            status = supervisor.status()
            return status.extra["spooled_chunks"] >= 3 and status.extra["upload_error"] is not None

        await wait_for(spooling, OUTAGE_S)
        await asyncio.sleep(max(0.0, OUTAGE_S - (time.monotonic() - cut_at)))
        during = supervisor.status()
        assert during.state == CameraState.STREAMING, "recording goes on during a storage outage"
        assert during.extra["spooled_chunks"] >= OUTAGE_S // 2 - 2
        proxy.restore()

        async def drained() -> bool:
            return supervisor.status().extra["spooled_chunks"] == 0

        await wait_for(drained, RECOVERY_S)
    finally:
        await supervisor.stop()
        proxy.stop()
        if supervisor_pool is not pool:
            await supervisor_pool.close()

    rows = await chunks_of(pool, spec)
    assert (rows[-1].end - rows[0].start).total_seconds() >= OUTAGE_S + 4
    for before, after in itertools.pairwise(rows):
        assert before.end == after.start, "one run, no gap: nothing recorded during the outage was lost"
    for row in rows:
        info = await asyncio.to_thread(direct_store.stat, row.object_key)
        assert info is not None and info.size == row.bytes
    assert await asyncio.to_thread(lambda: list(tmp_path.rglob("*.chunk")) + list(tmp_path.rglob("*.part"))) == []

