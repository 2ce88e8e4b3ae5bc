"""City coordinators on real Ray and PostgreSQL (a database of its own, so only these cities are coordinated):
both cities' coordinators run in one city-host process, placed as the Fleet's reconcile pass places them; city A
floods (100 clip jobs, plate images past its quota, 50 live viewers) and its coordinator counts it all while B's
stays as it was; the host is killed mid-flood, Ray restarts it empty, the next pass places the cities again and
each coordinator rebuilds from PostgreSQL with the same counts."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import pytest
import ray

from actor_client.names import city_host_name
from actors.city_hosts import CityHosts
from domain.lpr.queued_read import QueuedRead
from domain.settings import Settings
from services import viewer_admission
from storage import clips, lpr_events, plans, tenants
from tests.support.databases import fresh_database
from tests.support.system import NAMESPACE

NOW = datetime.now(UTC).replace(microsecond=0)
QUOTA = 100_000


@pytest.fixture
async def own_database() -> AsyncIterator[tuple[str, asyncpg.Pool]]:
    async with fresh_database() as database:
        yield database


async def _city(pool: asyncpg.Pool, name: str) -> tuple[uuid.UUID, uuid.UUID]:
    plan = await plans.create(pool, name=f"coordinated {name}", retention_days=30, camera_quota=10, manager_quota=1,
                              viewer_quota=5, storage_quota_bytes=QUOTA, clip_jobs_max=200, live_viewers_max=100)
    tenant = await tenants.create(pool, name)
    await plans.assign(pool, tenant.id, plan.id)
    camera = uuid.uuid4()
    await pool.execute("INSERT INTO cameras (id, tenant_id, name, rtsp_url, enabled) VALUES ($1, $2, 'cam',"
                       " 'rtsp://127.0.0.1:9/x', false)", camera, tenant.id)
    return tenant.id, camera


async def _flood(pool: asyncpg.Pool, city: uuid.UUID, camera: uuid.UUID) -> None:
    for _ in range(100):
        await clips.create(pool, city, camera, uuid.uuid4(), NOW - timedelta(minutes=5), NOW - timedelta(minutes=4))
    reads = []
    for _ in range(150):  # 150 000 bytes of plate images: past the 100 000-byte quota
        read_id = uuid.uuid4()
        reads.append(QueuedRead(id=read_id, tenant_id=city, camera_id=camera, sender="generic", plate="FLD0D00",
                                captured_at=NOW, received_at=NOW, dedupe_key=f"k:{read_id}",
                                image_keys=(f"t/{city}/lpr/{read_id}.jpg",), image_bytes=1000))
    await lpr_events.store_batch(pool, reads)
    for _ in range(50):
        await viewer_admission.admit(pool, city, camera, None)


def _counts(state: dict[str, Any] | None) -> dict[str, Any]:
    assert state is not None
    return {k: state[k] for k in ("storage", "total_bytes", "share_bytes", "excess_bytes", "clip_jobs",
                                  "live_viewers", "cameras")}


async def _state_when(hosts: CityHosts, city: uuid.UUID, expected: dict[str, Any], within_s: float) -> dict[str, Any]:
    """The coordinator's state once it shows ``expected`` (it refreshes every few seconds)."""
    deadline = asyncio.get_running_loop().time() + within_s
    while True:
        state = await hosts.state(city)
        if state is not None and all(state[k] == v for k, v in expected.items()):
            return state
        assert asyncio.get_running_loop().time() < deadline, (state, expected)
        await asyncio.sleep(0.5)


async def test_a_killed_city_host_comes_back_with_the_same_counts(
    ray_local: None, own_database: tuple[str, asyncpg.Pool], tmp_path: Path
) -> None:
    dsn, pool = own_database
    a, a_camera = await _city(pool, "Flooding city")
    b, b_camera = await _city(pool, "Quiet city")
    await clips.create(pool, b, b_camera, uuid.uuid4(), NOW - timedelta(minutes=5), NOW - timedelta(minutes=4))
    # A namespace of its own: a system another test started runs its own city-host-0 in the shared one.
    namespace = f"{NAMESPACE}-cities-{uuid.uuid4().hex[:6]}"
    settings = Settings(database_url=dsn, object_store_url=(tmp_path / "objects").as_uri(),
                        public_url="http://127.0.0.1:1", secret="s", namespace=namespace,
                        spool_dir=str(tmp_path / "spool"))
    hosts = CityHosts(settings)
    try:
        assert await hosts.reconcile(pool) == {"placed": 2, "removed": 0}
        b_before = _counts(await hosts.state(b))
        assert b_before["clip_jobs"]["queued"] == 1 and b_before["live_viewers"] == 0

        await _flood(pool, a, a_camera)
        flooded = _counts(await _state_when(hosts, a, {"live_viewers": 50}, 20))
        assert flooded["clip_jobs"]["queued"] == 100 and flooded["storage"]["lpr_images"] == 150_000
        assert flooded["share_bytes"] == QUOTA and flooded["excess_bytes"] == 50_000
        assert _counts(await hosts.state(b)) == b_before, "the quiet city's coordinator saw nothing of it"
        a_state, b_state = await hosts.state(a), await hosts.state(b)
        assert a_state is not None and b_state is not None
        assert a_state["host"] == b_state["host"] == city_host_name(0), "both cities in one process"
        pid = a_state["host_pid"]

        ray.kill(ray.get_actor(city_host_name(0), namespace=namespace), no_restart=False)  # mid-flood
        for _ in range(100):  # Ray restarts it empty; the next reconcile pass places both cities again
            try:
                if (await hosts.reconcile(pool))["placed"] == 2:
                    break
            except Exception:
                pass
            await asyncio.sleep(0.2)
        a_after, b_after = await hosts.state(a), await hosts.state(b)
        assert a_after is not None and b_after is not None
        assert a_after["host_pid"] != pid, "a new process, rebuilt from PostgreSQL"
        assert _counts(a_after) == flooded and _counts(b_after) == b_before, "the same counts after the kill"
    finally:
        await hosts.close()
