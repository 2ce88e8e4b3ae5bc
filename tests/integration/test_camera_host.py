"""A camera host runs K supervisors in one process (here K = 2), without Ray."""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path

import asyncpg
import redis.asyncio

from actors.camera_host import CameraHost
from domain.events import tenant_stream
from domain.settings import Settings
from domain.stream_url import parse_stream_url
from storage import cameras, tenants
from storage.bus import open_bus


async def test_host_runs_and_stops_several_cameras(database_url: str, pool: asyncpg.Pool, tmp_path: Path) -> None:
    prefix = f"gtv-test-{uuid.uuid4().hex[:8]}:"
    settings = Settings(database_url=database_url, object_store_url=tmp_path.as_uri(),
                        public_url="http://127.0.0.1:1", secret="s", chunk_max_s=2, cameras_per_host=2,
                        bus_url=f"redis://127.0.0.1:6379/0?prefix={prefix}", spool_dir=str(tmp_path / "spool"))
    tenant = await tenants.create(pool, f"host-city-{uuid.uuid4().hex[:6]}")
    specs = []
    for name in ("a", "b"):
        camera = await cameras.create(pool, tenant_id=tenant.id, name=name, vendor="generic",
                                      stream=parse_stream_url("test://pattern?w=160&h=90&fps=10"))
        specs.append(camera.spec())
    host = CameraHost(settings, slot=0)
    try:
        for spec in specs:
            await host.add(spec)
        assert await host.running() == {s.camera_id: s.revision for s in specs}
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            statuses = [await host.status(s.camera_id) for s in specs]
            if all(st and st["chunks_recorded"] >= 1 for st in statuses):
                break
            await asyncio.sleep(0.2)
        assert all(st and st["state"] == "streaming" and st["chunks_recorded"] >= 1 for st in statuses)
        await host.remove(specs[0].camera_id)
        assert await host.running() == {specs[1].camera_id: specs[1].revision}
        assert await host.status(specs[0].camera_id) is None
    finally:
        await host.shutdown()
    assert await host.running() == {}
    objects = list((tmp_path / "t" / str(tenant.id)).rglob("*.mp4"))
    assert not list((tmp_path / "spool").rglob("*.chunk")), "everything spooled was stored at stop"
    assert {p.parts[-6] for p in objects} == {str(s.camera_id) for s in specs}

    bus = open_bus(settings.bus_url, namespace="unused")
    try:
        events = [e for _, e in await bus.read(tenant_stream(tenant.id), count=100)]
    finally:
        await bus.close()
    client = redis.asyncio.from_url("redis://127.0.0.1:6379/0")
    await client.delete(*[k async for k in client.scan_iter(match=prefix + "*")])
    await client.aclose()
    for spec in specs:
        states = [e["state"] for e in events if e["camera_id"] == str(spec.camera_id)]
        assert states == ["connecting", "streaming", "stopped"]
