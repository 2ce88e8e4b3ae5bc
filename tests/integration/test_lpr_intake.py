"""The LPR intake, batched writer and spool on real Redis, PostgreSQL and a directory object store (no Ray):
unconfirmed reads come back after a restart, a batch stores each read once, and a read from a sender that never
retries survives the stores being down."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import pytest
from redis.exceptions import ConnectionError as RedisConnectionError

from domain.lpr.queued_read import QueuedRead
from domain.lpr.reads import PlateRead
from domain.lpr.senders import LprSender
from serve.errors import status_for
from services.lpr_accept import LprAccept
from services.lpr_write import write_batch
from services.refusals import Unavailable
from storage import tenants, watchlists
from storage.bus import RedisBus
from storage.lpr_intake import LprIntake, PostgresIntake, RedisIntake
from storage.lpr_spool import LprSpool
from storage.objects import DirObjectStore
from storage.watchlist_cache import WatchlistCache
from tests.support.system import REDIS_URL, drop_redis_keys

JPEG = (Path(__file__).parents[1] / "fixtures" / "lpr" / "plate.jpg").read_bytes()
CAPTURED = datetime(2026, 11, 23, 13, 0, tzinfo=UTC)


@pytest.fixture
async def prefix() -> AsyncIterator[str]:
    prefix = f"gtv-intake-{uuid.uuid4().hex[:8]}:"
    yield prefix
    await drop_redis_keys(prefix)


@pytest.fixture(params=["redis", "postgres"])
async def intake(request: pytest.FixtureRequest, pool: asyncpg.Pool, prefix: str) -> AsyncIterator[LprIntake]:
    await pool.execute("DELETE FROM lpr_intake")
    opened: LprIntake = RedisIntake(REDIS_URL, prefix=prefix) if request.param == "redis" else PostgresIntake(pool)
    yield opened
    await opened.close()


def _reopen(intake: LprIntake, pool: asyncpg.Pool, prefix: str) -> LprIntake:
    return RedisIntake(REDIS_URL, prefix=prefix) if isinstance(intake, RedisIntake) else PostgresIntake(pool)


def _read(tenant: uuid.UUID, camera: uuid.UUID, plate: str, second: int = 0, images: int = 1,
          event_id: str | None = None) -> tuple[QueuedRead, list[bytes]]:
    read = PlateRead(plate=plate, captured_at=CAPTURED + timedelta(seconds=second), confidence=90.0,
                     images=(JPEG,) * images, vendor_event_id=event_id)
    return QueuedRead.of(read, tenant_id=tenant, camera_id=camera, sender="generic",
                         received_at=datetime.now(UTC)), [JPEG] * images


async def test_reads_taken_but_never_confirmed_come_back_after_a_restart(
    intake: LprIntake, pool: asyncpg.Pool, prefix: str
) -> None:
    tenant, camera = uuid.uuid4(), uuid.uuid4()
    sent = [_read(tenant, camera, f"ABC{n:04d}", n)[0] for n in range(10)]
    for read in sent:
        await intake.append(read)
    first = await intake.take(6, block_s=0.1)
    assert [r.id for _, r in first] == [r.id for r in sent[:6]], "oldest first, as sent"
    assert first[0][1] == sent[0], "the queued form survives the round trip"
    await intake.confirm([i for i, _ in first[:3]])
    await intake.close()  # the writer dies with three reads taken and not confirmed

    restarted = _reopen(intake, pool, prefix)
    seen: list[uuid.UUID] = []
    for _ in range(5):
        batch = await restarted.take(4, block_s=0.1)
        if not batch:
            break
        seen += [r.id for _, r in batch]
        await restarted.confirm([i for i, _ in batch])
    assert sorted(seen) == sorted(r.id for r in sent[3:]), "every unconfirmed read once more, nothing confirmed"
    assert await restarted.backlog() == 0
    assert await restarted.take(4, block_s=0.2) == [], "an empty intake waits, bounded, and returns nothing"
    await restarted.close()


async def test_a_batch_stores_each_read_once_drops_duplicates_images_and_alerts_on_watched_plates(
    pool: asyncpg.Pool, tmp_path: Path, prefix: str
) -> None:
    city = await tenants.create(pool, f"intake city {uuid.uuid4().hex[:6]}")
    tenant, camera = city.id, uuid.uuid4()
    await watchlists.create(pool, tenant, "ABC?D23", "stolen", uuid.uuid4())
    store = DirObjectStore(tmp_path / "objects", public_base_url="http://127.0.0.1:1", signing_secret=b"k")
    bus = RedisBus(REDIS_URL, prefix=prefix)
    watched, _ = _read(tenant, camera, "ABC1D23", 1)
    plain, _ = _read(tenant, camera, "DEF4567", 2)
    again, _ = _read(tenant, camera, "DEF4567", 2)  # the sender delivered the same read twice
    vendor_a, _ = _read(tenant, camera, "GHI8901", 3, event_id="evt-1")
    vendor_b, _ = _read(tenant, camera, "GHI8901", 3, event_id="evt-1")  # the vendor resent its event
    batch = [watched, plain, again, vendor_a]
    for read in [*batch, vendor_b]:
        for key in read.image_keys:
            store.put(key, JPEG)

    outcome, alerts = await write_batch(batch, pool, store, bus, WatchlistCache(pool))
    assert {r.id for r in outcome.stored} == {watched.id, plain.id, vendor_a.id}
    assert [r.id for r in outcome.duplicates] == [again.id] and alerts == 1
    assert store.stat(again.image_keys[0]) is None, "a duplicate's own image is removed"

    # The writer died after committing and before confirming: the same entries come again, plus a late duplicate.
    outcome, alerts = await write_batch([watched, plain, vendor_b], pool, store, bus, WatchlistCache(pool))
    assert {r.id for r in outcome.stored_before} == {watched.id, plain.id}
    assert [r.id for r in outcome.duplicates] == [vendor_b.id] and not outcome.stored
    assert alerts == 1, "a read stored by an interrupted attempt alerts again (at least once)"

    rows = await pool.fetch("SELECT id, plate, image_keys FROM lpr_events WHERE tenant_id = $1", tenant)
    assert sorted(r["plate"] for r in rows) == ["ABC1D23", "DEF4567", "GHI8901"]
    for row in rows:
        assert all(store.get(key) == JPEG for key in row["image_keys"])
    published = [e for _, e in await bus.read(f"tenant.{tenant}.events", count=10)]
    assert [(e["type"], e["plate"], e["event_id"]) for e in published] == [("lpr.alert", "ABC1D23", str(watched.id))] * 2
    await bus.close()


async def test_a_read_from_a_sender_that_never_retries_is_spooled_while_the_stores_are_down_and_stored_later(
    pool: asyncpg.Pool, tmp_path: Path, prefix: str, closed_port: int
) -> None:
    store = DirObjectStore(tmp_path / "objects", public_base_url="http://127.0.0.1:1", signing_secret=b"k")
    spool = LprSpool(tmp_path / "spool", max_bytes=10 * 1024 * 1024)
    down = LprAccept(RedisIntake(f"redis://127.0.0.1:{closed_port}/0", prefix=prefix), store, spool,
                     max_backlog=1000, pool=pool)
    camera = LprSender(id=uuid.uuid4(), tenant_id=uuid.uuid4(), lpr_secret_sealed=None, lpr_allowed_sources=None,
                       time_zone="UTC")
    read = PlateRead(plate="HIK1A23", captured_at=CAPTURED, images=(JPEG, JPEG))

    with pytest.raises(Unavailable) as refused:
        await down.accept(read, camera, "generic")
    assert status_for(refused.value) == 503, "a sender that retries is told to"
    spooled = await down.accept(read, camera, "hikvision", never_retries=True)
    assert [p.name.endswith(f"{spooled.id}.read") for p in spool.pending()] == [True]
    with pytest.raises(RedisConnectionError):
        await spool.drain(down.make_durable)
    assert len(spool.pending()) == 1, "still down: kept"

    tiny = LprAccept(down.intake, store, LprSpool(tmp_path / "tiny", max_bytes=1000), max_backlog=1000, pool=pool)
    with pytest.raises(Unavailable) as full:
        await tiny.accept(read, camera, "hikvision", never_retries=True)
    assert status_for(full.value) == 503 and "spool" in str(full.value)

    intake = RedisIntake(REDIS_URL, prefix=prefix)
    up = LprAccept(intake, store, spool, max_backlog=1000, pool=pool)
    assert await spool.drain(up.make_durable) == 1 and spool.pending() == []
    ((_, queued),) = await intake.take(10, block_s=0.5)
    assert queued == spooled
    outcome, _ = await write_batch([queued], pool, store, RedisBus(REDIS_URL, prefix=prefix), WatchlistCache(pool))
    assert [r.id for r in outcome.stored] == [spooled.id]
    stored = await pool.fetchrow("SELECT plate, captured_at, sender, image_keys FROM lpr_events WHERE id = $1",
                                 spooled.id)
    assert (stored["plate"], stored["captured_at"], stored["sender"]) == ("HIK1A23", CAPTURED, "hikvision")
    assert [store.get(k) for k in stored["image_keys"]] == [JPEG, JPEG]
    await intake.close()
