"""The event bus: append-only, bounded streams of JSON events, read from an id onward.

One contract, two backends:
- Redis streams (``redis://host:port/db``), for production and multi-node;
- ``MemoryStreams``, the embedded default, hosted in a named Ray actor
  (``ray://event-bus``) so every process of one deployment shares it.

Ids are Redis-style ``"<ms>-<seq>"`` strings, increasing per stream, so a
client that remembers the last id it saw resumes without missing events on
either backend (the WebSocket resume of the alerts work builds on this).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import deque
from typing import Any, Protocol
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import redis.asyncio as aioredis

from domain.events import Event

BUS_ACTOR_NAME = "event-bus"
DEFAULT_MAXLEN = 10_000


class EventBus(Protocol):
    async def publish(self, stream: str, event: Event) -> str: ...

    async def read(self, stream: str, after: str = "0-0", *, count: int = 100,
                   block_s: float = 0.0) -> list[tuple[str, Event]]: ...

    async def close(self) -> None: ...


MAX_SEQUENCE = 2**64 - 1  # the largest sequence part of an id (Redis keeps it in 64 bits)


def parse_event_id(event_id: str) -> tuple[int, int]:
    ms, _, seq = event_id.partition("-")
    try:
        return int(ms), int(seq or 0)
    except ValueError:
        raise ValueError(f"bad event id {event_id!r}: expected '<ms>-<seq>'") from None


class RedisBus:
    """Redis streams, each capped at ``maxlen`` entries."""

    def __init__(self, url: str, *, prefix: str = "gtv:", maxlen: int = DEFAULT_MAXLEN) -> None:
        self._redis = aioredis.from_url(url, socket_timeout=10, socket_connect_timeout=5)
        self._prefix = prefix
        self._maxlen = maxlen

    async def publish(self, stream: str, event: Event) -> str:
        event_id = await self._redis.xadd(self._prefix + stream, {"data": json.dumps(event, default=str)},
                                          maxlen=self._maxlen, approximate=False)
        return event_id.decode() if isinstance(event_id, bytes) else str(event_id)

    async def read(self, stream: str, after: str = "0-0", *, count: int = 100,
                   block_s: float = 0.0) -> list[tuple[str, Event]]:
        parse_event_id(after)
        block = int(block_s * 1000) if block_s > 0 else None
        # Without decode_responses, entries are [(key, [(id bytes, {b"data": bytes})])].
        result: Any = await self._redis.xread({self._prefix + stream: after}, count=count, block=block)
        events: list[tuple[str, Event]] = []
        for _key, entries in result or []:
            for event_id, fields in entries:
                events.append((event_id.decode(), json.loads(fields[b"data"])))
        return events

    async def close(self) -> None:
        await self._redis.aclose()


class MemoryStreams:
    """Bounded in-memory streams with Redis-style ids: the in-Ray bus's core (no Ray here)."""

    def __init__(self, maxlen: int = DEFAULT_MAXLEN) -> None:
        self._maxlen = maxlen
        self._streams: dict[str, deque[tuple[tuple[int, int], Event]]] = {}
        self._last: dict[str, tuple[int, int]] = {}
        self._changed: dict[str, asyncio.Event] = {}

    async def publish(self, stream: str, event: Event) -> str:
        ms = int(time.time() * 1000)
        last_ms, last_seq = self._last.get(stream, (0, -1))
        key = (ms, 0) if ms > last_ms else (last_ms, last_seq + 1)
        self._last[stream] = key
        self._streams.setdefault(stream, deque(maxlen=self._maxlen)).append((key, json.loads(json.dumps(event, default=str))))
        changed = self._changed.pop(stream, None)
        if changed is not None:
            changed.set()
        return f"{key[0]}-{key[1]}"

    def _after(self, stream: str, after: tuple[int, int], count: int) -> list[tuple[str, Event]]:
        found = []
        for key, event in reversed(self._streams.get(stream, ())):
            if key <= after:
                break
            found.append((f"{key[0]}-{key[1]}", event))
        found.reverse()
        return found[:count]

    async def read(self, stream: str, after: str = "0-0", *, count: int = 100,
                   block_s: float = 0.0) -> list[tuple[str, Event]]:
        position = parse_event_id(after)
        found = self._after(stream, position, count)
        if found or block_s <= 0:
            return found
        changed = self._changed.setdefault(stream, asyncio.Event())
        try:
            await asyncio.wait_for(changed.wait(), block_s)
        except TimeoutError:
            return []
        return self._after(stream, position, count)

    async def close(self) -> None:
        pass


class RayBus:
    """Client of the in-Ray bus: a named actor running MemoryStreams."""

    def __init__(self, actor: Any) -> None:
        self._actor = actor

    async def publish(self, stream: str, event: Event) -> str:
        result: str = await self._actor.publish.remote(stream, event)
        return result

    async def read(self, stream: str, after: str = "0-0", *, count: int = 100,
                   block_s: float = 0.0) -> list[tuple[str, Event]]:
        result: list[tuple[str, Event]] = await self._actor.read.remote(stream, after, count=count, block_s=block_s)
        return result

    async def close(self) -> None:
        pass


def is_redis_url(url: str) -> bool:
    return url.startswith(("redis://", "rediss://", "unix://"))


def redis_server_and_prefix(url: str) -> tuple[str, str]:
    """``redis://host:port/db?prefix=p:`` → (the server URL, the key prefix; ``gtv:`` by default)."""
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    prefix = query.pop("prefix", ["gtv:"])[0]
    return urlunsplit(parts._replace(query=urlencode(query, doseq=True))), prefix


def open_bus(url: str, *, namespace: str) -> EventBus:
    """``redis://host:port/db[?prefix=p:]`` → Redis streams; ``ray://`` → the in-Ray bus actor."""
    if is_redis_url(url):
        server, prefix = redis_server_and_prefix(url)
        return RedisBus(server, prefix=prefix)
    if url.startswith("ray://"):
        import ray

        return RayBus(ray.get_actor(BUS_ACTOR_NAME, namespace=namespace))
    raise ValueError(f"unsupported event bus URL {url!r}: use redis://host:port/db or ray://")
