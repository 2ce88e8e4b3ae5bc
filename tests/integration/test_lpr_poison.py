"""Poisoned plate reads on real PostgreSQL, Redis and both intakes (no Ray): reads that can never be stored are
isolated into ``lpr_dead_letters`` and confirmed, every other read is stored, in bounded time; a PostgreSQL
outage is retried, never dead-lettered; partitions stay within the writer's window."""

from __future__ import annotations

import random
import string
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import pytest

from actors.lpr_writer import BATCH_MAX
from domain.lpr.bounds import month_of, premade_months
from domain.lpr.queued_read import QueuedRead
from domain.lpr.reads import PlateRead
from services.lpr_write import write_batch
from storage import lpr_dead_letters, lpr_events
from storage.bus import RedisBus
from storage.db import create_pool, migrate
from storage.lpr_intake import LprIntake, PostgresIntake, RedisIntake
from storage.objects import DirObjectStore
from storage.watchlist_cache import WatchlistCache
from tests.support.databases import create_database, drop_database
from tests.support.system import REDIS_URL, drop_redis_keys
from tests.support.tcp_proxy import TcpProxy

NOW = datetime.now(UTC)


@pytest.fixture
async def prefix() -> AsyncIterator[str]:
    prefix = f"gtv-poison-{uuid.uuid4().hex[:8]}:"
    yield prefix
    await drop_redis_keys(prefix)


@pytest.fixture(params=["redis", "postgres"])
async def intake(request: pytest.FixtureRequest, pool: asyncpg.Pool, prefix: str) -> AsyncIterator[LprIntake]:
    await pool.execute("DELETE FROM lpr_intake")
    opened: LprIntake = RedisIntake(REDIS_URL, prefix=prefix) if request.param == "redis" else PostgresIntake(pool)
    yield opened
    await opened.close()


def _read(tenant: uuid.UUID, camera: uuid.UUID, n: int, **changes: object) -> QueuedRead:
    read = PlateRead(plate=f"P{n:06d}", captured_at=NOW - timedelta(minutes=5, milliseconds=n), confidence=90.0)
    queued = QueuedRead.of(read, tenant_id=tenant, camera_id=camera, sender="generic", received_at=NOW)
    return QueuedRead(**{**{f: getattr(queued, f) for f in queued.__dataclass_fields__}, **changes})  # type: ignore[arg-type]


async def _drain(intake: LprIntake, pool: asyncpg.Pool, store: DirObjectStore, bus: RedisBus) -> int:
    """The writer's loop, without Ray: take up to BATCH_MAX, write, confirm — until the intake is empty."""
    watchlists, batches = WatchlistCache(pool), 0
    while entries := await intake.take(BATCH_MAX, block_s=0.1):
        await write_batch([r for _, r in entries], pool, store, bus, watchlists)
        await intake.confirm([i for i, _ in entries])
        batches += 1
    return batches


