"""The LPR intake: where a webhook puts a read before answering 2xx, and the batched writer takes it from.

One contract, two backends, chosen with the event bus:
- a Redis stream read through a consumer group (``redis://`` bus): an entry
  stays pending until the writer confirms it, so a writer killed mid-batch
  gets the same entries again when it restarts;
- the ``lpr_intake`` table (embedded default, no Redis): rows are deleted when
  confirmed.
Either way delivery to the writer is at least once; ``lpr_events``' unique
dedupe key makes storing exactly once. Durability is the backend's: Redis must
run with ``appendonly yes`` (see docs/lpr.md).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any, Protocol

import asyncpg
import redis.asyncio as aioredis
from redis.exceptions import ResponseError

from domain.lpr.queued_read import QueuedRead
from storage.bus import is_redis_url, redis_server_and_prefix

_GROUP = "lpr-writer"
_CONSUMER = "writer"
_CHANNEL = "lpr_intake"
_LOOK_EVERY_S = 1.0


class LprIntake(Protocol):
    async def append(self, read: QueuedRead) -> None: ...

    async def take(self, count: int, block_s: float) -> list[tuple[str, QueuedRead]]:
        """Up to ``count`` unconfirmed reads, oldest first; waits up to ``block_s`` when there are none."""
        ...

    async def confirm(self, ids: list[str]) -> None: ...

    async def backlog(self) -> int: ...

    async def close(self) -> None: ...


class RedisIntake:
    def __init__(self, url: str, *, prefix: str) -> None:
        self._redis = aioredis.from_url(url, socket_timeout=10, socket_connect_timeout=3)
        self._key = prefix + "lpr:intake"
        self._group_ready = False
        self._pending_first = True  # after a (re)start, entries taken but never confirmed come back first

    async def append(self, read: QueuedRead) -> None:
        await self._redis.xadd(self._key, {"r": read.to_json()})

    async def _ensure_group(self) -> None:
        if self._group_ready:
            return
        try:
            await self._redis.xgroup_create(self._key, _GROUP, id="0", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise
        self._group_ready = True

    async def take(self, count: int, block_s: float) -> list[tuple[str, QueuedRead]]:
        await self._ensure_group()
        if self._pending_first:
            result: Any = await self._redis.xreadgroup(_GROUP, _CONSUMER, {self._key: "0"}, count=count)
            entries = result[0][1] if result else []
            if entries:
                return [(i.decode(), QueuedRead.from_json(f[b"r"])) for i, f in entries]
            self._pending_first = False
        block = max(1, int(block_s * 1000)) if block_s > 0 else None
        result = await self._redis.xreadgroup(_GROUP, _CONSUMER, {self._key: ">"}, count=count, block=block)
        return [(i.decode(), QueuedRead.from_json(f[b"r"])) for _, entries in result or [] for i, f in entries]

    async def confirm(self, ids: list[str]) -> None:
        if ids:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.xack(self._key, _GROUP, *ids)
                pipe.xdel(self._key, *ids)
                await pipe.execute()

    async def backlog(self) -> int:
        length: int = await self._redis.xlen(self._key)
        return length

    async def persistent(self) -> bool:
        """Whether Redis writes an append-only file (without it, a Redis crash loses acknowledged reads)."""
        config: dict[Any, Any] = await self._redis.config_get("appendonly")
        return config.get("appendonly", config.get(b"appendonly")) in ("yes", b"yes")

    async def close(self) -> None:
        await self._redis.aclose()


class PostgresIntake:
    """Rows in ``lpr_intake``; each append NOTIFYs the writer, which also looks every second (a missed wake-up)."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool
        self._listener: asyncpg.Connection | None = None
        self._appended = asyncio.Event()

    async def append(self, read: QueuedRead) -> None:
        await self._pool.execute(
            "WITH queued AS (INSERT INTO lpr_intake (event) VALUES ($1) RETURNING 1)"
            f" SELECT pg_notify('{_CHANNEL}', '') FROM queued", read.to_json())

    def _wake(self, *_: object) -> None:
        self._appended.set()

    async def _listen(self) -> None:
        if self._listener is None or self._listener.is_closed():
            self._listener = await self._pool.acquire()
            await self._listener.add_listener(_CHANNEL, self._wake)

    async def take(self, count: int, block_s: float) -> list[tuple[str, QueuedRead]]:
        await self._listen()
        deadline = time.monotonic() + block_s
        while True:
            self._appended.clear()
            rows = await self._pool.fetch("SELECT seq, event FROM lpr_intake ORDER BY seq LIMIT $1", count)
            left = deadline - time.monotonic()
            if rows or left <= 0:
                return [(str(r["seq"]), QueuedRead.from_json(r["event"])) for r in rows]
            try:
                await asyncio.wait_for(self._appended.wait(), min(left, _LOOK_EVERY_S))
            except TimeoutError:
                pass

    async def confirm(self, ids: list[str]) -> None:
        if ids:
            await self._pool.execute("DELETE FROM lpr_intake WHERE seq = ANY($1::bigint[])", [int(i) for i in ids])

    async def backlog(self) -> int:
        count: int = await self._pool.fetchval("SELECT count(*) FROM lpr_intake")
        return count

    async def close(self) -> None:
        if self._listener is not None and not self._listener.is_closed():
            await self._listener.remove_listener(_CHANNEL, self._wake)
            await self._pool.release(self._listener)
        self._listener = None


def open_intake(bus_url: str, pool: asyncpg.Pool) -> LprIntake:
    """Redis when the deployment's bus is Redis (same server and key prefix), else PostgreSQL."""
    if is_redis_url(bus_url):
        server, prefix = redis_server_and_prefix(bus_url)
        return RedisIntake(server, prefix=prefix)
    return PostgresIntake(pool)
