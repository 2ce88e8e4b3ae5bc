"""The retention pass: purge each city's footage older than its plan, never what a legal hold covers.

One pass goes over every city: expired, un-held chunks are deleted (rows, then
objects); then the plan's storage quota is applied, and — when the object store
is past its critical watermark — the deployment's relief policy
(services/storage_relief.py). Everything deleted is reported per camera and
city-local day.

Crash safety (docs/retention.md): rows are deleted and their objects queued in
one transaction per batch; objects are deleted from the queue afterwards. A
pass killed anywhere leaves committed deletions, a queue the next pass drains
first, and never a row that points at a deleted object.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime

import asyncpg

from domain.evidence import EvidenceKey
from domain.purge_rules import retention_cutoff
from services.city_deletion import delete_due_cities
from services.clip_expiry import expire_clips
from services.lpr_expiry import ExpiredReads, anonymize_expired_reads
from services.purging import PURGE_BATCH, Freed, drain_purge_queue, purge
from services.storage_relief import enforce_storage_quota, relieve_storage
from storage import audit, purges
from storage.objects import ObjectStore

log = logging.getLogger(__name__)

@dataclass(frozen=True)
class PassResult:
    pass_id: int
    chunks: int
    bytes: int
    held_chunks: int
    objects_deleted: int
    seconds: float
    lpr_reads_anonymized: int = 0  # plate reads past the city's LPR retention (services/lpr_expiry.py)
    lpr_reads_held: int = 0


async def retention_pass(pool: asyncpg.Pool, store: ObjectStore, *, trigger: str, now: datetime | None = None,
                         batch: int = PURGE_BATCH, storage_full_policy: str = "purge_oldest",
                         free_bytes: int = 0, capacity_bytes: int | None = None, evidence_key: EvidenceKey | None = None,
                         pseudonym_key: bytes | None = None) -> PassResult:
    """One pass over every tenant: delete expired, un-held chunks (rows, then objects), apply storage quotas,
    anonymize expired plate reads (with ``pseudonym_key``, the deployment's ``Settings.key("lpr-pseudonym")``;
    without it plate reads are left alone), then — if the store is past its critical watermark — free
    ``free_bytes`` per the policy; report it all. With ``evidence_key`` (which signs their reports), cities past
    their deletion's grace period are deleted first (services/city_deletion.py)."""
    started = time.monotonic()
    now = now or datetime.now(UTC)
    total = Freed(objects=await drain_purge_queue(pool, store, batch))  # what an interrupted pass left
    if evidence_key is not None:
        await delete_due_cities(pool, store, evidence_key, now=now)
    pass_id = await purges.start_pass(pool, trigger)
    held = 0
    plates = ExpiredReads()
    try:
        for tenant in await purges.tenants_to_purge(pool):
            cutoff = retention_cutoff(now, tenant.retention_days)
            tenant_held = await purges.record_held(pool, pass_id, tenant.id, cutoff, tenant.time_zone)
            expired = await purge(pool, store, pass_id, tenant, cutoff, batch)
            if expired.chunks or tenant_held:
                await audit.record(pool, None, "retention.purged", tenant_id=tenant.id, end=cutoff, detail={
                    "pass_id": pass_id, "chunks": expired.chunks, "bytes": expired.bytes,
                    "held_chunks": tenant_held, "retention_days": tenant.retention_days})
            total += expired
            if tenant.storage_quota_bytes:
                total += await enforce_storage_quota(pool, store, pass_id, tenant, storage_full_policy, now, batch)
            held += tenant_held
        await expire_clips(pool, store, pass_id=pass_id, now=now, batch=batch)
        if pseudonym_key is not None:
            plates = await anonymize_expired_reads(pool, store, pseudonym_key, pass_id=pass_id, now=now, batch=batch)
        if free_bytes > total.bytes:
            total += await relieve_storage(pool, store, pass_id, storage_full_policy, now, batch,
                                           free_bytes - total.bytes, capacity_bytes)
        await purges.finish_pass(pool, pass_id, state="done")
    except BaseException as exc:  # cancelled (stopping) or failed: what was committed stays done
        state = "interrupted" if isinstance(exc, asyncio.CancelledError) else "failed"
        await asyncio.shield(purges.finish_pass(pool, pass_id, state=state, error=repr(exc)[:500]))
        raise
    return PassResult(pass_id, total.chunks, total.bytes, held, total.objects, round(time.monotonic() - started, 3),
                      plates.reads, plates.held)
