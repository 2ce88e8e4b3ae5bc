"""The orphan sweep: objects nobody indexes and index rows whose object is gone, found incrementally.

Each camera's hour prefixes are listed once, oldest first, from where the last
sweep stopped (domain/orphans.py), with a bounded number of listings per run.
Findings are recorded; with the ``fix`` policy a finding is acted on only at
the next run, if it still holds then (two strikes: an upload that stored its
object a moment before its row must never lose the object). Orphan objects are
deleted; rows without an object are deleted (the index must not promise
footage that is not there).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta

import asyncpg

from domain.orphans import OBJECT_WITHOUT_ROW, ROW_WITHOUT_OBJECT, SETTLE, compare, hours_to_sweep
from domain.recording import hour_prefix
from storage import audit, orphans
from storage.objects import ObjectStore


@dataclass(frozen=True)
class SweepResult:
    prefixes_listed: int
    objects_without_rows: int
    rows_without_objects: int
    fixed: int


async def orphan_sweep(pool: asyncpg.Pool, store: ObjectStore, *, now: datetime, policy: str = "report",
                       max_prefixes: int = 2000, max_cameras: int = 1000) -> SweepResult:
    fixed = await _second_strike(pool, store, now) if policy == "fix" else 0
    listed = lonely_objects = lonely_rows = 0
    for camera in await orphans.cameras_to_sweep(pool, max_cameras):
        hours = hours_to_sweep(camera.swept_until, camera.created_at, now, max_prefixes - listed)
        for hour in hours:
            prefix = hour_prefix(camera.tenant_id, camera.id, hour)
            objects = await asyncio.to_thread(_keys_under, store, prefix)
            found = compare(objects, await orphans.indexed_keys(pool, camera.id, hour),
                            await orphans.queued_with_prefix(pool, prefix))
            await orphans.record(pool, OBJECT_WITHOUT_ROW, found.objects_without_rows, camera.tenant_id, camera.id)
            await orphans.record(pool, ROW_WITHOUT_OBJECT, found.rows_without_objects, camera.tenant_id, camera.id)
            lonely_objects += len(found.objects_without_rows)
            lonely_rows += len(found.rows_without_objects)
            await orphans.advance(pool, camera.id, hour + timedelta(hours=1))
        listed += len(hours)
        if listed >= max_prefixes:
            break
    return SweepResult(listed, lonely_objects, lonely_rows, fixed)


async def _second_strike(pool: asyncpg.Pool, store: ObjectStore, now: datetime) -> int:
    """Fix findings recorded at least SETTLE ago that still hold."""
    fixed = 0
    for finding in await orphans.unresolved(pool, now - SETTLE, limit=10_000):
        key = finding.object_key
        exists = await asyncio.to_thread(store.stat, key) is not None
        indexed = await orphans.still_indexed(pool, key)
        if finding.kind == OBJECT_WITHOUT_ROW and exists and not indexed:
            await asyncio.to_thread(store.delete_many, [key])
            action = "object_deleted"
        elif finding.kind == ROW_WITHOUT_OBJECT and indexed and not exists:
            await orphans.delete_row(pool, key)
            action = "row_deleted"
        else:
            action = "healed"  # an upload or a purge finished in between: nothing to do
        await orphans.resolve(pool, key, action)
        if action != "healed":
            fixed += 1
            await audit.record(pool, None, f"orphan.{action}", tenant_id=finding.tenant_id,
                               camera_id=finding.camera_id, detail={"object_key": key})
    return fixed


def _keys_under(store: ObjectStore, prefix: str) -> list[str]:
    return [info.key for info in store.list_prefix(prefix)]
