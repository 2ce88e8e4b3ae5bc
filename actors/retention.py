"""Retention: purge each city's footage older than its plan, never what a legal hold covers.

``retention_pass`` is a plain async function (tests run it without Ray);
``RetentionActor`` is the named, restart-safe actor that runs it on a schedule
and on demand, records every pass and raises ``retention_stalled`` when no pass
has completed within twice the interval — retention never stops silently.

Crash safety (docs/retention.md): rows are deleted and their objects queued in
one transaction per batch; objects are deleted from the queue afterwards. A
pass killed anywhere leaves committed deletions, a queue the next pass drains
first, and never a row that points at a deleted object.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID

import asyncpg

from actors.orphan_sweep import orphan_sweep
from domain.events import tenant_stream
from domain.retention import is_stalled, report_lines, retention_cutoff
from domain.settings import Settings
from domain.watermarks import Level, Watermarks
from storage import audit, retention
from storage.bus import EventBus, open_bus
from storage.db import create_pool
from storage.objects import ObjectStore, open_object_store_for

log = logging.getLogger(__name__)

PURGE_BATCH = 1000


@dataclass(frozen=True)
class PassResult:
    pass_id: int
    chunks: int
    bytes: int
    held_chunks: int
    objects_deleted: int
    seconds: float


async def drain_purge_queue(pool: asyncpg.Pool, store: ObjectStore, batch: int = PURGE_BATCH) -> int:
    """Delete queued objects (their rows are already gone); returns how many. Failed keys stay queued."""
    deleted = 0
    while True:
        keys = await retention.queued_objects(pool, batch)
        if not keys:
            return deleted
        failed = set(await asyncio.to_thread(store.delete_many, keys))
        done = [k for k in keys if k not in failed]
        await retention.dequeue(pool, done)
        deleted += len(done)
        if failed:
            log.warning("retention: %d objects could not be deleted; they stay queued", len(failed))
            return deleted


async def _purge(pool: asyncpg.Pool, store: ObjectStore, pass_id: int, tenant: dict[str, Any], cutoff: datetime,
                 batch: int, max_bytes: int | None = None) -> tuple[int, int, int]:
    """Delete the tenant's un-held chunks ended before ``cutoff``, oldest first (at most ``max_bytes`` worth):
    returns (chunks, bytes, objects deleted)."""
    chunks = size = objects = 0
    while max_bytes is None or size < max_bytes:
        async with pool.acquire() as conn, conn.transaction():
            purged = await retention.purge_batch(conn, tenant["id"], cutoff, batch,
                                                 None if max_bytes is None else max_bytes - size)
            if purged:
                await retention.add_report_lines(conn, pass_id, tenant["id"], report_lines(purged, tenant["time_zone"]))
        if not purged:
            break
        chunks += len(purged)
        size += sum(c.bytes for c in purged)
        objects += await drain_purge_queue(pool, store, batch)
    return chunks, size, objects


async def _enforce_storage_quota(pool: asyncpg.Pool, store: ObjectStore, pass_id: int, tenant: dict[str, Any],
                                 policy: str, now: datetime, batch: int) -> tuple[int, int, int]:
    """Over its plan's storage quota a tenant loses its oldest un-held footage (``purge_oldest``) or stops
    recording with ``storage_full`` (``pause``); back under it, recording resumes. Held footage is never touched."""
    quota = tenant["storage_quota_bytes"]
    used = await retention.bytes_used(pool, tenant["id"])
    if used <= quota:
        if tenant["recording_paused"]:
            await retention.set_recording_paused(pool, tenant["id"], None)
            await audit.record(pool, None, "recording.resumed", tenant_id=tenant["id"],
                               detail={"used_bytes": used, "quota_bytes": quota})
        return 0, 0, 0
    if policy == "pause":
        if not tenant["recording_paused"]:
            reason = f"the city's recordings use {used} bytes, over its plan's quota of {quota} bytes"
            await retention.set_recording_paused(pool, tenant["id"], reason)
            await audit.record(pool, None, "recording.paused", tenant_id=tenant["id"],
                               detail={"used_bytes": used, "quota_bytes": quota, "reason": "storage_full"})
        return 0, 0, 0
    result = await _purge(pool, store, pass_id, tenant, now, batch, max_bytes=used - quota)
    await audit.record(pool, None, "retention.quota_purge", tenant_id=tenant["id"], detail={
        "pass_id": pass_id, "chunks": result[0], "bytes": result[1], "used_bytes": used, "quota_bytes": quota})
    return result


WATERMARK_PAUSE = "the storage is past its critical watermark"


async def _relieve_storage(pool: asyncpg.Pool, store: ObjectStore, pass_id: int, policy: str, now: datetime,
                           batch: int, needed: int) -> tuple[int, int, int]:
    """The store is nearly full: free ``needed`` bytes from the biggest tenants' oldest un-held footage, or pause
    every city's recording (``pause``). Held footage is never touched."""
    tenants = await retention.tenants_to_purge(pool)
    if policy == "pause":
        for tenant in tenants:
            if not tenant["recording_paused"]:
                await retention.set_recording_paused(pool, tenant["id"], WATERMARK_PAUSE)
                await audit.record(pool, None, "recording.paused", tenant_id=tenant["id"],
                                   detail={"reason": "storage_watermark", "needed_bytes": needed})
        return 0, 0, 0
    usage = {t["id"]: await retention.bytes_used(pool, t["id"]) for t in tenants}
    chunks = size = objects = 0
    for tenant in sorted(tenants, key=lambda t: usage[t["id"]], reverse=True):
        if size >= needed:
            break
        freed = await _purge(pool, store, pass_id, tenant, now, batch, max_bytes=needed - size)
        if freed[0]:
            await audit.record(pool, None, "retention.watermark_purge", tenant_id=tenant["id"], detail={
                "pass_id": pass_id, "chunks": freed[0], "bytes": freed[1]})
        chunks, size, objects = chunks + freed[0], size + freed[1], objects + freed[2]
    return chunks, size, objects


