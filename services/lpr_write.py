"""Writing plate reads: one batch stored once (COPY, deduplicated), duplicates' images dropped, watched plates
alerted. The LPR writer actor calls this for each batch it takes from the intake (docs/lpr.md).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import asyncpg

from domain.events import lpr_alert_event, tenant_stream
from domain.lpr.queued_read import QueuedRead
from domain.lpr.watchlist import hits
from storage import lpr_events
from storage.bus import EventBus
from storage.objects import ObjectStore
from storage.watchlist_cache import WatchlistCache

log = logging.getLogger(__name__)


async def write_batch(reads: list[QueuedRead], pool: asyncpg.Pool, store: ObjectStore, bus: EventBus,
                      watchlists: WatchlistCache, *, on_alert: Callable[[QueuedRead], None] = lambda read: None,
                      ) -> tuple[lpr_events.BatchOutcome, int]:
    """Store a batch once, drop duplicates' images, alert on watched plates: (the outcome, alerts published).

    ``on_alert`` hears of each read whose alert was published (the writer measures alert latency with it)."""
    outcome = await lpr_events.store_batch(pool, reads)
    spare = [key for read in outcome.duplicates for key in read.image_keys]
    if spare:  # the first delivery's images stay; these were stored under the duplicate's own id
        await asyncio.to_thread(store.delete_many, spare)
    # Reads stored by an earlier attempt alert again: the attempt may have died before alerting
    # (at least once; the alert carries the read's id so a client can tell).
    return outcome, await _alert(outcome.stored + outcome.stored_before, bus, watchlists, on_alert)


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
            log.error("watchlist alert for %s not published: %s", read.plate, exc)
    return published
