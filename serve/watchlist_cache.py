"""Each API replica's copy of the cities' watchlists, re-read every few seconds.

Matching runs on every stored plate read, so it must not cost a query each
time; a change made through another replica is seen within ``ttl_s``.
"""

from __future__ import annotations

import time
from uuid import UUID

import asyncpg

from domain.watchlist import WatchEntry
from storage import watchlists


class WatchlistCache:
    def __init__(self, pool: asyncpg.Pool, ttl_s: float = 5.0) -> None:
        self._pool = pool
        self._ttl_s = ttl_s
        self._entries: dict[UUID, tuple[float, list[WatchEntry]]] = {}

    async def entries(self, tenant_id: UUID) -> list[WatchEntry]:
        cached = self._entries.get(tenant_id)
        if cached is not None and time.monotonic() - cached[0] < self._ttl_s:
            return cached[1]
        fresh = await watchlists.entries(self._pool, tenant_id)
        self._entries[tenant_id] = (time.monotonic(), fresh)
        return fresh

    def forget(self, tenant_id: UUID) -> None:
        self._entries.pop(tenant_id, None)
