"""Fair clip exports across cities and clips that expire per plan, on real PostgreSQL, Redis and the directory
object store (the API as a plain ASGI app, no Ray): a flooding city does not delay another's job, a city never
runs more jobs at once than its plan allows (several exporters claiming together), a city past its queued limit
gets a 429 that says so while another city is unaffected, and the retention pass deletes old clips (row, object,
manifest) but keeps held and recent ones."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import pytest
from asyncpg import Range

from domain.clip_manifest import clip_manifest_key
from domain.clips import ClipJob
from domain.rbac import Role
from domain.recording import chunk_object_key
from domain.settings import Settings
from services.purge_pass import retention_pass
from storage import clips, holds, plans, tenants
from storage.objects import open_object_store_for
from tests.support.asgi_api import running_api
from tests.support.sessions import access_headers, new_bearer
from tests.support.system import REDIS_URL, drop_redis_keys

NOW = datetime.now(UTC).replace(microsecond=0)
City = Callable[..., Awaitable[tuple[uuid.UUID, uuid.UUID, uuid.UUID]]]


@pytest.fixture
async def city(pool: asyncpg.Pool) -> AsyncIterator[City]:
    """Makes cities (each with a camera, a manager and a minute of indexed footage, on a plan of its own when
    given limits); their clips are deleted afterwards so no other test's claims see them."""
    made: list[uuid.UUID] = []

    async def make(**limits: int) -> tuple[uuid.UUID, uuid.UUID, uuid.UUID]:
        tenant = await tenants.create(pool, f"Niterói clips {uuid.uuid4().hex[:8]}")
        made.append(tenant.id)
        if limits:
            plan = await plans.create(pool, name=f"clips {uuid.uuid4().hex[:8]}", retention_days=30, camera_quota=10,
                                      manager_quota=1, viewer_quota=5, storage_quota_bytes=None, **limits)
            await plans.assign(pool, tenant.id, plan.id)
        camera = uuid.uuid4()
        await pool.execute("INSERT INTO cameras (id, tenant_id, name, rtsp_url, enabled) VALUES ($1, $2, 'Icaraí',"
                           " 'rtsp://127.0.0.1:9/x', false)", camera, tenant.id)
        start = NOW - timedelta(minutes=5)
        await pool.execute(
            "INSERT INTO recordings (tenant_id, camera_id, time_range, object_key, bytes, init_length, codec, width,"
            " height, fragments) VALUES ($1,$2,$3,$4,1000,10,'h264',640,360,'[[10, 990, 0, 60000]]')",
            tenant.id, camera, Range(start, start + timedelta(minutes=1)), chunk_object_key(tenant.id, camera, start))
        manager = await new_bearer(pool, Role.MANAGER, tenant.id)
        return tenant.id, camera, manager.principal.user_id

    yield make
    await pool.execute("DELETE FROM clips WHERE tenant_id = ANY($1::uuid[])", made)


async def _queue(pool: asyncpg.Pool, tenant: uuid.UUID, camera: uuid.UUID, user: uuid.UUID, jobs: int) -> None:
    for _ in range(jobs):
        await clips.create(pool, tenant, camera, user, NOW - timedelta(minutes=5), NOW - timedelta(minutes=4))


async def _export(pool: asyncpg.Pool, job: ClipJob) -> None:
    """What an exporter does once a job is claimed: some work, then the result."""
    await asyncio.sleep(0.01)
    await clips.finish(pool, job.id, object_key=f"t/{job.tenant_id}/clips/{job.id}.mp4", size=1, sha256="0" * 64,
                       first_frame_at=job.start_at, last_frame_at=job.end_at)


async def test_a_flooding_city_does_not_delay_another_citys_export(pool: asyncpg.Pool, city: City) -> None:
    flooding, flooding_camera, flooding_user = await city()
    other, other_camera, other_user = await city()
    await _queue(pool, flooding, flooding_camera, flooding_user, 30)
    await _queue(pool, other, other_camera, other_user, 2)
    order = []
    for _ in range(6):
        job = await clips.claim_next(pool)
        assert job is not None
        order.append(job.tenant_id)
        await _export(pool, job)
    # The other city's first job starts within the first 2 claims, and the cities take turns while both wait.
    assert other in order[:2]
    assert order == [flooding, other, flooding, other, flooding, flooding]
    # Within a city, oldest first.
    claimed = await pool.fetch("SELECT created_at FROM clips WHERE tenant_id = $1 AND state = 'done'"
                               " ORDER BY started_at", flooding)
    assert [r["created_at"] for r in claimed] == sorted(r["created_at"] for r in claimed)


