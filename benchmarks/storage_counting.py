"""What counting a city's bytes at write time costs (migration 0017's statement triggers).

The writers that matter: a camera host indexing a chunk (one ``INSERT`` into
``recordings`` per chunk, from many cameras at once) and the LPR writer storing
a batch of plate reads (``storage/lpr_events.store_batch``: COPY to staging,
then one ``INSERT … SELECT``). Each is timed with the counting triggers on and,
as the peer in the same run and database, with them disabled; the report gives
both rates and the ratio.

    .venv/bin/python -m benchmarks.storage_counting --out benchmarks/results/storage_counting.json
"""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
from asyncpg import Range

from benchmarks.report import base_parser, publish

_TRIGGERS = {"recordings": ("tenant_storage_recordings_insert",), "lpr_events": ("tenant_storage_lpr_insert",)}


async def _set_counting(pool: asyncpg.Pool, on: bool) -> None:
    for table, triggers in _TRIGGERS.items():
        for trigger in triggers:
            await pool.execute(f"ALTER TABLE {table} {'ENABLE' if on else 'DISABLE'} TRIGGER {trigger}")


async def _chunks_per_s(pool: asyncpg.Pool, tenant: uuid.UUID, camera: uuid.UUID, chunks: int, writers: int) -> float:
    start = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(days=uuid.uuid4().int % 1000)

    async def writer(w: int) -> None:
        for n in range(chunks // writers):
            at = start + timedelta(minutes=n, seconds=w)
            await pool.execute(
                "INSERT INTO recordings (tenant_id, camera_id, time_range, object_key, bytes, init_length, codec,"
                " width, height, fragments) VALUES ($1,$2,$3,$4,1000000,10,'h264',640,360,'[[10, 990, 0, 60000]]')",
                tenant, camera, Range(at, at + timedelta(seconds=1)), f"k/{uuid.uuid4()}")

    began = time.perf_counter()
    await asyncio.gather(*(writer(w) for w in range(writers)))
    return chunks / (time.perf_counter() - began)


async def _reads_per_s(pool: asyncpg.Pool, tenants: list[uuid.UUID], camera: uuid.UUID, batches: int,
                       batch: int) -> float:
    from domain.lpr.queued_read import QueuedRead
    from storage import lpr_events

    now = datetime.now(UTC)
    elapsed = 0.0
    for _ in range(batches):
        reads = []
        for n in range(batch):
            read_id = uuid.uuid4()
            reads.append(QueuedRead(id=read_id, tenant_id=tenants[n % len(tenants)], camera_id=camera,
                                    sender="generic", plate="ABC1D23", captured_at=now, received_at=now,
                                    dedupe_key=f"k:{read_id}", image_keys=(f"i/{read_id}.jpg",), image_bytes=30_000))
        began = time.perf_counter()
        await lpr_events.store_batch(pool, reads)
        elapsed += time.perf_counter() - began
    return batches * batch / elapsed


async def run(chunks: int, writers: int, batches: int, batch: int) -> dict[str, Any]:
    from storage import tenants as tenant_store
    from tests.support.databases import fresh_database

    async with fresh_database(max_size=writers) as (_, pool):
        cities = [(await tenant_store.create(pool, f"bench {n}")).id for n in range(10)]
        camera = uuid.uuid4()
        await pool.execute("INSERT INTO cameras (id, tenant_id, name, rtsp_url) VALUES ($1, $2, 'c', 'rtsp://h/x')",
                           camera, cities[0])
        await _chunks_per_s(pool, cities[0], camera, writers * 20, writers)  # warm-up
        await _reads_per_s(pool, cities, camera, 2, batch)
        rates: dict[str, dict[str, float]] = {}
        for counting in (True, False, True, False):  # alternated, best of two each: the machine is shared
            await _set_counting(pool, counting)
            key = "counted" if counting else "not_counted"
            chunk_rate = await _chunks_per_s(pool, cities[0], camera, chunks, writers)
            read_rate = await _reads_per_s(pool, cities, camera, batches, batch)
            best = rates.setdefault(key, {"chunks_per_s": 0.0, "plate_reads_per_s": 0.0})
            best["chunks_per_s"] = max(best["chunks_per_s"], chunk_rate)
            best["plate_reads_per_s"] = max(best["plate_reads_per_s"], read_rate)
        await _set_counting(pool, True)
    return {"chunks": chunks, "writers": writers, "plate_batches": batches, "batch": batch, "cities_per_batch": 10,
            **{k: {m: round(v) for m, v in r.items()} for k, r in rates.items()},
            "chunks_ratio": round(rates["counted"]["chunks_per_s"] / rates["not_counted"]["chunks_per_s"], 2),
            "plate_reads_ratio": round(rates["counted"]["plate_reads_per_s"]
                                       / rates["not_counted"]["plate_reads_per_s"], 2)}


def main() -> None:
    parser = base_parser(__doc__, 0.0)
    parser.add_argument("--chunks", type=int, default=2000)
    parser.add_argument("--writers", type=int, default=8)
    parser.add_argument("--batches", type=int, default=20)
    parser.add_argument("--batch", type=int, default=1000)
    args = parser.parse_args()
    publish("storage_counting", asyncio.run(run(args.chunks, args.writers, args.batches, args.batch)), args.out)


if __name__ == "__main__":
    main()