async def test_poisoned_reads_among_10000_are_dead_lettered_and_the_others_stored(
    intake: LprIntake, pool: asyncpg.Pool, tmp_path: Path, prefix: str
) -> None:
    tenant, camera = uuid.uuid4(), uuid.uuid4()
    reads = [_read(tenant, camera, n) for n in range(10_000)]
    huge_id = "".join(random.choices(string.ascii_letters + string.digits, k=5 * 1024))  # incompressible
    poisoned = {
        1234: ("year 9999", {"captured_at": datetime(9999, 12, 31, 23, 59, tzinfo=UTC)}),
        4321: ("NUL", {"vehicle_color": "pra\x00ta"}),
        6789: ("5 KB event id", {"dedupe_key": f"{camera}:id:{huge_id}"}),
        8000: ("lone surrogate", {"vehicle_type": "car\udc80"}),
        9001: ("three years ago", {"captured_at": NOW - timedelta(days=3 * 365)}),
    }
    for n, (_, change) in poisoned.items():
        reads[n] = _read(tenant, camera, n, **change)
    for read in reads:  # straight into the intake, as if a webhook had skipped its validation
        await intake.append(read)
    store = DirObjectStore(tmp_path / "objects", public_base_url="http://127.0.0.1:1", signing_secret=b"k")
    bus = RedisBus(REDIS_URL, prefix=prefix)

    started = time.monotonic()
    await _drain(intake, pool, store, bus)
    elapsed = time.monotonic() - started
    assert elapsed < 90, f"isolating 5 poisoned reads took {elapsed:.0f} s"

    stored = {r["id"] for r in await pool.fetch("SELECT id FROM lpr_events WHERE tenant_id = $1", tenant)}
    assert stored == {r.id for n, r in enumerate(reads) if n not in poisoned}, "every other read is stored"
    letters = await lpr_dead_letters.page(pool, tenant, before_id=None, limit=100)
    assert {letter.read_id for letter in letters} == {reads[n].id for n in poisoned}
    errors = {letter.read_id: letter.error for letter in letters}
    assert "outside the months" in errors[reads[1234].id] and "outside the months" in errors[reads[9001].id]
    assert "CharacterNotInRepertoire" in errors[reads[4321].id] or "0x00" in errors[reads[4321].id]
    assert "index row" in errors[reads[6789].id] or "ProgramLimit" in errors[reads[6789].id]
    assert "surrogate" in errors[reads[8000].id]
    assert all(letter.camera_id == camera and QueuedRead.from_json(letter.read).id == letter.read_id
               for letter in letters if letter.read_id != reads[4321].id)
    assert await lpr_dead_letters.count(pool, tenant) == 5
    assert await intake.backlog() == 0, "dead letters are confirmed: never retried again"
    assert await intake.take(10, block_s=0.1) == []
    old_partitions = await pool.fetchval(
        "SELECT count(*) FROM pg_class WHERE relname IN ('lpr_events_9999_12', $1)",
        f"lpr_events_{month_of(NOW - timedelta(days=3 * 365)):%Y_%m}")
    assert old_partitions == 0, "no partition is made outside the writer's window"

    # The writer dies after dead-lettering and before confirming: the same reads again are dead-lettered once.
    await write_batch([reads[n] for n in poisoned], pool, store, bus, WatchlistCache(pool))
    assert await lpr_dead_letters.count(pool, tenant) == 5
    await bus.close()


async def test_postgresql_down_is_retried_and_never_dead_lettered(
    pool: asyncpg.Pool, database_url: str, tmp_path: Path, prefix: str
) -> None:
    tenant, camera = uuid.uuid4(), uuid.uuid4()
    reads = [_read(tenant, camera, n) for n in range(50)] + [_read(tenant, camera, 50, vehicle_color="\x00")]
    proxy = TcpProxy(5432).start()
    through_proxy = await create_pool(database_url.replace(":5432/", f":{proxy.port}/"), max_size=2)
    store = DirObjectStore(tmp_path / "objects", public_base_url="http://127.0.0.1:1", signing_secret=b"k")
    bus = RedisBus(REDIS_URL, prefix=prefix)
    try:
        proxy.cut()
        with pytest.raises((OSError, asyncpg.PostgresConnectionError, asyncpg.InterfaceError)):
            await write_batch(reads, through_proxy, store, bus, WatchlistCache(pool))
        assert await lpr_dead_letters.count(pool, tenant) == 0, "an outage is not the reads' fault"
        proxy.restore()
        outcome, _ = await write_batch(reads, through_proxy, store, bus, WatchlistCache(pool))
        assert len(outcome.stored) == 50 and [r.id for r, _ in outcome.refused] == [reads[50].id]
        assert await lpr_dead_letters.count(pool, tenant) == 1
    finally:
        await through_proxy.close()
        proxy.stop()
        await bus.close()


async def test_the_partitions_of_the_current_month_and_its_neighbours_are_made_ahead() -> None:
    # A database of its own: in the shared one, other tests' reads of this month may sit in the default partition
    # already (then the month keeps using it, by design), and the cache of made partitions is per process.
    database_url = await create_database()
    pool = await create_pool(database_url, max_size=2)
    try:
        await migrate(pool)
        lpr_events._known_partitions.clear()
        months = premade_months(NOW)
        for month in months:
            await lpr_events.ensure_partition(pool, month)
        names = [f"lpr_events_{month:%Y_%m}" for month in months]
        found = await pool.fetchval("SELECT count(*) FROM pg_class WHERE relname = ANY($1::text[])", names)
    finally:
        await pool.close()
        await drop_database(database_url)
    assert found == 3 and months[0] < month_of(NOW) < months[2]
