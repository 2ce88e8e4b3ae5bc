"""Storage policy inside a retention pass: a city over its plan's quota, and a store past its critical watermark.

Over quota a city loses its own oldest un-held footage (``purge_oldest``) or
stops recording with ``storage_full`` (``pause``); back under it, recording
resumes. Past the critical watermark the cities furthest over their fair share
give first (or only they pause), never one within its share while another is
over (domain/fair_relief.py). Held footage is never touched.
"""

from __future__ import annotations

from datetime import datetime

import asyncpg

from domain.fair_relief import CityUse, relief_plan, shares, to_pause
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
                          batch: int, needed: int, capacity: int | None = None) -> Freed:
    """The store is nearly full: free ``needed`` bytes from the oldest un-held footage of the cities furthest over
    their fair share (``pause``: stop those cities' recording), never a city within its share while another is
    over (domain/fair_relief.py)."""
    tenants = {t.id: t for t in await purges.tenants_to_purge(pool)}
    stored = await city_storage.every_city(pool)
    uses = [CityUse(t.id, stored[t.id].total if t.id in stored else 0, t.storage_quota_bytes)
            for t in tenants.values()]
    share = shares(uses, capacity)
    if policy == "pause":
        for tenant_id in to_pause(uses, capacity):
            if not tenants[tenant_id].recording_paused:
                await purges.set_recording_paused(pool, tenant_id, WATERMARK_PAUSE)
                await audit.record(pool, None, "recording.paused", tenant_id=tenant_id, detail={
                    "reason": "storage_watermark", "needed_bytes": needed, "share_bytes": share[tenant_id]})
        return Freed()
    total = Freed()
    for tenant_id, amount in relief_plan(uses, capacity, needed):
        freed = await purge(pool, store, pass_id, tenants[tenant_id], now, batch, max_bytes=amount)
        if freed.chunks:
            await audit.record(pool, None, "retention.watermark_purge", tenant_id=tenant_id, detail={
                "pass_id": pass_id, "chunks": freed.chunks, "bytes": freed.bytes, "share_bytes": share[tenant_id]})
        total += freed
    return total