async def retention_pass(pool: asyncpg.Pool, store: ObjectStore, *, trigger: str, now: datetime | None = None,
                         batch: int = PURGE_BATCH, storage_full_policy: str = "purge_oldest",
                         free_bytes: int = 0) -> PassResult:
    """One pass over every tenant: delete expired, un-held chunks (rows, then objects), apply storage quotas,
    then — if the store is past its critical watermark — free ``free_bytes`` per the policy; report it all."""
    started = time.monotonic()
    now = now or datetime.now(UTC)
    objects = await drain_purge_queue(pool, store, batch)  # what an interrupted pass left
    pass_id = await retention.start_pass(pool, trigger)
    chunks = size = held = 0
    try:
        for tenant in await retention.tenants_to_purge(pool):
            cutoff = retention_cutoff(now, tenant["retention_days"])
            tenant_held = await retention.record_held(pool, pass_id, tenant["id"], cutoff, tenant["time_zone"])
            tenant_chunks, tenant_bytes, tenant_objects = await _purge(pool, store, pass_id, tenant, cutoff, batch)
            if tenant_chunks or tenant_held:
                await audit.record(pool, None, "retention.purged", tenant_id=tenant["id"], end=cutoff, detail={
                    "pass_id": pass_id, "chunks": tenant_chunks, "bytes": tenant_bytes, "held_chunks": tenant_held,
                    "retention_days": tenant["retention_days"]})
            if tenant["storage_quota_bytes"]:
                extra = await _enforce_storage_quota(pool, store, pass_id, tenant, storage_full_policy, now, batch)
                tenant_chunks, tenant_bytes, tenant_objects = (
                    tenant_chunks + extra[0], tenant_bytes + extra[1], tenant_objects + extra[2])
            chunks, size, held = chunks + tenant_chunks, size + tenant_bytes, held + tenant_held
            objects += tenant_objects
        if free_bytes > size:
            extra = await _relieve_storage(pool, store, pass_id, storage_full_policy, now, batch, free_bytes - size)
            chunks, size, objects = chunks + extra[0], size + extra[1], objects + extra[2]
        await retention.finish_pass(pool, pass_id, state="done")
    except BaseException as exc:  # cancelled (stopping) or failed: what was committed stays done
        state = "interrupted" if isinstance(exc, asyncio.CancelledError) else "failed"
        await asyncio.shield(retention.finish_pass(pool, pass_id, state=state, error=repr(exc)[:500]))
        raise
    return PassResult(pass_id, chunks, size, held, objects, round(time.monotonic() - started, 3))


