"""Retention on real PostgreSQL and object stores: exact purges over 100 000 chunks, holds, crash mid-pass."""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import asyncpg
import pytest
import ray
from asyncpg import Range

from actors.camera import CameraSupervisor
from actors.retention_actor import RetentionActor
from domain.camera_state import CameraState, ErrorReason
from domain.events import tenant_stream
from domain.recording import chunk_object_key, thumbnail_object_key
from domain.settings import Settings
from runtime.local_ray import init_local_ray
from services.orphan_sweep import orphan_sweep
from services.purge_pass import retention_pass
from storage import cameras, holds, orphans, plans, tenants
from storage.bus import open_bus
from storage.db import create_pool
from storage.objects import ObjectStore, open_object_store
from tests.support.s3_server import S3TestServer
from tests.support.system import REDIS_URL

NOW = datetime.now(UTC).replace(microsecond=0)
CHUNK = timedelta(minutes=3)


@dataclass
class Chunk:
    tenant_id: uuid.UUID
    camera_id: uuid.UUID
    start: datetime
    key: str
    thumbnail: str | None
    size: int

    @property
    def end(self) -> datetime:
        return self.start + CHUNK


async def _city(pool: asyncpg.Pool, plan_name: str, cameras: int) -> tuple[uuid.UUID, list[uuid.UUID]]:
    tenant = await tenants.create(pool, f"{plan_name} city {uuid.uuid4().hex[:6]}")
    plan = next(p for p in await plans.list_all(pool) if p.name == plan_name)
    assert await plans.assign(pool, tenant.id, plan.id)
    ids = [uuid.uuid4() for _ in range(cameras)]
    await pool.executemany("INSERT INTO cameras (id, tenant_id, name, rtsp_url) VALUES ($1, $2, $3, 'rtsp://h/x')",
                           [(c, tenant.id, f"cam {c}") for c in ids])
    return tenant.id, ids


async def _index(pool: asyncpg.Pool, chunks: list[Chunk]) -> None:
    fragments = [[100, 50, 0, 2000]]
    async with pool.acquire() as conn:
        await conn.copy_records_to_table("recordings", columns=[
            "tenant_id", "camera_id", "time_range", "object_key", "bytes", "init_length", "codec", "width", "height",
            "fragments", "thumbnail_key"], records=[
            (c.tenant_id, c.camera_id, Range(c.start, c.end), c.key, c.size, 100, "h264", 640, 360, fragments,
             c.thumbnail) for c in chunks])


def _synthetic(tenant_id: uuid.UUID, camera_id: uuid.UUID, count: int, seed: int) -> list[Chunk]:
    """``count`` back-to-back chunks of one camera ending now; every 50th has a thumbnail."""
    first = NOW - count * CHUNK
    chunks = []
    for i in range(count):
        start = first + i * CHUNK
        key = chunk_object_key(tenant_id, camera_id, start)
        chunks.append(Chunk(tenant_id, camera_id, start, key, thumbnail_object_key(key) if i % 50 == 0 else None,
                            1000 + (i * seed) % 977))
    return chunks


def _materialize(root: Path, chunks: list[Chunk]) -> None:
    """Objects in the directory store: hard links to one file per camera (cheap for 100 000 objects)."""
    sources: dict[uuid.UUID, Path] = {}
    for chunk in chunks:
        source = sources.get(chunk.camera_id)
        if source is None:
            source = sources[chunk.camera_id] = root / f"source-{chunk.camera_id}"
            source.write_bytes(b"chunk")
        for key in filter(None, (chunk.key, chunk.thumbnail)):
            path = root / key
            path.parent.mkdir(parents=True, exist_ok=True)
            os.link(source, path)


def _dir_store(tmp_path: Path) -> tuple[Path, ObjectStore]:
    root = tmp_path / "objects"
    root.mkdir()
    return root, open_object_store(root.as_uri(), public_base_url="http://127.0.0.1:1", signing_secret=b"x")


@pytest.fixture
async def dbpool(database_url: str) -> Any:
    pool = await create_pool(database_url, max_size=4)
    yield pool
    await pool.execute("DELETE FROM tenants WHERE name LIKE '% city %'")
    await pool.execute("DELETE FROM plans WHERE name LIKE 'quota %'")
    await pool.execute("DELETE FROM purge_queue")
    await pool.close()


