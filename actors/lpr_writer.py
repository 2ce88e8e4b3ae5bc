"""The batched LPR writer: drains the intake into ``lpr_events`` with COPY and alerts on watched plates.

Webhooks only make a read durable (images in the object store, the read in the
intake) and answer; this actor turns whatever has accumulated into one COPY and
one transaction per batch, so the ingest rate is bounded by PostgreSQL's bulk
path, not by one INSERT per request. A batch is confirmed to the intake only
after its transaction commits: killed anywhere, the restarted writer gets the
unconfirmed reads again and the dedupe key stores each once (docs/lpr.md).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar

import asyncpg

from domain.backoff import reconnect_delay
from domain.events import tenant_stream
from domain.lpr import SIGNATURE_WINDOW_S
from domain.queued_read import QueuedRead
from domain.settings import Settings
from domain.watchlist import hits, lpr_alert_event
from storage import lpr_events
from storage.bus import EventBus, open_bus
from storage.db import create_pool
from storage.lpr_intake import LprIntake, RedisIntake, open_intake
from storage.objects import ObjectStore, open_object_store_for
from storage.watchlist_cache import WatchlistCache

log = logging.getLogger(__name__)
T = TypeVar("T")

BATCH_MAX = 2000
_TAKE_BLOCK_S = 1.0
_FORGET_SIGNATURES_EVERY_S = 60.0
_WATCHLIST_TTL_S = 2.0


@dataclass
class WriterCounts:
    batches: int = 0
    stored: int = 0
    stored_before: int = 0
    duplicates: int = 0
    alerts: int = 0
    failures: int = 0
    last_batch: int = 0
    last_batch_ms: float = 0.0


async def write_batch(reads: list[QueuedRead], pool: asyncpg.Pool, store: ObjectStore, bus: EventBus,
                      watchlists: WatchlistCache) -> tuple[lpr_events.BatchOutcome, int]:
    """Store a batch once, drop duplicates' images, alert on watched plates: (the outcome, alerts published)."""
    outcome = await lpr_events.store_batch(pool, reads)
    spare = [key for read in outcome.duplicates for key in read.image_keys]
    if spare:  # the first delivery's images stay; these were stored under the duplicate's own id
        await asyncio.to_thread(store.delete_many, spare)
    # Reads stored by an earlier attempt alert again: the attempt may have died before alerting
    # (at least once; the alert carries the read's id so a client can tell).
    return outcome, await _alert(outcome.stored + outcome.stored_before, bus, watchlists)


async def _alert(reads: list[QueuedRead], bus: EventBus, watchlists: WatchlistCache) -> int:
    published = 0
    for read in reads:
        try:
            matched = hits(read.plate, await watchlists.entries(read.tenant_id))
            for entry in matched:
                await bus.publish(tenant_stream(read.tenant_id), lpr_alert_event(read.tenant_id, entry, {
                    "event_id": str(read.id), "camera_id": str(read.camera_id), "plate": read.plate,
                    "captured_at": read.captured_at.isoformat(timespec="milliseconds"),
                    "received_at": read.received_at.isoformat(timespec="milliseconds"),
                    "image_keys": list(read.image_keys)}))
                published += 1
        except Exception as exc:  # the read is stored; only its alert is lost (logged)
            log.error("watchlist alert for %s not published: %s", read.plate, exc)
    return published


class LprWriter:
    """Named actor (``lpr-writer``), restarted by Ray and re-poked by the Fleet like the other services."""

    def __init__(self, settings: Settings, batch_max: int = BATCH_MAX) -> None:
        self._settings = settings
        self._batch_max = batch_max
        self._starting = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._pool: asyncpg.Pool | None = None
        self._bus: EventBus | None = None
        self._intake: LprIntake | None = None
        self.counts = WriterCounts()

    async def start(self) -> None:
        """Connect and start draining (once; later calls are no-ops)."""
        async with self._starting:
            if self._task is not None:
                return
            s = self._settings
            self._pool = await create_pool(s.database_url, min_size=1, max_size=3)
            self._bus = open_bus(s.bus_url, namespace=s.namespace)
            self._intake = open_intake(s.bus_url, self._pool)
            store = await asyncio.to_thread(open_object_store_for, s)
            self._task = asyncio.create_task(self._run(self._pool, store, self._bus, self._intake))
            if isinstance(self._intake, RedisIntake):
                await self._warn_unless_persistent(self._intake)

    @staticmethod
    async def _warn_unless_persistent(intake: RedisIntake) -> None:
        try:
            if not await intake.persistent():
                log.warning("Redis runs without appendonly: a Redis crash can lose acknowledged plate reads")
        except Exception as exc:  # Redis down now: the writer retries taking reads anyway
            log.warning("cannot tell whether Redis persists the LPR intake: %s", exc)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        for closing in (self._intake, self._bus):
            if closing is not None:
                await closing.close()
        if self._pool is not None:
            try:
                await asyncio.wait_for(self._pool.close(), 30)
            except TimeoutError:  # a connection still held by a query in flight
                self._pool.terminate()

    async def status(self) -> dict[str, Any]:
        backlog = await self._intake.backlog() if self._intake is not None else None
        return {"running": self._task is not None and not self._task.done(), "backlog": backlog,
                **self.counts.__dict__}

    async def _run(self, pool: asyncpg.Pool, store: ObjectStore, bus: EventBus, intake: LprIntake) -> None:
        watchlists = WatchlistCache(pool, ttl_s=_WATCHLIST_TTL_S)
        forgot_at = 0.0
        while True:
            entries = await self._retrying("take reads", lambda: intake.take(self._batch_max, _TAKE_BLOCK_S))
            if entries:
                started = time.perf_counter()
                ids, reads = [i for i, _ in entries], [r for _, r in entries]
                outcome, alerts = await self._retrying(
                    "store a batch", partial(write_batch, reads, pool, store, bus, watchlists))
                await self._retrying("confirm a batch", partial(intake.confirm, ids))
                self._count(len(entries), outcome, alerts, time.perf_counter() - started)
            if time.monotonic() - forgot_at > _FORGET_SIGNATURES_EVERY_S:
                forgot_at = time.monotonic()
                await self._retrying("forget signatures", lambda: lpr_events.forget_signatures(
                    pool, SIGNATURE_WINDOW_S))

    async def _retrying(self, what: str, attempt: Callable[[], Awaitable[T]]) -> T:
        """Until it works, with capped backoff: a store that is down stops the writer, never the reads."""
        failures = 0
        while True:
            try:
                return await asyncio.wait_for(attempt(), 60)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.counts.failures += 1
                delay = reconnect_delay(failures, first_s=0.2, cap_s=5.0)
                log.warning("LPR writer cannot %s (retry in %.1f s): %s", what, delay, exc)
                failures += 1
                await asyncio.sleep(delay)

    def _count(self, size: int, outcome: lpr_events.BatchOutcome, alerts: int, seconds: float) -> None:
        c = self.counts
        c.batches += 1
        c.stored += len(outcome.stored)
        c.stored_before += len(outcome.stored_before)
        c.duplicates += len(outcome.duplicates)
        c.alerts += alerts
        c.last_batch, c.last_batch_ms = size, round(seconds * 1000, 1)
        if outcome.stored_before:
            log.info("LPR writer: %d reads were stored before a restart; confirmed now", len(outcome.stored_before))
