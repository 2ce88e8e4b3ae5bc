"""Clips that expire per plan: the retention pass deletes each city's finished clips older than its plan's
``clip_retention_days`` (docs/retention.md "Clips"), never one a legal hold covers.

Crash safety as for footage (services/purging.py): rows are deleted and their
objects (the clip and its signed manifest) queued in one transaction per batch,
then the queue is drained; an interrupted pass leaves a queue the next one
drains first, and never a row that points at a deleted object.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

import asyncpg

from domain.purge_rules import retention_cutoff
from services.purging import PURGE_BATCH, drain_purge_queue
from storage import audit, clips, plans
from storage.objects import ObjectStore

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ExpiredClips:
    """What one pass did to clips: deleted (rows), kept because a legal hold covers them, objects deleted."""

    clips: int = 0
    held: int = 0
    objects: int = 0


async def expire_clips(pool: asyncpg.Pool, store: ObjectStore, *, pass_id: int, now: datetime | None = None,
                       batch: int = PURGE_BATCH) -> ExpiredClips:
    """Delete every city's un-held clips finished more than its plan's ``clip_retention_days`` ago (rows, then
    the clip and manifest objects); one ``retention.clips_expired`` audit row per city that had any."""
    now = now or datetime.now(UTC)
    total = ExpiredClips()
    for tenant_id, days in (await plans.clip_retention_by_city(pool)).items():
        cutoff = retention_cutoff(now, days)
        deleted = objects = 0
        while True:  # each batch takes clips out of the candidates, so this ends once none is left
            done, queued = await clips.expire_batch(pool, tenant_id, cutoff, batch)
            deleted += done
            if queued:
                objects += await drain_purge_queue(pool, store, batch)
            if done < batch:
                break
        held = await clips.held_expired(pool, tenant_id, cutoff)
        if deleted or held:
            await audit.record(pool, None, "retention.clips_expired", tenant_id=tenant_id, end=cutoff, detail={
                "pass_id": pass_id, "clips": deleted, "held_clips": held, "clip_retention_days": days})
        if deleted:
            log.info("retention: %d clips of city %s expired (%d held)", deleted, tenant_id, held)
        total = ExpiredClips(total.clips + deleted, total.held + held, total.objects + objects)
    return total