async def test_one_pass_deletes_exactly_the_expired_unheld_chunks_of_100k(dbpool: asyncpg.Pool, tmp_path: Path) -> None:
    root, store = _dir_store(tmp_path)
    chunks: list[Chunk] = []
    cameras: dict[str, list[uuid.UUID]] = {}
    tenant_of_plan: dict[str, uuid.UUID] = {}
    for seed, plan in enumerate(("7 days", "15 days", "30 days"), 1):
        tenant, ids = await _city(dbpool, plan, 2)
        tenant_of_plan[plan], cameras[plan] = tenant, ids
        for camera in ids:
            chunks += _synthetic(tenant, camera, 17_000, seed)  # 35.4 days each
    assert len(chunks) >= 100_000
    await _index(dbpool, chunks)
    _materialize(root, chunks)
    clip_key = f"t/{tenant_of_plan['7 days']}/clips/{uuid.uuid4()}.mp4"
    store.put(clip_key, b"evidence")

    held_camera, released_camera = cameras["7 days"]
    hold_range = (NOW - timedelta(days=20), NOW - timedelta(days=19))
    admin = uuid.uuid4()
    await holds.create(dbpool, tenant_id=tenant_of_plan["7 days"], camera_ids=[held_camera], start=hold_range[0],
                       end=hold_range[1], reason="assalto", case_number="BO 123/2026", created_by=admin)
    (released,) = await holds.create(dbpool, tenant_id=tenant_of_plan["7 days"], camera_ids=[released_camera],
                                     start=hold_range[0], end=hold_range[1], reason="x", case_number="BO 1",
                                     created_by=admin)
    assert await holds.release(dbpool, released.id, admin, "case closed")

    days = {t: int(p.split()[0]) for p, t in tenant_of_plan.items()}

    def expired(c: Chunk) -> bool:
        return c.end < NOW - timedelta(days=days[c.tenant_id])

    def held(c: Chunk) -> bool:
        return c.camera_id == held_camera and c.start < hold_range[1] and c.end > hold_range[0]

    doomed = [c for c in chunks if expired(c) and not held(c)]
    kept = [c for c in chunks if not (expired(c) and not held(c))]

    started = time.monotonic()
    result = await retention_pass(dbpool, store, trigger="test", now=NOW)
    elapsed = time.monotonic() - started
    ours = list(tenant_of_plan.values())
    report = await dbpool.fetch("SELECT * FROM purge_report WHERE pass_id = $1 AND tenant_id = ANY($2::uuid[])",
                                result.pass_id, ours)  # (the session database may hold other tests' cities)
    assert sum(r["chunks"] for r in report) == len(doomed) and result.chunks >= len(doomed)
    assert sum(r["bytes"] for r in report) == sum(c.size for c in doomed)
    assert sum(r["held_chunks"] for r in report) == sum(1 for c in chunks if expired(c) and held(c)) > 400
    assert result.objects_deleted >= len(doomed) + sum(1 for c in doomed if c.thumbnail)

    rows = {r["object_key"] for r in await dbpool.fetch(
        "SELECT object_key FROM recordings WHERE tenant_id = ANY($1::uuid[])", ours)}
    assert rows == {c.key for c in kept}
    assert all(not (root / c.key).exists() for c in doomed), "every deleted row's object is gone"
    assert all(not (root / c.thumbnail).exists() for c in doomed if c.thumbnail), "and its thumbnail"
    assert all((root / c.key).exists() for c in kept), "every kept row's object is there"
    assert store.get(clip_key) == b"evidence", "exported clips are never purged"
    assert await dbpool.fetchval("SELECT count(*) FROM purge_queue") == 0

    for plan, tenant in tenant_of_plan.items():
        mine = [c for c in doomed if c.tenant_id == tenant]
        lines = [r for r in report if r["tenant_id"] == tenant]
        assert sum(r["chunks"] for r in lines) == len(mine), plan
        assert max(r["last_end"] for r in lines if r["chunks"]) == max(c.end for c in mine)
    again = await retention_pass(dbpool, store, trigger="test", now=NOW)
    assert again.chunks == 0 and again.held_chunks >= sum(r["held_chunks"] for r in report), "idempotent"
    print(f"purged {len(doomed)} of {len(chunks)} chunks in {elapsed:.1f} s")


