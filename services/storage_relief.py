"""Storage policy inside a retention pass: a city over its plan's quota, and a store past its critical watermark.

Over quota a city loses its own oldest un-held footage (``purge_oldest``) or
stops recording with ``storage_full`` (``pause``); back under it, recording
resumes. Past the critical watermark the biggest cities' oldest un-held footage
goes first (or every city pauses). Held footage is never touched.
"""

from __future__ import annotations

from datetime import datetime

import asyncpg

from domain.plans import TenantPolicy
from services.purging import Freed, purge
from storage import audit, city_storage, purges
from storage.objects import ObjectStore

WATERMARK_PAUSE = "the storage is past its critical watermark"


async def enforce_storage_quota(pool: asyncpg.Pool, store: ObjectStore, pass_id: int, tenant: TenantPolicy,
                                policy: str, now: datetime, batch: int) -> Freed:
    """Purge (or pause) a tenant over its plan's storage quota; resume one back under it."""
    quota = tenant.storage_quota_bytes
    assert quota is not None
    used = (await city_storage.of_city(pool, tenant.id)).total  # recordings, thumbnails, clips and LPR images
    if used <= quota:
        if tenant.recording_paused:
            await purges.set_recording_paused(pool, tenant.id, None)
            await audit.record(pool, None, "recording.resumed", tenant_id=tenant.id,
                               detail={"used_bytes": used, "quota_bytes": quota})
        return Freed()
    if policy == "pause":
        if not tenant.recording_paused:
            reason = f"the city stores {used} bytes, over its plan's quota of {quota} bytes"
            await purges.set_recording_paused(pool, tenant.id, reason)
            await audit.record(pool, None, "recording.paused", tenant_id=tenant.id,
                               detail={"used_bytes": used, "quota_bytes": quota, "reason": "storage_full"})
        return Freed()
    freed = await purge(pool, store, pass_id, tenant, now, batch, max_bytes=used - quota)
    await audit.record(pool, None, "retention.quota_purge", tenant_id=tenant.id, detail={
        "pass_id": pass_id, "chunks": freed.chunks, "bytes": freed.bytes, "used_bytes": used, "quota_bytes": quota})
    return freed


async def relieve_storage(pool: asyncpg.Pool, store: ObjectStore, pass_id: int, policy: str, now: datetime,
                          batch: int, needed: int) -> Freed:
    """The store is nearly full: free ``needed`` bytes from the biggest tenants' oldest un-held footage, or pause
    every city's recording (``pause``)."""
    tenants = await purges.tenants_to_purge(pool)
    if policy == "pause":
        for tenant in tenants:
            if not tenant.recording_paused:
                await purges.set_recording_paused(pool, tenant.id, WATERMARK_PAUSE)
                await audit.record(pool, None, "recording.paused", tenant_id=tenant.id,
                                   detail={"reason": "storage_watermark", "needed_bytes": needed})
        return Freed()
    usage = {t.id: await purges.bytes_used(pool, t.id) for t in tenants}
    total = Freed()
    for tenant in sorted(tenants, key=lambda t: usage[t.id], reverse=True):
        if total.bytes >= needed:
            break
        freed = await purge(pool, store, pass_id, tenant, now, batch, max_bytes=needed - total.bytes)
        if freed.chunks:
            await audit.record(pool, None, "retention.watermark_purge", tenant_id=tenant.id, detail={
                "pass_id": pass_id, "chunks": freed.chunks, "bytes": freed.bytes})
        total += freed
    return total
