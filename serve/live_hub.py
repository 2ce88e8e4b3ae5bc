"""Fan-out of live video inside one API replica.

However many viewers of a camera a replica serves, it runs one long poll of
that camera's host (``live_frames``) and copies each fragment into every
viewer's bounded queue (domain/viewer_queue.py). The hub also keeps the
fragments since the latest keyframe, so a viewer who joins a camera already
being watched starts at once, not at the next keyframe. The poll stops when
the last viewer leaves. A camera's main stream and its sub-stream are two feeds.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from uuid import UUID

from actor_client.client import ActorClient, CameraNotRunning
from domain.viewer_queue import Outgoing, ViewerQueue
from media.live import LivePiece
from services.retry import retrying

log = logging.getLogger(__name__)

_POLL_WAIT_S = 5.0
_MAX_GOP_KEPT = 900


@dataclass(eq=False)  # viewers are distinct by identity (kept in a set)
class Viewer:
    """One viewer's queue and the signal that something is in it."""

    queue: ViewerQueue = field(default_factory=ViewerQueue)
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    error: str | None = None  # why the feed stopped, if it did

    def put(self, item: Outgoing) -> None:
        self.queue.put(item)
        self.ready.set()

    async def next(self, timeout_s: float) -> list[Outgoing]:
        """What is ready, waiting up to ``timeout_s`` for something."""
        if not len(self.queue):
            self.ready.clear()
            try:
                await asyncio.wait_for(self.ready.wait(), timeout_s)
            except TimeoutError:
                return []
        return self.queue.take()


@dataclass
class _Feed:
    viewers: set[Viewer] = field(default_factory=set)
    init: Outgoing | None = None
    init_id: int | None = None
    gop: list[Outgoing] = field(default_factory=list)  # since the latest keyframe
    task: asyncio.Task[None] | None = None


class LiveHub:
    """The replica's live feeds; each asks its camera's host at most once per ``poll_interval_s`` (what arrives
    meanwhile comes in the next answer), since a Ray call per frame per camera is most of a busy replica's work."""

    def __init__(self, actors: ActorClient, poll_interval_s: float = 0.0) -> None:
        self._actors = actors
        self._poll_interval_s = poll_interval_s
        self._feeds: dict[tuple[UUID, bool], _Feed] = {}  # (camera, sub-stream?) → its feed

    def all_viewers(self) -> int:
        """Viewers of every camera on this replica."""
        return sum(len(feed.viewers) for feed in self._feeds.values())

    def viewers(self, camera_id: UUID, sub: bool = False) -> int:
        feed = self._feeds.get((camera_id, sub))
        return len(feed.viewers) if feed else 0

    @asynccontextmanager
    async def watch(self, camera_id: UUID, sub: bool = False) -> AsyncIterator[Viewer]:
        """A viewer of the camera's main stream, or of its sub-stream with ``sub``."""
        key = (camera_id, sub)
        feed = self._feeds.get(key)
        if feed is None:
            feed = self._feeds[key] = _Feed()
            feed.task = asyncio.create_task(self._poll(camera_id, sub, feed),
                                            name=f"live-{camera_id}{'-sub' if sub else ''}")
        viewer = Viewer()
        if feed.init is not None:
            viewer.put(feed.init)
        for item in feed.gop:
            viewer.put(item)
        feed.viewers.add(viewer)
        try:
            yield viewer
        finally:
            feed.viewers.discard(viewer)
            if not feed.viewers and self._feeds.get(key) is feed:
                del self._feeds[key]
                if feed.task is not None:
                    feed.task.cancel()

    async def _poll(self, camera_id: UUID, sub: bool, feed: _Feed) -> None:
        """Follow the camera's host until the last viewer leaves (the task is cancelled then)."""
        after: int | None = None

        loop = asyncio.get_running_loop()

        async def step() -> None:
            nonlocal after
            asked = loop.time()
            for piece in await self._actors.live_frames(camera_id, after, _POLL_WAIT_S, sub):
                await self._deliver(camera_id, sub, feed, piece)
                after = piece.seq
            # What came is delivered at once; the next ask waits out the interval, so what arrives meanwhile
            # comes in one answer.
            await asyncio.sleep(max(0.0, asked + self._poll_interval_s - loop.time()))

        def failed(exc: Exception) -> None:
            if isinstance(exc, CameraNotRunning):  # viewers are told why the picture stopped
                for viewer in feed.viewers:
                    viewer.error = str(exc)
                    viewer.ready.set()

        while feed.viewers:
            await retrying(step, what=f"follow camera {camera_id} live", cap_s=5.0, on_failure=failed, log=log)

    async def _deliver(self, camera_id: UUID, sub: bool, feed: _Feed, piece: LivePiece) -> None:
        if piece.init_id != feed.init_id:
            init = await self._actors.live_init(camera_id, piece.init_id, sub)
            feed.init, feed.init_id = Outgoing(init, is_init=True), piece.init_id
            for viewer in feed.viewers:
                viewer.put(feed.init)
        item = Outgoing(piece.data, keyframe=piece.keyframe, seq=piece.seq, received_at=piece.received_at)
        if item.keyframe:
            feed.gop = []
        if len(feed.gop) < _MAX_GOP_KEPT:
            feed.gop.append(item)
        for viewer in feed.viewers:
            viewer.error = None
            viewer.put(item)
