"""Plate reads that expire: each city's reads older than its plan's LPR retention are anonymized.

Part of the retention pass (services/purge_pass.py): per city, batches of ``LPR_EXPIRY_BATCH`` reads get the keyed
pseudonym instead of their plate and lose their images (queued, then deleted from the store); held reads stay.
The city's dead letters (reads that could not be stored, plate included) older than the same cutoff are deleted.
One audit row per city that had anything expire (``retention.lpr_anonymized``, with the counts).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from domain.lpr.pseudonym import pseudonym
from domain.lpr.retention import LPR_EXPIRY_BATCH, lpr_cutoff, lpr_retention_days
from services.purging import drain_purge_queue
from storage import audit, lpr_dead_letters, lpr_expiry
from storage.objects import ObjectStore


@dataclass(frozen=True)
class ExpiredReads:
    """What one pass did to plate reads: anonymized, their images queued for deletion, held ones kept."""

    reads: int = 0
    images: int = 0
    held: int = 0


async def anonymize_expired_reads(pool: asyncpg.Pool, store: ObjectStore, pseudonym_key: bytes, *, pass_id: int,
                                  now: datetime, batch: int = LPR_EXPIRY_BATCH) -> ExpiredReads:
    """Every city's expired, un-held plate reads anonymized and their images deleted."""
    pseudonym_of = functools.partial(pseudonym, pseudonym_key)
    total = ExpiredReads()
    for city in await lpr_expiry.cities(pool):
        days = lpr_retention_days(city.retention_days, city.lpr_retention_days)
        cutoff = lpr_cutoff(now, days)
        reads = images = 0
        while True:  # each batch takes reads out of the candidates, so this ends once none is left
            done, queued = await lpr_expiry.anonymize_expired_batch(pool, city.id, cutoff, batch, pseudonym_of)
            reads, images = reads + done, images + queued
            if queued:
                await drain_purge_queue(pool, store, batch)
            if done < batch:
                break
        held = await lpr_expiry.count_held(pool, city.id, cutoff)
        dead_letters = await lpr_dead_letters.delete_older(pool, city.id, cutoff)
        if reads or held or dead_letters:
            await audit.record(pool, None, "retention.lpr_anonymized", tenant_id=city.id, end=cutoff, detail={
                "pass_id": pass_id, "reads": reads, "images": images, "held_reads": held,
                "dead_letters_deleted": dead_letters, "lpr_retention_days": days})
        total = ExpiredReads(total.reads + reads, total.images + images, total.held + held)
    return total
