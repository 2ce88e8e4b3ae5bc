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

Each event is encoded once per feed (and once more for masked viewers when
masking changes it), not once per socket: subscribers get the message text.
A city's feed is held to its message budget (domain/event_budget.py, the
``event_messages_per_socket_s`` setting): past it, the city's own events wait
in its stream and come in bigger batches; no other city's feed is charged. A
feed yields the event loop after each event it fans out, so the cities' feeds
take turns and one city's burst of 200 events cannot hold the loop.

A subscriber that falls ``QUEUE_LIMIT`` events behind is told so and closed
(it resumes from its last id), so one slow browser never makes the replica hold
more and more events. Open sockets are limited per user and per city
(domain/socket_limits.py).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import Counter, deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from uuid import UUID

from domain.event_budget import MessageBudget
from domain.events import Event, tenant_stream
from domain.lpr.masking import masked_event
from domain.socket_limits import socket_refusal
from services.refusals import TooMany
from services.retry import retrying
from storage.bus import MAX_SEQUENCE, EventBus

log = logging.getLogger(__name__)

QUEUE_LIMIT = 1000
_BLOCK_S = 5.0  # under the Redis client's socket timeout
_BATCH = 200
_PUTS_PER_TURN = 8


@dataclass(eq=False)  # subscribers are distinct by identity (kept in a set)
class Subscriber:
    """One socket's events not sent yet, and the signal that some are there."""

    user_id: UUID | None
    masked: bool = False  # sees LPR plates masked (domain/lpr/masking.py)
    queue: deque[tuple[str, str]] = field(default_factory=deque)  # (event id, message text)
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    fell_behind: bool = False

    def put(self, event_id: str, message: str) -> None:
        if len(self.queue) >= QUEUE_LIMIT:
            self.fell_behind = True
        else:
            self.queue.append((event_id, message))
        self.ready.set()

    def wake(self) -> None:
        """Make ``next`` return now (the socket closed or its session ended: its loop looks)."""
        self.ready.set()

    async def next(self, timeout_s: float) -> list[tuple[str, str]]:
        """What is queued, at once or as soon as something is (or ``wake``); [] after ``timeout_s`` without."""
        if not self.queue and not self.fell_behind:
            self.ready.clear()
            try:  # a timeout scope, not wait_for: no task per wake-up, and a busy city wakes its sockets often
                async with asyncio.timeout(timeout_s):
                    await self.ready.wait()
            except TimeoutError:
                return []
        taken = list(self.queue)
        self.queue.clear()
        return taken


@dataclass
class _Feed:
    budget: MessageBudget
    subscribers: set[Subscriber] = field(default_factory=set)
    task: asyncio.Task[None] | None = None


class EventFeeds:
    def __init__(self, bus: EventBus, *, per_user: int, per_city: int, per_socket_s: float = 100.0) -> None:
        self._bus = bus
        self._per_user, self._per_city = per_user, per_city
        self._per_socket_s = per_socket_s
        self._feeds: dict[UUID, _Feed] = {}
        self._users: Counter[UUID] = Counter()

    def subscriptions(self) -> int:
        """Bus subscriptions held by this replica: one per city with an open socket."""
        return len(self._feeds)

    @asynccontextmanager
    async def subscribe(self, tenant_id: UUID, user_id: UUID | None, *,
                        masked: bool = False) -> AsyncIterator[Subscriber]:
        """Receive the city's events (as messages, plates masked if ``masked``) while the block runs (TooMany past
        the user's or the city's socket limit)."""
        feed = self._feeds.get(tenant_id)
        refusal = socket_refusal(self._users[user_id] if user_id else 0, len(feed.subscribers) if feed else 0,
                                 self._per_user, self._per_city)
        if refusal is not None:
            raise TooMany(refusal)
        if feed is None:
            feed = self._feeds[tenant_id] = _Feed(MessageBudget(self._per_socket_s))
            feed.task = asyncio.create_task(self._follow(tenant_id, feed, from_now()), name=f"events-{tenant_id}")
        subscriber = Subscriber(user_id, masked)
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
            batch = await self._bus.read(stream, after, count=_BATCH, block_s=_BLOCK_S)
            if not batch:
                return
            # Over its budget, the city waits here, in its own feed; what it publishes meanwhile stays in its
            # stream and comes with the next read.
            held_s = feed.budget.wait_s(len(batch) * len(feed.subscribers), len(feed.subscribers), time.monotonic())
            if held_s > 0:
                await asyncio.sleep(held_s)
            for event_id, event in batch:
                plain = event_message(event_id, event)
                shown = masked_event(event)
                masked = plain if shown is event else event_message(event_id, shown)
                # The other cities' feeds and sockets get their turn between events, and within an event every few
                # sockets: a socket put here is a send about to run, and a quiet city's event must not wait for a
                # busy city's whole crowd of them.
                for n, subscriber in enumerate(list(feed.subscribers), 1):
                    subscriber.put(event_id, masked if subscriber.masked else plain)
                    if n % _PUTS_PER_TURN == 0:
                        await asyncio.sleep(0)
                after = event_id
                await asyncio.sleep(0)

        while feed.subscribers:
            await retrying(step, what=f"read city {tenant_id}'s events", cap_s=5.0, log=log)


def from_now() -> str:
    """An id just before this millisecond's first: what is published from now on comes after it (the bus gives
    an event published in this very millisecond the id ``<now>-0``)."""
    return f"{int(time.time() * 1000) - 1}-{MAX_SEQUENCE}"


def event_message(event_id: str, event: Event) -> str:
    """What a socket is sent for one event (``{"id": …, "event": …}``)."""
    return json.dumps({"id": event_id, "event": event}, default=str)
