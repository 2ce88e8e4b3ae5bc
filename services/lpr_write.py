"""Writing plate reads: one batch stored once (COPY, deduplicated), duplicates' images dropped, watched plates
alerted, and reads that can never be stored set aside. The LPR writer actor calls this for each batch it takes
from the intake (docs/lpr.md).

One bad read must not stop the others. A read whose capture time falls outside the months the writer keeps is
dead-lettered before anything is tried (it would need a partition outside the window). If PostgreSQL then refuses
the batch for its *data* (a NUL, a value too large for an index, an encoding error), the batch is halved and each
half tried again, until the failing reads stand alone: at most log2(n) rounds deep, and every other read is stored.
A *transient* failure (PostgreSQL down, a lost connection) is raised instead, so the whole batch is retried later
with backoff and nothing is dead-lettered. Halves stored before a transient failure are harmless: the retry finds
them stored (same read ids) and confirms them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime

import asyncpg

from domain.events import lpr_alert_event, tenant_stream
from domain.lpr.bounds import outside_writable_window
from domain.lpr.queued_read import QueuedRead
from domain.lpr.watchlist import hits
from storage import lpr_dead_letters, lpr_events
from storage.bus import EventBus
from storage.lpr_dead_letters import NewDeadLetter
from storage.objects import ObjectStore
from storage.watchlist_cache import WatchlistCache

log = logging.getLogger(__name__)

# Refusals of the data itself: the same reads fail the same way on every attempt. asyncpg's client-side
# encoding errors are ValueErrors (a lone surrogate, a number out of range).
DATA_ERRORS: tuple[type[BaseException], ...] = (
    asyncpg.DataError,  # class 22: a NUL (CharacterNotInRepertoire), a bad datetime, a numeric overflow…
    asyncpg.IntegrityConstraintViolationError,  # class 23: a NOT NULL or CHECK the read breaks
    asyncpg.ProgramLimitExceededError,  # 54000: an index row too large (a key of several KB)
    ValueError,
    OverflowError,
    TypeError,
)


async def write_batch(reads: list[QueuedRead], pool: asyncpg.Pool, store: ObjectStore, bus: EventBus,
                      watchlists: WatchlistCache, *, now: datetime | None = None,
                      on_alert: Callable[[QueuedRead], None] = lambda read: None,
                      ) -> tuple[lpr_events.BatchOutcome, int]:
    """Store a batch once, dead-letter what cannot be stored, drop duplicates' images, alert on watched plates:
    (the outcome, alerts published). Raises only on a transient failure (retry the whole batch later).
    ``on_alert`` hears of each read whose alert was published (the writer measures alert latency with it)."""
    now = now or datetime.now(UTC)
    writable: list[QueuedRead] = []
    refused: list[tuple[QueuedRead, str]] = []
    for read in reads:
        why = outside_writable_window(read.captured_at, now)
        if why is None:
            writable.append(read)
        else:
            refused.append((read, why))
    outcome = await store_isolating(pool, writable)
    refused += outcome.refused
    if refused:
        added = await lpr_dead_letters.add(pool, [_letter(read, why) for read, why in refused])
        log.error("LPR writer: %d reads cannot be stored and went to lpr_dead_letters (%d new): first: %s",
                  len(refused), added, refused[0][1])
    spare = [key for read in outcome.duplicates for key in read.image_keys]
    if spare:  # the first delivery's images stay; these were stored under the duplicate's own id
        await asyncio.to_thread(store.delete_many, spare)
    # Reads stored by an earlier attempt alert again: the attempt may have died before alerting
    # (at least once; the alert carries the read's id so a client can tell).
    alerts = await _alert(outcome.stored + outcome.stored_before, bus, watchlists, on_alert)
    return lpr_events.BatchOutcome(outcome.stored, outcome.stored_before, outcome.duplicates, refused), alerts


async def store_isolating(pool: asyncpg.Pool, reads: list[QueuedRead]) -> lpr_events.BatchOutcome:
    """``store_batch``, halving the batch on a data error until each failing read stands alone (then it is in
    ``refused`` with the error). Transient failures propagate."""
    if not reads:
        return lpr_events.BatchOutcome([], [], [])
    try:
        return await lpr_events.store_batch(pool, reads)
    except DATA_ERRORS as exc:
        if len(reads) == 1:
            return lpr_events.BatchOutcome([], [], [], [(reads[0], f"{type(exc).__name__}: {exc}")])
        log.warning("LPR writer: a batch of %d reads refused for its data (%s); halving it", len(reads), exc)
    middle = len(reads) // 2
    first = await store_isolating(pool, reads[:middle])
    second = await store_isolating(pool, reads[middle:])
    return lpr_events.BatchOutcome(first.stored + second.stored, first.stored_before + second.stored_before,
                                   first.duplicates + second.duplicates, first.refused + second.refused)


def _letter(read: QueuedRead, why: str) -> NewDeadLetter:
    return NewDeadLetter(read=read.to_json().decode(), error=why, read_id=read.id, tenant_id=read.tenant_id,
                         camera_id=read.camera_id)


async def _alert(reads: list[QueuedRead], bus: EventBus, watchlists: WatchlistCache,
                 on_alert: Callable[[QueuedRead], None]) -> int:
    published = 0
    for read in reads:
        try:
            for entry in hits(read.plate, await watchlists.entries(read.tenant_id)):
                await bus.publish(tenant_stream(read.tenant_id), lpr_alert_event(read, entry))
                published += 1
                on_alert(read)
        except Exception as exc:  # the read is stored; only its alert is lost (logged)
            log.error("watchlist alert for read %s not published: %s", read.id, exc)  # no plate in logs (docs/lgpd.md)
    return published
