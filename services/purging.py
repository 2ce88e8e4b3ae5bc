"""Deleting a city's expired footage in crash-safe batches: rows and the queueing of their objects in one
transaction, then the queued objects. What the retention pass and the storage relief both build on.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from domain.plans import TenantPolicy
from domain.purge_rules import report_lines
from storage import purges
from storage.objects import ObjectStore

log = logging.getLogger(__name__)

PURGE_BATCH = 1000


@dataclass(frozen=True)
class Freed:
    """What some purging freed: chunks and bytes deleted from the index, objects deleted from the store."""

    chunks: int = 0
    bytes: int = 0
    objects: int = 0

    def __add__(self, other: Freed) -> Freed:
        return Freed(self.chunks + other.chunks, self.bytes + other.bytes, self.objects + other.objects)


async def drain_purge_queue(pool: asyncpg.Pool, store: ObjectStore, batch: int = PURGE_BATCH) -> int:
    """Delete queued objects (their rows are already gone); returns how many. Failed keys stay queued."""
    deleted = 0
    while True:
        keys = await purges.queued_objects(pool, batch)
        if not keys:
            return deleted
        failed = set(await asyncio.to_thread(store.delete_many, keys))
        done = [k for k in keys if k not in failed]
        await purges.dequeue(pool, done)
        deleted += len(done)
        if failed:
            log.warning("retention: %d objects could not be deleted; they stay queued", len(failed))
            return deleted


async def purge(pool: asyncpg.Pool, store: ObjectStore, pass_id: int, tenant: TenantPolicy, cutoff: datetime,
                batch: int, max_bytes: int | None = None) -> Freed:
    """Delete the tenant's un-held chunks ended before ``cutoff``, oldest first (at most ``max_bytes`` worth)."""
    freed = Freed()
    while max_bytes is None or freed.bytes < max_bytes:
        async with pool.acquire() as conn, conn.transaction():
            purged = await purges.purge_batch(conn, tenant.id, cutoff, batch,
                                              None if max_bytes is None else max_bytes - freed.bytes)
            if purged:
                await purges.add_report_lines(conn, pass_id, tenant.id, report_lines(purged, tenant.time_zone))
        if not purged:
            break
        freed += Freed(len(purged), sum(c.bytes for c in purged), await drain_purge_queue(pool, store, batch))
    return freed
