"""A camera whose host keeps crashing ends up alone on a host of its own; its neighbours go on elsewhere.

The real Fleet on Ray, with camera hosts: the test kills (ray.kill, so Ray
restarts it empty, as after a segfault) whichever host holds the culprit,
again and again, as a stream that crashes FFmpeg would.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar, cast

import pytest
import ray

from actors.fleet import Fleet
from domain.settings import Settings
from domain.stream_url import parse_stream_url
from storage import cameras, tenants
from storage.db import create_pool, migrate
from tests.support.databases import create_database, drop_database
from tests.support.system import drop_redis_keys

T = TypeVar("T")


def _wait(check: Callable[[], T | None], timeout_s: float) -> T:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if (value := check()) is not None:
            return value
        time.sleep(0.3)
    raise TimeoutError(f"not within {timeout_s} s")


async def _three_cameras(dsn: str) -> list[str]:
    pool = await create_pool(dsn, max_size=1)
    try:
        await migrate(pool)
        tenant = await tenants.create(pool, f"quarantine-{uuid.uuid4().hex[:6]}")
        return [str((await cameras.create(pool, tenant_id=tenant.id, name=f"c{i}", vendor="generic",
                                          stream=parse_stream_url("test://pattern?w=160&h=90&fps=10"))).id)
                for i in range(3)]
    finally:
        await pool.close()


@pytest.fixture
def fleet(ray_local: None, tmp_path: Path) -> Iterator[tuple[Any, Settings, list[str]]]:
    dsn = asyncio.run(create_database())
    prefix = f"gtv-test-{uuid.uuid4().hex[:8]}:"
    settings = Settings(database_url=dsn, object_store_url=(tmp_path / "objects").as_uri(),
                        public_url="http://127.0.0.1:1", secret=uuid.uuid4().hex,
                        namespace=f"gtv-quarantine-{uuid.uuid4().hex[:6]}",
                        bus_url=f"redis://127.0.0.1:6379/0?prefix={prefix}", chunk_max_s=2, reconcile_interval_s=1,
                        spool_dir=str(tmp_path / "spool"), cameras_per_host=3, quarantine_after_crashes=2)
    ids = asyncio.run(_three_cameras(dsn))
    handle = (cast(Any, ray.remote(Fleet))
              .options(name="fleet", namespace=settings.namespace, num_cpus=0, max_concurrency=100)
              .remote(settings))
    ray.get(handle.start.remote(), timeout=120)
    try:
        yield handle, settings, ids
    finally:
        try:
            ray.get(handle.stop.remote(), timeout=90)
        finally:
            ray.kill(handle, no_restart=True)
            asyncio.run(drop_database(dsn))
            asyncio.run(drop_redis_keys(prefix))


def test_the_camera_that_keeps_crashing_its_host_is_quarantined_alone(
    fleet: tuple[Any, Settings, list[str]],
) -> None:
    handle, settings, ids = fleet
    culprit, neighbours = ids[1], [ids[0], ids[2]]

    def placement() -> dict[str, str]:
        return cast(dict[str, str], ray.get(handle.placement.remote(), timeout=30))

    def host_pid(name: str) -> int:
        return cast(int, ray.get(ray.get_actor(name, namespace=settings.namespace).pid.remote(), timeout=60))

    def all_placed() -> dict[str, str] | None:
        now = placement()
        return now if len(now) == 3 else None

    assert len(set(_wait(all_placed, 60).values())) == 1, "K = 3: one host"
    kills = 0
    while not ray.get(handle.quarantined.remote(), timeout=30):
        assert kills < 8, "3 cameras need at most ⌈log₂ 3⌉ = 2 halvings of 2 crashes each, then 2 crashes alone"
        host = placement()[culprit]
        pid = host_pid(host)
        ray.kill(ray.get_actor(host, namespace=settings.namespace), no_restart=False)
        kills += 1

        def placed_again(dead_pid: int = pid) -> bool | None:  # the Fleet saw the crash, the culprit runs again
            now = placement().get(culprit)
            status = ray.get(handle.camera_status.remote(uuid.UUID(culprit)), timeout=30)
            if not (now and status):
                return None
            try:
                return True if host_pid(now) != dead_pid else None
            except ray.exceptions.RayActorError:
                return None  # Ray is still restarting the host under the same name: ask again

        _wait(placed_again, 90)
    assert ray.get(handle.quarantined.remote()) == [culprit]
    final = _wait(all_placed, 60)
    assert [c for c, h in final.items() if h == final[culprit]] == [culprit], "alone on its host"

    def neighbours_recording() -> bool | None:
        statuses = [ray.get(handle.camera_status.remote(uuid.UUID(n)), timeout=30) for n in neighbours]
        return True if all(s and s["state"] == "streaming" and s["chunks_recorded"] >= 1 for s in statuses) else None

    _wait(neighbours_recording, 60)
