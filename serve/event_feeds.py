"""One bus subscription per city per API replica; every ``/events`` socket of the city is served from it.

Each socket used to hold its own blocking read on the bus: a city with 500
open consoles held 500 Redis connections (or 500 calls into the in-Ray bus)
and could exhaust what every city's sockets share. Now the first socket of a
city on this replica starts the city's **feed**, one task reading the city's
stream from "now" on, which copies each event into every subscriber's bounded
queue; the last socket to leave stops it. A socket that resumes from an older
``last_id`` catches up with its own short, non-blocking reads of the stream
first (bounded by the stream's length), then takes its queue, skipping what it
already sent: registered before catching up, it misses nothing.

A subscriber that falls ``QUEUE_LIMIT`` events behind is told so and closed
(it resumes from its last id), so one slow browser never makes the replica hold
more and more events. Open sockets are limited per user and per city
(domain/socket_limits.py).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter, deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from uuid import UUID

from domain.events import Event, tenant_stream
from domain.socket_limits import socket_refusal
from services.refusals import TooMany
from services.retry import retrying
from storage.bus import MAX_SEQUENCE, EventBus

log = logging.getLogger(__name__)

QUEUE_LIMIT = 1000
_BLOCK_S = 5.0  # under the Redis client's socket timeout
_BATCH = 200


@dataclass(eq=False)  # subscribers are distinct by identity (kept in a set)
class Subscriber:
    """One socket's events not sent yet, and the signal that some are there."""

    user_id: UUID | None
    queue: deque[tuple[str, Event]] = field(default_factory=deque)
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    fell_behind: bool = False

    def put(self, event_id: str, event: Event) -> None:
        if len(self.queue) >= QUEUE_LIMIT:
            self.fell_behind = True
        else:
            self.queue.append((event_id, event))
        self.ready.set()

    async def next(self, timeout_s: float) -> list[tuple[str, Event]]:
        if not self.queue and not self.fell_behind:
            self.ready.clear()
            try:
                await asyncio.wait_for(self.ready.wait(), timeout_s)
            except TimeoutError:
                return []
        taken = list(self.queue)
        self.queue.clear()
        return taken


@dataclass
class _Feed:
    subscribers: set[Subscriber] = field(default_factory=set)
    task: asyncio.Task[None] | None = None


class EventFeeds:
    def __init__(self, bus: EventBus, *, per_user: int, per_city: int) -> None:
        self._bus = bus
        self._per_user, self._per_city = per_user, per_city
        self._feeds: dict[UUID, _Feed] = {}
        self._users: Counter[UUID] = Counter()

    def subscriptions(self) -> int:
        """Bus subscriptions held by this replica: one per city with an open socket."""
        return len(self._feeds)

    @asynccontextmanager
    async def subscribe(self, tenant_id: UUID, user_id: UUID | None) -> AsyncIterator[Subscriber]:
        """Receive the city's events while the block runs (TooMany past the user's or the city's socket limit)."""
        feed = self._feeds.get(tenant_id)
        refusal = socket_refusal(self._users[user_id] if user_id else 0, len(feed.subscribers) if feed else 0,
                                 self._per_user, self._per_city)
        if refusal is not None:
            raise TooMany(refusal)
        if feed is None:
            feed = self._feeds[tenant_id] = _Feed()
            feed.task = asyncio.create_task(self._follow(tenant_id, feed, from_now()), name=f"events-{tenant_id}")
        subscriber = Subscriber(user_id)
        feed.subscribers.add(subscriber)
        if user_id:
            self._users[user_id] += 1
        try:
            yield subscriber
        finally:
            feed.subscribers.discard(subscriber)
            if user_id:
                self._users[user_id] -= 1
                if not self._users[user_id]:
                    del self._users[user_id]
            if not feed.subscribers and self._feeds.get(tenant_id) is feed:
                del self._feeds[tenant_id]
                if feed.task is not None:
                    feed.task.cancel()

    async def _follow(self, tenant_id: UUID, feed: _Feed, after: str) -> None:
        """Read the city's stream until the last subscriber leaves (the task is cancelled then)."""
        stream = tenant_stream(tenant_id)

        async def step() -> None:
            nonlocal after
            for event_id, event in await self._bus.read(stream, after, count=_BATCH, block_s=_BLOCK_S):
                for subscriber in feed.subscribers:
                    subscriber.put(event_id, event)
                after = event_id

        while feed.subscribers:
            await retrying(step, what=f"read city {tenant_id}'s events", cap_s=5.0, log=log)


def from_now() -> str:
    """An id just before this millisecond's first: what is published from now on comes after it (the bus gives
    an event published in this very millisecond the id ``<now>-0``)."""
    return f"{int(time.time() * 1000) - 1}-{MAX_SEQUENCE}"