async def test_a_city_never_runs_more_jobs_at_once_than_its_plan_allows(pool: asyncpg.Pool, city: City) -> None:
    single, single_camera, single_user = await city()  # the default: 1 running
    double, double_camera, double_user = await city(clip_jobs_running_max=2)
    await _queue(pool, single, single_camera, single_user, 6)
    await _queue(pool, double, double_camera, double_user, 6)
    running_max = {single: 1, double: 2}
    claimed_total = 0
    for _ in range(8):  # rounds of exporters claiming at the same instant
        claims = await asyncio.gather(*(clips.claim_next(pool) for _ in range(2)))
        running = {t: await pool.fetchval("SELECT count(*) FROM clips WHERE tenant_id = $1 AND state = 'running'",
                                          t) for t in running_max}
        assert all(running[t] <= running_max[t] for t in running_max), running
        jobs = [j for j in claims if j is not None]
        assert len({j.id for j in jobs}) == len(jobs)  # never the same job twice
        claimed_total += len(jobs)
        await asyncio.gather(*(_export(pool, j) for j in jobs[:1]))  # one exporter finishes, the other goes on
    # Both claimers kept busy: 2 claims in the first round (one per city), never more than the limits after.
    assert claimed_total >= 8
    # Two exporters, one city at its limit of 1: the second exporter gets nothing rather than a second job.
    await pool.execute("UPDATE clips SET state = 'done', finished_at = now() WHERE tenant_id = ANY($1::uuid[])"
                       " AND state = 'running'", list(running_max))
    await pool.execute("DELETE FROM clips WHERE tenant_id = ANY($1::uuid[]) AND state = 'queued'", list(running_max))
    await _queue(pool, single, single_camera, single_user, 3)
    first, second = await asyncio.gather(clips.claim_next(pool), clips.claim_next(pool))
    assert next(j for j in (first, second) if j is not None).tenant_id == single
    assert (first is None) != (second is None)


async def test_past_its_queued_limit_a_city_gets_a_429_and_another_city_does_not(
        database_url: str, pool: asyncpg.Pool, city: City, tmp_path: Path) -> None:
    busy, busy_camera, _ = await city(clip_jobs_max=2)
    calm, calm_camera, _ = await city()
    prefix = f"gtv-fairclips-{uuid.uuid4().hex[:8]}:"
    settings = Settings(database_url=database_url, object_store_url=(tmp_path / "objects").as_uri(),
                        public_url="http://127.0.0.1:1", secret="fair-clips-test-secret",
                        bus_url=f"{REDIS_URL}?prefix={prefix}", spool_dir=str(tmp_path / "spool"))
    busy_manager = access_headers(settings, await new_bearer(pool, Role.MANAGER, busy))
    calm_manager = access_headers(settings, await new_bearer(pool, Role.MANAGER, calm))
    start, end = NOW - timedelta(minutes=5), NOW - timedelta(minutes=4)

    def clip(camera: uuid.UUID) -> dict[str, str]:
        return {"camera_id": str(camera), "start": start.isoformat(), "end": end.isoformat()}

    try:
        async with running_api(settings) as api:
            for _ in range(2):
                answer = await api.post("/api/v1/clips", json=clip(busy_camera), headers=busy_manager)
                assert answer.status_code == 202, answer.text
            refused = await api.post("/api/v1/clips", json=clip(busy_camera), headers=busy_manager)
            assert refused.status_code == 429, refused.text
            message = refused.json()["error"]["message"]
            assert "allows 2 clip exports queued or running" in message and "this city has 2" in message
            assert await clips.pending(pool, busy) == 2  # nothing was queued
            calm_answer = await api.post("/api/v1/clips", json=clip(calm_camera), headers=calm_manager)
            assert calm_answer.status_code == 202, calm_answer.text
            # Once a job is done, the busy city has room again.
            job = await clips.claim_next(pool)
            while job is not None and job.tenant_id != busy:
                await _export(pool, job)
                job = await clips.claim_next(pool)
            assert job is not None
            await _export(pool, job)
            again = await api.post("/api/v1/clips", json=clip(busy_camera), headers=busy_manager)
            assert again.status_code == 202, again.text
            plan = await api.get(f"/api/v1/tenants/{busy}/plan", headers=busy_manager)
            assert plan.json()["clip_jobs_max"] == 2 and plan.json()["clip_jobs_running_max"] == 1
            admin = access_headers(settings, await new_bearer(pool, Role.ADMIN, None))
            made = await api.post("/api/v1/plans", headers=admin, json={
                "name": f"export-heavy {uuid.uuid4().hex[:6]}", "retention_days": 30, "camera_quota": 10,
                "clip_jobs_max": 50, "clip_jobs_running_max": 3, "clip_retention_days": 90})
            assert made.status_code == 201, made.text
            assert {k: made.json()[k] for k in ("clip_jobs_max", "clip_jobs_running_max", "clip_retention_days")} == {
                "clip_jobs_max": 50, "clip_jobs_running_max": 3, "clip_retention_days": 90}
    finally:
        await drop_redis_keys(prefix)


