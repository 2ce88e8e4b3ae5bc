"""Retention purge throughput on 1 000 000 synthetic chunks, and the pass's peak memory.

Builds a synthetic index on the machine's PostgreSQL — 3 tenants (plans of 7,
15 and 30 days), 16 cameras each, 1-minute chunks, all older than 31 days —
with a legal hold on one camera-day per tenant, and the chunk objects in a
directory object store (hard links, so 1 M objects cost inodes, not space).
Then runs one real retention pass (``actors.retention.retention_pass``) in a
child process and measures chunks/s including the object deletes, and the
child's peak RSS. Peer in the same run: ``find -type f -delete`` removing the
same number of files from an identical tree (no index, no report) — the floor
for deleting that many objects on this disk.

    .venv/bin/python -m benchmarks.retention --chunks 1000000 --out benchmarks/results/retention.json
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

from benchmarks.report import base_parser, publish

CAMERAS_PER_TENANT = 16
PLANS = ("7 days", "15 days", "30 days")
LINKS_PER_SOURCE = 60_000  # ext4 allows 65 000 links per file


async def build(database_url: str, trees: list[Path], chunks: int) -> dict[str, Any]:
    from asyncpg import Range

    from domain.recording import chunk_object_key
    from storage import holds, plans, tenants
    from storage.db import create_pool

    pool = await create_pool(database_url, max_size=2)
    per_camera = chunks // (len(PLANS) * CAMERAS_PER_TENANT)
    newest_end = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(days=31)
    first = newest_end - timedelta(minutes=per_camera)
    made = held = 0
    try:
        plan_ids = {p.name: p.id for p in await plans.list_all(pool)}
        for plan in PLANS:
            tenant = (await tenants.create(pool, f"bench {plan} {uuid4().hex[:6]}")).id
            await plans.assign(pool, tenant, plan_ids[plan])
            cameras = [uuid4() for _ in range(CAMERAS_PER_TENANT)]
            await pool.executemany("INSERT INTO cameras (id, tenant_id, name, rtsp_url) VALUES ($1,$2,$3,'rtsp://h/x')",
                                   [(c, tenant, f"c {c}") for c in cameras])
            hold_start = first + timedelta(days=2)
            await holds.create(pool, tenant_id=tenant, camera_ids=cameras[:1], start=hold_start,
                               end=hold_start + timedelta(days=1), reason="bench", case_number="B-1", created_by=uuid4())
            held += 24 * 60 if per_camera >= 3 * 24 * 60 else 0  # 1-minute chunks of the held day
            for camera in cameras:
                records = []
                for i in range(per_camera):
                    start = first + timedelta(minutes=i)
                    key = chunk_object_key(tenant, camera, start)
                    records.append((tenant, camera, Range(start, start + timedelta(minutes=1)), key, 2_000_000, 800,
                                    "h264", 1280, 720, [[800, 1000, 0, 2000]]))
                    _link(trees, key, made)
                    made += 1
                async with pool.acquire() as conn:
                    await conn.copy_records_to_table("recordings", records=records, columns=[
                        "tenant_id", "camera_id", "time_range", "object_key", "bytes", "init_length", "codec", "width",
                        "height", "fragments"])
        await pool.execute("ANALYZE recordings")
    finally:
        await pool.close()
    return {"chunks": made, "held_chunks": held, "cameras": len(PLANS) * CAMERAS_PER_TENANT}


def _link(trees: list[Path], key: str, n: int) -> None:
    for tree in trees:
        source = tree / f"source-{n // LINKS_PER_SOURCE}"
        if n % LINKS_PER_SOURCE == 0:
            source.write_bytes(b"chunk")
        path = tree / key
        path.parent.mkdir(parents=True, exist_ok=True)
        os.link(source, path)


def run_pass(database_url: str, store_url: str) -> dict[str, Any]:
    """In the child: one retention pass; its result, wall time and this process's peak RSS."""
    from services.purge_pass import retention_pass
    from storage.db import create_pool
    from storage.objects import open_object_store

    async def go() -> dict[str, Any]:
        pool = await create_pool(database_url, max_size=3)
        store = open_object_store(store_url, public_base_url="http://127.0.0.1:1", signing_secret=b"x")
        try:
            result = await retention_pass(pool, store, trigger="benchmark")
        finally:
            await pool.close()
        return dict(result.__dict__)

    result = asyncio.run(go())
    result["peak_rss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    return result


def main() -> None:
    parser = base_parser(__doc__, warmup_s=0)
    parser.add_argument("--chunks", type=int, default=1_000_000)
    parser.add_argument("--pass-only", nargs=2, metavar=("DSN", "STORE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.pass_only:
        print(json.dumps(run_pass(*args.pass_only)))
        return

    from storage.db import create_pool, migrate
    from tests.support.databases import create_database, drop_database

    work = Path(tempfile.mkdtemp(prefix="gtv-retention-"))
    ours, peer = work / "objects", work / "peer"
    ours.mkdir()
    peer.mkdir()
    database_url = asyncio.run(create_database())
    try:
        async def prepare() -> None:
            pool = await create_pool(database_url, max_size=1)
            await migrate(pool)
            await pool.close()

        asyncio.run(prepare())
        t0 = time.monotonic()
        built = asyncio.run(build(database_url, [ours, peer], args.chunks))
        build_s = time.monotonic() - t0

        child = subprocess.run([sys.executable, "-m", "benchmarks.retention", "--pass-only", database_url,
                                ours.as_uri()], capture_output=True, text=True, timeout=3600, check=True)
        result = json.loads(child.stdout)

        t0 = time.monotonic()
        subprocess.run(["find", str(peer / "t"), "-type", "f", "-delete"], check=True, timeout=3600)
        find_s = time.monotonic() - t0

        async def remaining() -> int:
            pool = await create_pool(database_url, max_size=1)
            count: int = await pool.fetchval("SELECT count(*) FROM recordings")
            await pool.close()
            return count

        left = asyncio.run(remaining())
    finally:
        asyncio.run(drop_database(database_url))
        subprocess.run(["rm", "-rf", str(work)], check=False)

    chunks_per_s = result["chunks"] / result["seconds"]
    find_per_s = built["chunks"] / find_s
    publish("retention", {
        "chunks_per_s": round(chunks_per_s),
        "peak_rss_mib": result["peak_rss_mib"],
        "goal_chunks_per_s": 5000,
        "index": {**built, "build_s": round(build_s, 1)},
        "pass": {k: result[k] for k in ("chunks", "bytes", "held_chunks", "objects_deleted", "seconds")},
        "rows_left": left,
        "object_store": "directory (local disk)",
        "peer": {"what": "find -type f -delete on an identical tree", "files": built["chunks"],
                 "seconds": round(find_s, 1), "files_per_s": round(find_per_s)},
        "ratio_vs_peer": round(chunks_per_s / find_per_s, 2),
    }, args.out)


if __name__ == "__main__":
    main()
