"""Upgrades keep data: a database made by the oldest GT-Vision schema, with data in it, brought up to date by the
migrations, then read back through the current code."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest
from asyncpg import Range

from domain.rbac import Role
from domain.sealing import Sealer
from storage import cameras, plans, recordings, tenants, users
from storage.db import MIGRATIONS_DIR, create_pool, migrate
from storage.secrets_at_rest import seal_at_rest
from tests.support.databases import create_database, drop_database

pytestmark = pytest.mark.integration

OLDEST = sorted(MIGRATIONS_DIR.glob("*.sql"))[0].name
T0 = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)


@pytest.fixture
async def old_database() -> AsyncIterator[asyncpg.Pool]:
    dsn = await create_database()
    pool = await create_pool(dsn, max_size=2)
    try:
        assert await migrate(pool, until=OLDEST) == [OLDEST]
        yield pool
    finally:
        await pool.close()
        await drop_database(dsn)


async def test_the_oldest_schema_with_data_is_upgraded_in_order_and_keeps_everything(
    old_database: asyncpg.Pool,
) -> None:
    pool = old_database
    city, camera, admin, viewer = uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    # What the oldest GT-Vision wrote, in its own columns.
    await pool.execute("INSERT INTO tenants (id, name) VALUES ($1, 'Old Town')", city)
    await pool.executemany(
        "INSERT INTO users (id, tenant_id, username, password_hash, role) VALUES ($1, $2, $3, $4, $5)",
        [(admin, None, "root", "hash-a", "admin"), (viewer, city, "ana", "hash-v", "viewer")])
    await pool.execute(
        "INSERT INTO cameras (id, tenant_id, name, vendor, rtsp_url, rtsp_username, rtsp_password, latitude, longitude)"
        " VALUES ($1, $2, 'gate', 'intelbras', 'rtsp://127.0.0.1:554/cam', 'op', 's3cret', -23.5, -46.6)", camera, city)
    fragments = [[800 + i * 1000, 1000, i * 2000, 2000] for i in range(30)]
    await pool.executemany(
        "INSERT INTO recordings (tenant_id, camera_id, time_range, object_key, bytes, init_length, codec, width,"
        " height, fragments) VALUES ($1, $2, $3, $4, 30800, 800, 'h264', 1280, 720, $5)",
        [(city, camera, Range(T0 + timedelta(minutes=m), T0 + timedelta(minutes=m + 1)), f"old/{m}.mp4", fragments)
         for m in range(3)])

    applied = await migrate(pool)
    later = sorted(p.name for p in MIGRATIONS_DIR.glob("*.sql"))[1:]
    assert applied == later, "every later migration, in order"
    assert await migrate(pool) == [], "and only once"

    town = await tenants.get(pool, city)
    assert town is not None and town.name == "Old Town" and town.time_zone == "America/Sao_Paulo"
    plan = await plans.of_tenant(pool, city)
    assert plan is not None and plan.retention_days == 30, "old cities get the default plan"
    sealer = Sealer(b"k" * 32)
    assert (await seal_at_rest(pool, sealer)).sealed == 1, "the start-up pass seals the password migrations cannot"
    kept = await cameras.get(pool, city, camera)
    assert kept is not None and (kept.name, kept.vendor, kept.latitude, kept.longitude) == ("gate", "intelbras", -23.5,
                                                                                          -46.6)
    assert kept.spec(sealer).url == "rtsp://op:s3cret@127.0.0.1:554/cam" and kept.enabled
    chunks = await recordings.in_range(pool, city, camera, T0, T0 + timedelta(hours=1))
    assert [c.object_key for c in chunks] == ["old/0.mp4", "old/1.mp4", "old/2.mp4"]
    assert [f.as_row() for f in chunks[0].fragments] == fragments and chunks[0].start == T0
    login = await users.credentials(pool, "ana")
    assert login is not None and login[0].role == Role.VIEWER and login[0].tenant_id == city and login[1] == "hash-v"
    assert await users.any_admin(pool)
