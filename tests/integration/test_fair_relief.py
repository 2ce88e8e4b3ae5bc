"""Fair relief on real PostgreSQL and the directory store, in a database of its own (so that no other test's
cities share the capacity): two cities without quotas, each with half the capacity as its fair share. One floods
the store with plate images and footage; the other records more footage than it (so "the biggest city's footage
first" would have taken the other's). Past the critical watermark only the flooding city loses footage
(``purge_oldest``) or stops recording (``pause``); the other's footage and recording are untouched."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import pytest
from asyncpg import Range

from domain.lpr.queued_read import QueuedRead
from domain.recording import chunk_object_key
from services.purge_pass import retention_pass
from storage import city_storage, lpr_events, plans, tenants
from storage.objects import open_object_store
from tests.support.databases import fresh_database

NOW = datetime.now(UTC).replace(microsecond=0)
CHUNK_BYTES = 1000


@pytest.fixture
async def own_pool() -> AsyncIterator[asyncpg.Pool]:
    async with fresh_database() as (_, pool):
        yield pool


async def _city(pool: asyncpg.Pool, name: str, chunks: int, root: Path) -> tuple[uuid.UUID, uuid.UUID, list[str]]:
    plan = await plans.create(pool, name=f"relief {name}", retention_days=30, camera_quota=10, manager_quota=1,
                              viewer_quota=5, storage_quota_bytes=None)
    tenant = await tenants.create(pool, name)
    await plans.assign(pool, tenant.id, plan.id)
    camera = uuid.uuid4()
    await pool.execute("INSERT INTO cameras (id, tenant_id, name, rtsp_url) VALUES ($1, $2, 'cam',"
                       " 'test://pattern?w=160&h=90&fps=5')", camera, tenant.id)
    keys = []
    for n in range(chunks):
        start = NOW - timedelta(hours=5) + n * timedelta(minutes=1)
        key = chunk_object_key(tenant.id, camera, start)
        await pool.execute(
            "INSERT INTO recordings (tenant_id, camera_id, time_range, object_key, bytes, init_length, codec, width,"
            " height, fragments) VALUES ($1,$2,$3,$4,$5,10,'h264',640,360,'[[10, 990, 0, 60000]]')",
            tenant.id, camera, Range(start, start + timedelta(minutes=1)), key, CHUNK_BYTES)
        (root / key).parent.mkdir(parents=True, exist_ok=True)
        (root / key).write_bytes(b"x" * 16)
        keys.append(key)
    return tenant.id, camera, keys


async def _flood_plates(pool: asyncpg.Pool, tenant: uuid.UUID, camera: uuid.UUID, reads: int, image_bytes: int) -> None:
    batch = []
    for _ in range(reads):
        read_id = uuid.uuid4()
        batch.append(QueuedRead(id=read_id, tenant_id=tenant, camera_id=camera, sender="generic", plate="FLD0D00",
                                captured_at=NOW - timedelta(minutes=30), received_at=NOW, dedupe_key=f"k:{read_id}",
                                image_keys=(f"t/{tenant}/lpr/{read_id}.jpg",), image_bytes=image_bytes))
    assert len((await lpr_events.store_batch(pool, batch)).stored) == reads


async def _left(pool: asyncpg.Pool, tenant: uuid.UUID) -> set[str]:
    return {r["object_key"] for r in await pool.fetch("SELECT object_key FROM recordings WHERE tenant_id = $1", tenant)}


@pytest.mark.parametrize("policy", ["purge_oldest", "pause"])
async def test_past_the_critical_watermark_only_the_city_over_its_share_gives(
    own_pool: asyncpg.Pool, tmp_path: Path, policy: str
) -> None:
    root = tmp_path / "objects"
    flooding, camera, flooding_keys = await _city(own_pool, "Flooding", 30, root)
    quiet, _, quiet_keys = await _city(own_pool, "Quiet", 45, root)  # more footage than the flooding city
    await _flood_plates(own_pool, flooding, camera, 100, 1000)  # 100 000 bytes of plate images
    stored = await city_storage.every_city(own_pool)
    assert stored[flooding].total == 130_000 and stored[quiet].total == 45_000  # shares: 100 000 each

    # 20 000 bytes must go: all from the flooding city, 30 000 over its share.
    await retention_pass(own_pool, open_object_store(root.as_uri()), trigger="test", storage_full_policy=policy,
                         free_bytes=20_000, capacity_bytes=200_000)

    assert await _left(own_pool, quiet) == set(quiet_keys), "the quiet city's footage is untouched"
    assert all((root / key).exists() for key in quiet_keys)
    paused = {r["id"]: r["recording_paused"] for r in await own_pool.fetch("SELECT id, recording_paused FROM tenants")}
    assert paused[quiet] is None
    if policy == "purge_oldest":
        assert await _left(own_pool, flooding) == set(flooding_keys[20:]), "its 20 oldest chunks went"
        assert not any((root / k).exists() for k in flooding_keys[:20])
    else:
        assert paused[flooding] is not None
        assert await _left(own_pool, flooding) == set(flooding_keys)
