"""Migrations and the index queries on the machine's real PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from domain.recording import ChunkMeta, FragmentEntry
from domain.sealing import Sealer
from domain.stream_url import parse_stream_url
from storage import cameras, recordings, tenants
from storage.db import MIGRATIONS_DIR, migrate


async def test_migrations_are_recorded_and_idempotent(pool: asyncpg.Pool) -> None:
    assert await migrate(pool) == []
    names = [r["name"] for r in await pool.fetch("SELECT name FROM schema_migrations ORDER BY name")]
    assert names == sorted(p.name for p in MIGRATIONS_DIR.glob("*.sql"))
    assert names[0] == "0001_initial.sql"


SEALER = Sealer(b"k" * 32)


async def _camera(pool: asyncpg.Pool, tenant_name: str) -> tuple[dict, object]:  # type: ignore[type-arg]
    tenant = await tenants.create(pool, tenant_name)
    camera = await cameras.create(pool, tenant_id=tenant.id, name="gate", vendor="generic",
                                  stream=parse_stream_url("rtsp://u:p%40ss@10.0.0.1/live"), sealer=SEALER)
    return tenant, camera


def _meta(tenant_id, camera_id, start: datetime, seconds: int) -> ChunkMeta:  # type: ignore[no-untyped-def]
    return ChunkMeta(tenant_id, camera_id, start, start + timedelta(seconds=seconds), 1000, 100, "h264",
                     640, 360, (FragmentEntry(100, 900, 0, seconds * 1000),))


async def test_camera_credentials_are_stored_apart_and_tenants_are_isolated(pool: asyncpg.Pool) -> None:
    tenant_a, camera = await _camera(pool, "City A")
    tenant_b = await tenants.create(pool, "City B")
    row = await pool.fetchrow("SELECT rtsp_url, rtsp_password, rtsp_password_sealed FROM cameras WHERE id = $1",
                              camera.id)
    assert row["rtsp_url"] == "rtsp://10.0.0.1/live" and row["rtsp_password"] is None
    assert row["rtsp_password_sealed"].startswith("sealed:") and "p@ss" not in row["rtsp_password_sealed"]
    assert camera.spec(SEALER).url == "rtsp://u:p%40ss@10.0.0.1/live", "opened only to open the stream"
    assert await cameras.get(pool, tenant_a.id, camera.id) is not None
    assert await cameras.get(pool, tenant_b.id, camera.id) is None
    assert await cameras.list_for_tenant(pool, tenant_b.id) == []


async def test_recordings_range_query_is_ms_precise_and_ordered(pool: asyncpg.Pool) -> None:
    tenant, camera = await _camera(pool, "City R")
    t0 = datetime(2026, 5, 1, 12, 0, 0, 123000, tzinfo=UTC)
    for i in (2, 0, 1):
        await recordings.insert(pool, _meta(tenant.id, camera.id, t0 + timedelta(seconds=60 * i), 60))
    rows = await recordings.in_range(pool, tenant.id, camera.id, t0 + timedelta(seconds=59), t0 + timedelta(seconds=61))
    assert [r.start for r in rows] == [t0, t0 + timedelta(seconds=60)]
    assert [f.as_row() for f in rows[0].fragments] == [[100, 900, 0, 60000]]
    assert rows[0].start.microsecond == 123000
    # Half-open ranges: a chunk ending exactly at `start` is not returned.
    rows = await recordings.in_range(pool, tenant.id, camera.id, t0 + timedelta(seconds=180), t0 + timedelta(hours=1))
    assert rows == []
    other = await tenants.create(pool, "City Other")
    assert await recordings.in_range(pool, other.id, camera.id, t0, t0 + timedelta(hours=1)) == []


async def test_index_insert_is_idempotent_and_rejects_bad_ranges(pool: asyncpg.Pool) -> None:
    tenant, camera = await _camera(pool, "City I")
    t0 = datetime(2026, 5, 2, tzinfo=UTC)
    meta = _meta(tenant.id, camera.id, t0, 10)
    assert await recordings.insert(pool, meta) == await recordings.insert(pool, meta)
    with pytest.raises(asyncpg.CheckViolationError):
        await recordings.insert(pool, _meta(tenant.id, camera.id, t0 + timedelta(days=1), 7200))
