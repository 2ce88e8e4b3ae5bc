"""The batched LPR writer: drains the intake into ``lpr_events`` and alerts on watched plates.

Webhooks only make a read durable (images in the object store, the read in the
intake) and answer; this actor turns whatever has accumulated into one COPY and
one transaction per batch (services/lpr_write.py), so the ingest rate is bounded
by PostgreSQL's bulk path, not by one INSERT per request. A batch is confirmed
to the intake only after its transaction commits: killed anywhere, the restarted
writer gets the unconfirmed reads again and the dedupe key stores each once
(docs/lpr.md). A read that can never be stored is dead-lettered by the batch
write and confirmed with the rest; only a transient failure is retried. The
partitions of the current month ± 1 are made at start and at each new month.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any, TypeVar

from actors.metrics import LprWriterMetrics
from actors.platform_actor import PlatformActor
from domain.lpr.bounds import month_of, premade_months
from domain.lpr.queued_read import QueuedRead
from domain.lpr.signature import SIGNATURE_WINDOW_S
from domain.settings import Settings
from services.lpr_write import write_batch
from services.retry import retrying
from storage import lpr_dead_letters, lpr_events
from storage.lpr_intake import LprIntake, RedisIntake, open_intake
from storage.watchlist_cache import WatchlistCache

log = logging.getLogger(__name__)
T = TypeVar("T")

BATCH_MAX = 2000
_TAKE_BLOCK_S = 1.0
_FORGET_SIGNATURES_EVERY_S = 60.0
_WATCHLIST_TTL_S = 2.0
_STEP_TIMEOUT_S = 60.0


def _age_s(since: datetime) -> float:
    return (datetime.now(UTC) - since).total_seconds()


@dataclass
class WriterCounts:
    batches: int = 0
    stored: int = 0
    stored_before: int = 0
    duplicates: int = 0
    alerts: int = 0
    dead_lettered: int = 0
    failures: int = 0
    last_batch: int = 0
    last_batch_ms: float = 0.0


class LprWriter(PlatformActor):
    """Named actor (``lpr-writer``), restarted by Ray and re-poked by the Fleet like the other services."""

    pool_size = 3

    def __init__(self, settings: Settings, batch_max: int = BATCH_MAX) -> None:
        super().__init__(settings)
        self._batch_max = batch_max
        self._intake: LprIntake | None = None
        self.counts = WriterCounts()
        self._metrics = LprWriterMetrics()

    async def _prepare(self) -> None:
        self._intake = open_intake(self.settings.bus_url, self.pool)
        if isinstance(self._intake, RedisIntake):
            await self._warn_unless_persistent(self._intake)

    def _background(self) -> list[Coroutine[Any, Any, None]]:
        return [self._run(), self._measure_forever(self._metrics)]

    async def _close(self) -> None:
        if self._intake is not None:
            await self._intake.close()

    @staticmethod
    async def _warn_unless_persistent(intake: RedisIntake) -> None:
        try:
            if not await intake.persistent():
                log.warning("Redis runs without appendonly: a Redis crash can lose acknowledged plate reads")
        except Exception as exc:  # Redis down now: the writer retries taking reads anyway
            log.warning("cannot tell whether Redis persists the LPR intake: %s", exc)

    async def status(self) -> dict[str, Any]:
        backlog = await self._intake.backlog() if self._intake is not None else None
        running = bool(self._tasks) and not self._tasks[0].done()
        return {"running": running, "backlog": backlog, **asdict(self.counts)}

    async def _run(self) -> None:
        intake, pool, bus = self._intake, self.pool, self.bus
        assert intake is not None and bus is not None
        watchlists = WatchlistCache(pool, ttl_s=_WATCHLIST_TTL_S)
        forgot_at = 0.0
        partitioned: datetime | None = None
        while True:
            if (month := month_of(datetime.now(UTC))) != partitioned:  # at start, then monthly
                await self._retrying("make partitions", partial(self._make_partitions, month))
                partitioned = month
            entries = await self._retrying("take reads", lambda: intake.take(self._batch_max, _TAKE_BLOCK_S))
            if entries:
                started = time.perf_counter()
                ids, reads = [i for i, _ in entries], [r for _, r in entries]
                outcome, alerts = await self._retrying(
                    "store a batch", partial(write_batch, reads, pool, self.store, bus, watchlists,
                                             on_alert=self._alerted))
                await self._retrying("confirm a batch", partial(intake.confirm, ids))
                self._count(len(entries), outcome, alerts, time.perf_counter() - started)
                self._metrics.written(len(outcome.stored), _age_s(min(r.received_at for r in reads)))
            if time.monotonic() - forgot_at > _FORGET_SIGNATURES_EVERY_S:
                forgot_at = time.monotonic()
                await self._retrying("forget signatures", lambda: lpr_events.forget_signatures(
                    pool, SIGNATURE_WINDOW_S))

    async def _make_partitions(self, month: datetime) -> None:
        for premade in premade_months(month):
            await lpr_events.ensure_partition(self.pool, premade)

    async def _retrying(self, what: str, attempt: Callable[[], Awaitable[T]]) -> T:
        """Until it works: a store that is down stops the writer, never the reads."""
        return await retrying(attempt, what=f"write plate reads: {what}", first_s=0.2, cap_s=5.0,
                              timeout_s=_STEP_TIMEOUT_S, on_failure=self._failed, log=log)

    def _alerted(self, read: QueuedRead) -> None:
        self._metrics.sent("lpr", _age_s(read.received_at))

    async def _measure(self) -> None:
        """What waits for the writer (the intake counts it; nothing here is on the write path)."""
        if self._intake is not None:
            self._metrics.waiting(await self._intake.backlog(), await lpr_dead_letters.count(self.pool))

    def _failed(self, _: Exception) -> None:
        self.counts.failures += 1

    def _count(self, size: int, outcome: lpr_events.BatchOutcome, alerts: int, seconds: float) -> None:
        c = self.counts
        c.batches += 1
        c.stored += len(outcome.stored)
        c.stored_before += len(outcome.stored_before)
        c.duplicates += len(outcome.duplicates)
        c.alerts += alerts
        c.dead_lettered += len(outcome.refused)
        c.last_batch, c.last_batch_ms = size, round(seconds * 1000, 1)
        if outcome.stored_before:
            log.info("LPR writer: %d reads were stored before a restart; confirmed now", len(outcome.stored_before))