@pytest.fixture
def s3_store_url(s3_server: S3TestServer) -> str:
    return s3_server.url(f"retention-{uuid.uuid4().hex[:8]}")


@pytest.fixture
def local_ray() -> Iterator[None]:
    if ray.is_initialized():  # the end-to-end suite's Ray
        yield
        return
    init_local_ray(include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


async def test_a_pass_killed_midway_is_finished_by_the_next_and_nothing_dangles(
    dbpool: asyncpg.Pool, database_url: str, s3_store_url: str, local_ray: None, tmp_path: Path,
) -> None:
    store = open_object_store(s3_store_url)
    earlier_passes = await dbpool.fetchval("SELECT coalesce(max(id), 0) FROM retention_passes")
    tenant, (camera,) = await _city(dbpool, "7 days", 1)
    chunks = _synthetic(tenant, camera, 4000, 1)  # 8.3 days: 3 600 expired
    await _index(dbpool, chunks)
    await asyncio.gather(*(asyncio.to_thread(_put_all, store, chunks[i::16]) for i in range(16)))
    listed = {info.key for info in store.list_prefix(f"t/{tenant}/")}
    assert len(listed) == len(chunks) + len([c for c in chunks if c.thumbnail]), (len(listed), len(chunks))
    settings = Settings(database_url=database_url, object_store_url=s3_store_url, public_url="http://127.0.0.1:1",
                        secret="s", retention_interval_s=3600, bus_url=f"{REDIS_URL}?prefix=gtv-test-{uuid.uuid4().hex[:8]}:")

    def actor() -> Any:
        return cast(Any, ray.remote(RetentionActor)).options(num_cpus=0).remote(settings, batch=100)

    first = actor()
    first.run_now.remote("test")
    deadline = time.monotonic() + 60
    while await dbpool.fetchval("SELECT count(*) FROM purge_report WHERE tenant_id = $1 AND chunks > 0", tenant) == 0:
        assert time.monotonic() < deadline
        await asyncio.sleep(0.05)
    ray.kill(first, no_restart=True)

    def remaining_keys() -> set[str]:
        return {info.key for info in store.list_prefix(f"t/{tenant}/")}

    # Objects first, rows second: a row still there at the second look was there at the first, and its object
    # is deleted only after the row is, so the check holds even if the killed process lingers for a moment.
    objects = remaining_keys()
    rows = {r["object_key"] for r in await dbpool.fetch("SELECT object_key FROM recordings WHERE tenant_id = $1", tenant)}
    expired = [c for c in chunks if c.end < NOW - timedelta(days=7)]
    assert len(rows) > len(chunks) - len(expired), "the kill landed mid-pass"
    assert rows <= objects, "no row points at a deleted object, even mid-pass"

    second = actor()  # its start runs a scheduled pass, then ours
    before = datetime.now(UTC)
    ray.get(second.run_now.remote("test"), timeout=120)
    after = datetime.now(UTC)
    ray.get(second.stop.remote(), timeout=30)
    rows = {r["object_key"] for r in await dbpool.fetch("SELECT object_key FROM recordings WHERE tenant_id = $1", tenant)}
    assert all(c.end >= before - timedelta(days=7) for c in chunks if c.key in rows), "every expired chunk went"
    assert all(c.end < after - timedelta(days=7) for c in chunks if c.key not in rows), "nothing else did"
    objects = remaining_keys()
    assert {k for k in objects if k.endswith(".mp4")} == rows, "no object orphaned, none missing"
    assert {k for k in objects if k.endswith(".jpg")} == {c.thumbnail for c in chunks if c.thumbnail and c.key in rows}
    assert await dbpool.fetchval("SELECT count(*) FROM purge_queue") == 0
    states = [r["state"] for r in await dbpool.fetch(
        "SELECT state FROM retention_passes WHERE id > $1 ORDER BY id", earlier_passes)]
    assert states[0] == "interrupted" and "done" in states[1:], states


def _put_all(store: Any, chunks: list[Chunk]) -> None:
    for chunk in chunks:
        store.put(chunk.key, b"chunk")
        if chunk.thumbnail:
            store.put(chunk.thumbnail, b"jpeg")


async def _quota_city(pool: asyncpg.Pool, quota: int | None, chunks: int) -> tuple[uuid.UUID, uuid.UUID, list[Chunk]]:
    """A city on a 30-day plan with a storage quota, one camera, ``chunks`` recent 1 000-byte chunks."""
    plan = await plans.create(pool, name=f"quota {uuid.uuid4().hex[:6]}", retention_days=30, camera_quota=10,
                              manager_quota=1, viewer_quota=5, storage_quota_bytes=quota)
    tenant = await tenants.create(pool, f"quota city {uuid.uuid4().hex[:6]}")
    await plans.assign(pool, tenant.id, plan.id)
    camera = uuid.uuid4()
    await pool.execute("INSERT INTO cameras (id, tenant_id, name, rtsp_url) VALUES ($1, $2, 'cam',"
                       " 'test://pattern?w=160&h=90&fps=5')", camera, tenant.id)
    made = [replace(c, size=1000) for c in _synthetic(tenant.id, camera, chunks, 1)]
    await _index(pool, made)
    return tenant.id, camera, made


async def test_over_quota_purge_oldest_takes_only_the_tenants_own_oldest_unheld_footage(
    dbpool: asyncpg.Pool, tmp_path: Path
) -> None:
    root, store = _dir_store(tmp_path)
    over, over_camera, over_chunks = await _quota_city(dbpool, 5000, 10)
    other, _, other_chunks = await _quota_city(dbpool, None, 10)
    _materialize(root, over_chunks + other_chunks)
    await holds.create(dbpool, tenant_id=over, camera_ids=[over_camera], start=over_chunks[0].start,
                       end=over_chunks[0].end, reason="evidence", case_number="BO 9", created_by=uuid.uuid4())
    result = await retention_pass(dbpool, store, trigger="test", storage_full_policy="purge_oldest")
    left = {r["object_key"] for r in await dbpool.fetch("SELECT object_key FROM recordings WHERE tenant_id = $1", over)}
    assert left == {over_chunks[0].key} | {c.key for c in over_chunks[6:]}, "held first chunk + the newest 4"
    assert result.chunks >= 5
    assert await dbpool.fetchval("SELECT count(*) FROM recordings WHERE tenant_id = $1", other) == 10
    assert all((root / c.key).exists() == (c.key in left) for c in over_chunks)


async def test_over_quota_pause_shows_storage_full_with_an_alert_and_resumes_under_quota(
    dbpool: asyncpg.Pool, tmp_path: Path
) -> None:
    root, store = _dir_store(tmp_path)
    tenant, camera_id, chunks = await _quota_city(dbpool, 5000, 10)
    _materialize(root, chunks)
    await retention_pass(dbpool, store, trigger="test", storage_full_policy="pause")
    assert await dbpool.fetchval("SELECT count(*) FROM recordings WHERE tenant_id = $1", tenant) == 10, "nothing purged"
    (camera,) = [c for c in await cameras.list_enabled(dbpool) if c.id == camera_id]
    spec = camera.spec()
    assert spec.paused and "over its plan's quota" in spec.paused

    prefix = f"gtv-test-{uuid.uuid4().hex[:8]}:"
    bus = open_bus(f"{REDIS_URL}?prefix={prefix}", namespace="test")
    supervisor = CameraSupervisor(spec, store, dbpool, spool_root=tmp_path / "spool", bus=bus)
    await supervisor.start()
    try:
        status = supervisor.status()
        assert (status.state, status.reason) == (CameraState.ERROR, ErrorReason.STORAGE_FULL)
        deadline = time.monotonic() + 10
        while not (alerts := [e for _, e in await bus.read(tenant_stream(tenant)) if e["type"] == "alert"]):
            assert time.monotonic() < deadline
            await asyncio.sleep(0.1)
        assert alerts[0]["kind"] == "storage_full" and alerts[0]["camera_id"] == str(camera_id)
    finally:
        await supervisor.stop()
        await bus.close()
    await dbpool.execute("DELETE FROM recordings WHERE object_key = ANY($1::text[])", [c.key for c in chunks[:6]])
    await retention_pass(dbpool, store, trigger="test", storage_full_policy="pause")
    (camera,) = [c for c in await cameras.list_enabled(dbpool) if c.id == camera_id]
    assert camera.spec().paused is None and camera.spec().revision != spec.revision, "resumed: the Fleet restarts it"


async def test_the_orphan_sweep_lists_each_hour_once_and_fixes_on_the_second_strike(
    dbpool: asyncpg.Pool, tmp_path: Path
) -> None:
    root, store = _dir_store(tmp_path)
    now = datetime.now(UTC)
    hour = now.replace(minute=0, second=0, microsecond=0)
    tenant, (camera,) = await _city(dbpool, "30 days", 1)
    await dbpool.execute("UPDATE cameras SET created_at = $2 WHERE id = $1", camera, hour - timedelta(hours=5))
    chunks = [Chunk(tenant, camera, hour - timedelta(hours=5) + i * CHUNK, chunk_object_key(
        tenant, camera, hour - timedelta(hours=5) + i * CHUNK), None, 10) for i in range(40)]  # 2 hours of chunks
    await _index(dbpool, chunks)
    _materialize(root, chunks)
    lost = chunks[25]
    (root / lost.key).unlink()  # a row whose object is gone
    stray = chunk_object_key(tenant, camera, hour - timedelta(hours=4, minutes=-7, seconds=-1))
    store.put(stray, b"nobody indexes me")  # an object without a row
    in_flight = chunk_object_key(tenant, camera, hour - timedelta(minutes=30))
    store.put(in_flight, b"its row is about to be written")  # an hour still settling

    first = await orphan_sweep(dbpool, store, now=now, policy="fix")
    assert first.prefixes_listed == 3, "hours -5, -4 and -3; -2 and later are not settled yet"
    assert (first.objects_without_rows, first.rows_without_objects, first.fixed) == (1, 1, 0)
    found = {f.object_key: f.kind for f in await orphans.findings(dbpool, tenant)}
    assert found == {stray: "object_without_row", lost.key: "row_without_object"}

    again = await orphan_sweep(dbpool, store, now=now, policy="fix")
    assert again.prefixes_listed == 0 and again.fixed == 0, "nothing listed twice; no fix before the second strike"

    later = await orphan_sweep(dbpool, store, now=now + timedelta(hours=3), policy="fix")
    assert later.fixed == 2
    assert store.stat(stray) is None, "the orphan object is deleted"
    assert await dbpool.fetchval("SELECT count(*) FROM recordings WHERE object_key = $1", lost.key) == 0
    assert store.stat(in_flight) is not None, "an hour that settled since is only reported at first"
    assert {f.object_key for f in await orphans.findings(dbpool, tenant) if f.resolved_at is None} == {in_flight}


class ProbedRetention(RetentionActor):
    """The retention actor, in-process, without its schedule, its disk probe answering what the test says."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self.usage: dict[str, tuple[int, int]] = {}

    async def storage_usage(self) -> dict[str, tuple[int, int]]:
        return dict(self.usage)

    async def _schedule(self) -> None:  # passes run only when the test says
        return


async def _alerts(bus: Any, tenant: uuid.UUID) -> list[dict[str, Any]]:
    return [e for _, e in await bus.read(tenant_stream(tenant)) if e["type"] == "alert"]


async def test_past_the_critical_watermark_the_city_furthest_over_its_share_loses_just_enough_old_unheld_footage(
    dbpool: asyncpg.Pool, database_url: str, tmp_path: Path
) -> None:
    root, _ = _dir_store(tmp_path)
    big, big_camera, big_chunks = await _quota_city(dbpool, None, 10)
    small, _, small_chunks = await _quota_city(dbpool, None, 3)
    terabyte = 10**12
    await dbpool.execute("UPDATE recordings SET bytes = $2 WHERE tenant_id = ANY($1::uuid[])", [big, small], terabyte)
    _materialize(root, big_chunks + small_chunks)
    await holds.create(dbpool, tenant_id=big, camera_ids=[big_camera], start=big_chunks[0].start,
                       end=big_chunks[0].end, reason="evidence", case_number="BO 7", created_by=uuid.uuid4())
    prefix = f"gtv-test-{uuid.uuid4().hex[:8]}:"
    settings = Settings(database_url=database_url, object_store_url=root.as_uri(), public_url="http://127.0.0.1:1",
                        secret="s", bus_url=f"{REDIS_URL}?prefix={prefix}", spool_dir=str(tmp_path / "spool"))
    actor = ProbedRetention(settings)
    actor.usage = {"object_store": (13 * terabyte, int(13.5 * terabyte))}  # 96 %: critical
    try:
        assert await actor.check_storage() == {"object_store": "critical"}
        left = {r["object_key"] for r in await dbpool.fetch("SELECT object_key FROM recordings WHERE tenant_id = $1",
                                                              big)}
        assert left == {big_chunks[0].key} | {c.key for c in big_chunks[3:]}, "held first; 2 oldest un-held went"
        assert await dbpool.fetchval("SELECT count(*) FROM recordings WHERE tenant_id = $1", small) == 3
        assert not (root / big_chunks[1].key).exists() and (root / big_chunks[0].key).exists()
        alerts = await _alerts(actor._bus, small)
        assert [(a["kind"], a["severity"]) for a in alerts] == [("storage_critical", "critical")]

        actor.usage = {"object_store": (5 * terabyte, int(13.5 * terabyte))}
        assert await actor.check_storage() == {"object_store": "ok"}
        assert len(await _alerts(actor._bus, small)) == 1, "no new alert while fine"
    finally:
        await actor.stop()


async def test_past_the_critical_watermark_under_pause_a_city_over_its_share_stops_recording_until_it_is_fine(
    dbpool: asyncpg.Pool, database_url: str, tmp_path: Path
) -> None:
    root, _ = _dir_store(tmp_path)
    tenant, camera_id, chunks = await _quota_city(dbpool, None, 3)
    _materialize(root, chunks)
    settings = Settings(database_url=database_url, object_store_url=root.as_uri(), public_url="http://127.0.0.1:1",
                        secret="s", bus_url=f"{REDIS_URL}?prefix=gtv-test-{uuid.uuid4().hex[:8]}:",
                        storage_full_policy="pause", spool_dir=str(tmp_path / "spool"))
    actor = ProbedRetention(settings)
    actor.usage = {"object_store": (97, 100), "spool": (90, 100)}
    try:
        assert await actor.check_storage() == {"object_store": "critical", "spool": "warning"}
        (camera,) = [c for c in await cameras.list_enabled(dbpool) if c.id == camera_id]
        paused = camera.spec().paused
        assert paused is not None and "critical watermark" in paused
        assert await dbpool.fetchval("SELECT count(*) FROM recordings WHERE tenant_id = $1", tenant) == 3
        kinds = {a["kind"] for a in await _alerts(actor._bus, tenant)}
        assert kinds == {"storage_critical", "storage_warning"}
        actor.usage = {"object_store": (40, 100)}
        await actor.check_storage()
        (camera,) = [c for c in await cameras.list_enabled(dbpool) if c.id == camera_id]
        assert camera.spec().paused is None
    finally:
        await actor.stop()


async def test_a_retention_that_stopped_completing_passes_raises_retention_stalled(
    dbpool: asyncpg.Pool, database_url: str, tmp_path: Path
) -> None:
    tenant, _, _ = await _quota_city(dbpool, None, 1)
    settings = Settings(database_url=database_url, object_store_url=(tmp_path / "o").as_uri(),
                        public_url="http://127.0.0.1:1", secret="s", retention_interval_s=3600,
                        bus_url=f"{REDIS_URL}?prefix=gtv-test-{uuid.uuid4().hex[:8]}:", spool_dir=str(tmp_path / "s"))
    await dbpool.execute("UPDATE retention_passes SET state = 'interrupted' WHERE state = 'running'")
    await dbpool.execute("UPDATE retention_passes SET finished_at = now() - interval '3 hours' WHERE state = 'done'")
    actor = ProbedRetention(settings)
    try:
        assert (await actor.health())["stalled"] is True
        await actor._alert_if_stalled()
        await actor._alert_if_stalled()
        alerts = await _alerts(actor._bus, tenant)
        assert [a["kind"] for a in alerts] == ["retention_stalled"], "once, not at every check"
    finally:
        await actor.stop()