class RetentionActor:
    """Runs a pass (then the orphan sweep) every ``retention_interval_s`` and on demand; one at a time."""

    def __init__(self, settings: Settings, batch: int = PURGE_BATCH) -> None:
        self._settings = settings
        self._batch = batch
        self._interval = timedelta(seconds=settings.retention_interval_s)
        self._pool: asyncpg.Pool | None = None
        self._store: ObjectStore | None = None
        self._bus: EventBus | None = None
        self._one_at_a_time = asyncio.Lock()
        self._starting = asyncio.Lock()
        self._tasks: list[asyncio.Task[None]] = []
        self._stalled_alerted = False
        self._watermarks = Watermarks(settings.storage_warning_ratio, settings.storage_critical_ratio)
        self._levels: dict[str, Level] = {}

    async def start(self) -> None:
        """Connect, close the books on passes a crash interrupted, start the schedule (once)."""
        async with self._starting:
            if self._tasks:
                return
            s = self._settings
            self._pool = await create_pool(s.database_url, min_size=1, max_size=3)
            self._store = await asyncio.to_thread(open_object_store_for, s)
            try:
                self._bus = open_bus(s.bus_url, namespace=s.namespace)
            except Exception as exc:  # alerts need the bus; purging does not
                log.error("retention: event bus unavailable, stall alerts will not go out: %s", exc)
            interrupted = await retention.mark_interrupted(self._pool)
            if interrupted:
                log.warning("retention: %d interrupted passes; this start finishes their work", interrupted)
            # The watchdog is apart from the schedule: a pass that hangs must still be noticed.
            self._tasks = [asyncio.create_task(self._schedule()), asyncio.create_task(self._watch())]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._pool is not None:
            await self._pool.close()
        if self._bus is not None:
            await self._bus.close()

    async def run_now(self, trigger: str = "manual", free_bytes: int = 0) -> dict[str, Any]:
        """Run a pass now (waiting for one in progress first); returns its result."""
        await self.start()
        assert self._pool is not None and self._store is not None
        async with self._one_at_a_time:
            result = await retention_pass(self._pool, self._store, trigger=trigger, batch=self._batch,
                                          storage_full_policy=self._settings.storage_full_policy,
                                          free_bytes=free_bytes)
            try:
                sweep = await orphan_sweep(self._pool, self._store, now=datetime.now(UTC),
                                           policy=self._settings.orphan_policy)
            except Exception as exc:  # the sweep is housekeeping; the purge above is done either way
                log.warning("orphan sweep failed: %s", exc)
                sweep = None
        self._stalled_alerted = False
        return {**result.__dict__, "orphan_sweep": sweep.__dict__ if sweep else None}

    async def health(self) -> dict[str, Any]:
        await self.start()
        assert self._pool is not None
        finished, running = await retention.last_finished(self._pool)
        stalled = is_stalled(finished, running, datetime.now(UTC), self._interval)
        return {"last_pass_finished_at": finished, "running_since": running, "stalled": stalled,
                "interval_s": self._interval.total_seconds()}

    async def _schedule(self) -> None:
        while True:
            try:
                await self.run_now("schedule")
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("retention pass failed; the next one retries")
            await asyncio.sleep(self._interval.total_seconds())

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(min(60.0, self._interval.total_seconds() / 4))
            try:
                await self._alert_if_stalled()
                await self.check_storage()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("retention health unknown: %s", exc)

    async def storage_usage(self) -> dict[str, tuple[int, int]]:
        """(used, total) bytes of the object store (a directory's disk, or the configured capacity of a
        bucket) and of this node's spool disk."""
        s = self._settings
        usage: dict[str, tuple[int, int]] = {}
        if s.object_store_url.startswith("file://"):
            disk = await asyncio.to_thread(_disk_usage, Path(urlsplit(s.object_store_url).path))
            if disk is not None:
                usage["object_store"] = disk
        elif s.object_store_capacity_bytes and self._pool is not None:
            recorded = await self._pool.fetchval("SELECT coalesce(sum(bytes), 0)::bigint FROM recordings")
            usage["object_store"] = (recorded, s.object_store_capacity_bytes)
        spool = await asyncio.to_thread(_disk_usage, Path(s.spool_dir))
        if spool is not None:
            usage["spool"] = spool
        return usage

    async def check_storage(self) -> dict[str, str]:
        """Alert on a watermark change; past the critical one, free the object store (or pause) at once."""
        await self.start()
        usage = await self.storage_usage()
        levels = {name: self._watermarks.level(*used_total) for name, used_total in usage.items()}
        for name, level in levels.items():
            if level != self._levels.get(name, Level.OK) and level != Level.OK:
                used, total = usage[name]
                await self._alert_all(f"storage_{level.value}", "critical" if level == Level.CRITICAL else "warning",
                                      f"the {name.replace('_', ' ')} is {used / total:.0%} full")
        self._levels = levels
        store = usage.get("object_store")
        if levels.get("object_store") == Level.CRITICAL and store is not None:
            await self.run_now("watermark", free_bytes=self._watermarks.bytes_to_free(*store))
        elif levels.get("object_store", Level.OK) == Level.OK and self._pool is not None:
            await retention.resume_paused(self._pool, WATERMARK_PAUSE)
        return {name: level.value for name, level in levels.items()}

    async def _alert_if_stalled(self) -> None:
        state = await self.health()
        if not state["stalled"] or self._stalled_alerted or self._pool is None or self._bus is None:
            return
        self._stalled_alerted = True
        await self._alert_all("retention_stalled", "critical",
                              "footage retention has not completed a pass within twice its interval")

    async def _alert_all(self, kind: str, severity: str, message: str) -> None:
        """A platform-wide alert goes to every city's event stream (each city's operators must know)."""
        if self._pool is None or self._bus is None:
            log.warning("alert %s not published (no bus): %s", kind, message)
            return
        at = datetime.now(UTC).isoformat(timespec="milliseconds")
        for tenant in await retention.tenants_to_purge(self._pool):
            event = {"type": "alert", "kind": kind, "severity": severity, "tenant_id": str(tenant["id"]), "at": at,
                     "message": message}
            try:
                await self._bus.publish(tenant_stream(UUID(str(tenant["id"]))), event)
            except Exception as exc:
                log.warning("%s alert not published: %s", kind, exc)


def _disk_usage(path: Path) -> tuple[int, int] | None:
    """(used, total) bytes of the file system holding ``path``, or None if it does not exist yet."""
    if not path.exists():
        return None
    disk = shutil.disk_usage(path)
    return disk.total - disk.free, disk.total
