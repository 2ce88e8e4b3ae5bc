"""What each city stores, counted as rows are written and deleted (migration 0017), on real PostgreSQL and the
directory store: recordings, thumbnails, clips and LPR images; the counters equal a recount of the rows after
every write and every deletion (retention, clip expiry, LPR anonymization, a clip deleted), another city's
counters never move, and the plan's storage quota counts all of it."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
from asyncpg import Range

from domain.city_storage import CityStorage
from domain.lpr.queued_read import QueuedRead
from domain.recording import chunk_object_key, thumbnail_object_key
from services.purge_pass import retention_pass
from storage import city_storage, clips, lpr_events, plans, recordings, tenants
from storage.objects import open_object_store

NOW = datetime.now(UTC).replace(microsecond=0)


async def _city(pool: asyncpg.Pool, *, retention_days: int = 30, quota: int | None = None,
                lpr_retention_days: int | None = None) -> tuple[uuid.UUID, uuid.UUID]:
    plan = await plans.create(pool, name=f"stored {uuid.uuid4().hex[:8]}", retention_days=retention_days,
                              camera_quota=10, manager_quota=1, viewer_quota=5, storage_quota_bytes=quota,
                              clip_retention_days=1, lpr_retention_days=lpr_retention_days)
    tenant = await tenants.create(pool, f"stored city {uuid.uuid4().hex[:8]}")
    await plans.assign(pool, tenant.id, plan.id)
    camera = uuid.uuid4()
    await pool.execute("INSERT INTO cameras (id, tenant_id, name, rtsp_url, enabled) VALUES ($1, $2, 'cam',"
                       " 'rtsp://127.0.0.1:9/x', false)", camera, tenant.id)
    return tenant.id, camera


async def _chunk(pool: asyncpg.Pool, tenant: uuid.UUID, camera: uuid.UUID, start: datetime, size: int) -> str:
    key = chunk_object_key(tenant, camera, start)
    await pool.execute(
        "INSERT INTO recordings (tenant_id, camera_id, time_range, object_key, bytes, init_length, codec, width,"
        " height, fragments) VALUES ($1,$2,$3,$4,$5,10,'h264',640,360,'[[10, 990, 0, 60000]]')",
        tenant, camera, Range(start, start + timedelta(minutes=1)), key, size)
    return key


def _read(tenant: uuid.UUID, camera: uuid.UUID, captured_at: datetime, image_sizes: list[int]) -> QueuedRead:
    read_id = uuid.uuid4()
    return QueuedRead(id=read_id, tenant_id=tenant, camera_id=camera, sender="generic", plate="ABC1D23",
                      captured_at=captured_at, received_at=captured_at, dedupe_key=f"k:{read_id}",
                      image_keys=tuple(f"t/{tenant}/lpr/{read_id}-{n}.jpg" for n in range(len(image_sizes))),
                      image_bytes=sum(image_sizes))


async def _matches_rows(pool: asyncpg.Pool, tenant: uuid.UUID) -> CityStorage:
    counted = await city_storage.of_city(pool, tenant)
    assert counted == await city_storage.recounted(pool, tenant)
    return counted


async def test_every_kind_is_counted_at_write_and_delete_and_matches_the_rows(pool: asyncpg.Pool,
                                                                              tmp_path: Path) -> None:
    city, camera = await _city(pool, retention_days=7, lpr_retention_days=7)
    other, other_camera = await _city(pool)
    assert await _matches_rows(pool, city) == CityStorage()

    old, recent = NOW - timedelta(days=10), NOW - timedelta(hours=1)
    old_key = await _chunk(pool, city, camera, old, 5000)
    recent_key = await _chunk(pool, city, camera, recent, 7000)
    await _chunk(pool, other, other_camera, old, 100_000)
    await recordings.set_thumbnail(pool, old_key, thumbnail_object_key(old_key), 300)
    await recordings.set_thumbnail(pool, recent_key, thumbnail_object_key(recent_key), 400)
    old_job = (await clips.create(pool, city, camera, uuid.uuid4(), old, old + timedelta(seconds=30))).id
    await clips.finish(pool, old_job, object_key=f"t/{city}/clips/{old_job}.mp4", size=2000, sha256="0" * 64,
                       first_frame_at=old, last_frame_at=old)
    await pool.execute("UPDATE clips SET finished_at = $2 WHERE id = $1", old_job, NOW - timedelta(days=2))
    queued_job = (await clips.create(pool, city, camera, uuid.uuid4(), recent, recent + timedelta(seconds=30))).id
    outcome = await lpr_events.store_batch(pool, [_read(city, camera, old, [800, 900]),
                                                  _read(city, camera, recent, [1000]),
                                                  _read(other, other_camera, old, [50_000])])
    assert len(outcome.stored) == 3

    stored = await _matches_rows(pool, city)
    assert stored == CityStorage(recordings=12_000, thumbnails=700, clips=2000, lpr_images=2700)
    assert stored.total == 17_400
    again = await lpr_events.store_batch(pool, [_read(city, camera, recent, [1])])  # a new read of the same plate
    assert len(again.stored) == 1 and (await _matches_rows(pool, city)).lpr_images == 2701

    # Retention: the 10-day-old chunk (and its thumbnail), the clip finished 2 days ago, the old read's images.
    await retention_pass(pool, open_object_store((tmp_path / "objects").as_uri()), trigger="test",
                         pseudonym_key=b"k" * 32)
    assert await _matches_rows(pool, city) == CityStorage(recordings=7000, thumbnails=400, clips=0, lpr_images=1001)
    assert await clips.get(pool, city, queued_job) is not None
    await pool.execute("DELETE FROM clips WHERE id = $1", queued_job)  # other tests' exporters claim from all cities
    other_stored = await _matches_rows(pool, other)
    assert other_stored == CityStorage(recordings=100_000, lpr_images=50_000)  # 30-day plan: nothing expired


async def test_the_storage_quota_counts_lpr_images_and_clips_too(pool: asyncpg.Pool, tmp_path: Path) -> None:
    """10 000 bytes of footage under a 20 000-byte quota, then 15 000 bytes of plate images: the city is over its
    quota and loses its own oldest footage; another city with the same footage keeps all of it."""
    city, camera = await _city(pool, quota=20_000)
    other, other_camera = await _city(pool, quota=20_000)
    for n in range(10):
        await _chunk(pool, city, camera, NOW - timedelta(hours=2, minutes=-n), 1000)
        await _chunk(pool, other, other_camera, NOW - timedelta(hours=2, minutes=-n), 1000)
    await lpr_events.store_batch(pool, [_read(city, camera, NOW - timedelta(hours=1), [5000, 5000, 5000])])
    assert (await _matches_rows(pool, city)).total == 25_000

    await retention_pass(pool, open_object_store((tmp_path / "objects").as_uri()), trigger="test")
    after = await _matches_rows(pool, city)
    assert after == CityStorage(recordings=5000, lpr_images=15_000), after
    assert (await _matches_rows(pool, other)).recordings == 10_000


async def test_a_deleted_city_takes_its_counters_with_it(pool: asyncpg.Pool) -> None:
    city, camera = await _city(pool)
    await _chunk(pool, city, camera, NOW - timedelta(hours=1), 1234)
    assert (await _matches_rows(pool, city)).recordings == 1234
    await pool.execute("DELETE FROM tenants WHERE id = $1", city)  # the cascade deletes rows and counters
    assert await pool.fetchval("SELECT count(*) FROM tenant_storage WHERE tenant_id = $1", city) == 0