async def test_the_retention_pass_deletes_old_clips_but_not_held_or_recent_ones(
        pool: asyncpg.Pool, city: City, tmp_path: Path) -> None:
    tenant, camera, user = await city(clip_retention_days=7)
    keeper, keeper_camera, keeper_user = await city()  # no clip retention: kept until deleted
    store = open_object_store_for(Settings(database_url="postgresql://unused", object_store_url=(
        tmp_path / "objects").as_uri(), public_url="http://127.0.0.1:1", secret="x"))

    async def clip(owner: uuid.UUID, cam: uuid.UUID, by: uuid.UUID, finished_days_ago: int,
                   earlier_min: int = 0) -> str:
        clip_id = uuid.uuid4()
        key = f"t/{owner}/clips/{clip_id}.mp4"
        start = NOW - timedelta(days=finished_days_ago, minutes=30 + earlier_min)
        await pool.execute(
            "INSERT INTO clips (id, tenant_id, camera_id, requested_by, start_at, end_at, state, object_key,"
            " created_at, started_at, finished_at) VALUES ($1,$2,$3,$4,$5,$6,'done',$7,$8,$8,$8)",
            clip_id, owner, cam, by, start, start + timedelta(minutes=1), key, NOW - timedelta(days=finished_days_ago))
        store.put(key, b"mp4")
        store.put(clip_manifest_key(key), b"{}")
        return key

    old = await clip(tenant, camera, user, 10)
    held = await clip(tenant, camera, user, 10, earlier_min=120)
    recent = await clip(tenant, camera, user, 1)
    unlimited = await clip(keeper, keeper_camera, keeper_user, 400)
    held_row = await pool.fetchrow("SELECT start_at, end_at FROM clips WHERE object_key = $1", held)
    await holds.create(pool, tenant_id=tenant, camera_ids=[camera], start=held_row["start_at"],
                       end=held_row["end_at"], reason="inquérito", case_number="BO 42/2026", created_by=user)
    # the old clip's range is before the hold's: the hold does not cover it
    old_range = await pool.fetchrow("SELECT start_at, end_at FROM clips WHERE object_key = $1", old)
    assert old_range["start_at"] >= held_row["end_at"]

    await retention_pass(pool, store, trigger="test", now=NOW)

    remaining = {r["object_key"] for r in await pool.fetch(
        "SELECT object_key FROM clips WHERE tenant_id = ANY($1::uuid[])", [tenant, keeper])}
    assert remaining == {held, recent, unlimited}
    assert store.stat(old) is None and store.stat(clip_manifest_key(old)) is None
    for key in (held, recent, unlimited):
        assert store.stat(key) is not None and store.stat(clip_manifest_key(key)) is not None
    assert await pool.fetchval("SELECT count(*) FROM purge_queue WHERE object_key = ANY($1::text[])",
                               [old, clip_manifest_key(old)]) == 0
    audits = await pool.fetch("SELECT tenant_id, detail FROM audit_log WHERE action = 'retention.clips_expired'"
                              " AND tenant_id = ANY($1::uuid[])", [tenant, keeper])
    assert [(a["tenant_id"], a["detail"]["clips"], a["detail"]["held_clips"]) for a in audits] == [(tenant, 1, 1)]
    assert audits[0]["detail"]["clip_retention_days"] == 7


async def test_a_job_queued_by_any_process_is_claimed_at_once_by_the_idle_exporter(
    pool: asyncpg.Pool, database_url: str, city: City, tmp_path: Path
) -> None:
    """No wake call from the API (its call to the actor may be lost, or there are several exporters): the
    exporter hears the queued job from PostgreSQL (LISTEN/NOTIFY), not at its next 5 s look."""
    from actors.clip_exporter import ClipExporter

    prefix = f"gtv-clipwake-{uuid.uuid4().hex[:8]}:"
    settings = Settings(database_url=database_url, object_store_url=(tmp_path / "objects").as_uri(),
                        public_url="http://127.0.0.1:1", secret=uuid.uuid4().hex,
                        bus_url=f"{REDIS_URL}?prefix={prefix}", clip_work_dir=str(tmp_path / "work"))
    tenant, camera, user = await city()
    exporter = ClipExporter(settings)
    await exporter.start()
    try:
        await asyncio.sleep(1.0)  # idle: its first look found nothing, the next is 5 s away
        for _ in range(3):
            await _queue(pool, tenant, camera, user, 1)
            waited = None
            for _ in range(100):
                waited = await pool.fetchval("SELECT extract(epoch FROM started_at - created_at) FROM clips"
                                             " WHERE tenant_id = $1 ORDER BY created_at DESC LIMIT 1", tenant)
                if waited is not None:
                    break
                await asyncio.sleep(0.02)
            assert waited is not None and waited < 1.0, f"claimed after {waited} s"
            for _ in range(250):  # exported (or failed: the test footage has no object) before the next
                if await clips.pending(pool, tenant) == 0:
                    break
                await asyncio.sleep(0.02)
    finally:
        await exporter.stop()
        await drop_redis_keys(prefix)
