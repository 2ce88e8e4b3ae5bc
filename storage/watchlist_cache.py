"""The cities' watchlists as the LPR writer matches reads against them, re-read every few seconds.

Matching runs on every stored plate read, so it must not cost a query each
time; a change made through the API is seen within ``ttl_s``.
"""

from __future__ import annotations

from functools import partial
from uuid import UUID

import asyncpg

from domain.lpr.watchlist import WatchEntry
from storage import watchlists
from storage.ttl_cache import TtlCache


class WatchlistCache:
    def __init__(self, pool: asyncpg.Pool, ttl_s: float = 5.0) -> None:
        self._cache: TtlCache[UUID, list[WatchEntry]] = TtlCache(partial(watchlists.list_for_tenant, pool), ttl_s=ttl_s)

    async def entries(self, tenant_id: UUID) -> list[WatchEntry]:
        return await self._cache.get(tenant_id)
