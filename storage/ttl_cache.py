"""A small read-through cache with a time to live, for lookups made on every request or read.

Values are re-read after ``ttl_s``, so a change made elsewhere (another API
replica, another actor) is seen within that time; ``forget`` drops a key at
once where the change is known. Bounded: past ``max_entries`` the oldest go.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class TtlCache(Generic[K, V]):
    def __init__(self, load: Callable[[K], Awaitable[V]], *, ttl_s: float, max_entries: int = 10_000) -> None:
        self._load = load
        self._ttl_s = ttl_s
        self._max_entries = max_entries
        self._entries: OrderedDict[K, tuple[float, V]] = OrderedDict()

    async def get(self, key: K) -> V:
        cached = self._entries.get(key)
        if cached is not None and time.monotonic() - cached[0] < self._ttl_s:
            return cached[1]
        value = await self._load(key)
        self._entries[key] = (time.monotonic(), value)
        self._entries.move_to_end(key)
        while len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)
        return value

    def forget(self, key: K) -> None:
        self._entries.pop(key, None)

    def clear(self) -> None:
        self._entries.clear()
