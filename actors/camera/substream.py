"""The camera's sub-stream: a second live view, opened only while someone watches it, never recorded.

Mosaic tiles watch a camera's lighter sub-stream instead of its 1080p main one (docs/watching.md "Sub-streams").
It runs the very same ingest as the recording (actors/camera/ingest.py: open, read, reconnect with backoff,
classify errors) and the same live feed (actors/camera/live_view.py), with the chunks it would record thrown
away. It has a health machine of its own: a broken sub-stream shows its own reason in the camera's status and
never touches the main one's state, status history or events.

The first read starts it; every read renews a lease, and it stops ``linger_s`` after the last (a viewer leaving
and coming back within the linger — a page reload, a mosaic paging — reuses the open stream).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from uuid import UUID

from actors.camera.handoff import LoopHandoff
from actors.camera.health_monitor import HealthMonitor
from actors.camera.ingest import CameraIngest
from actors.camera.live_view import LiveView
from domain.camera_health import HealthPolicy, Transition
from media.ingest_stats import IngestStats

log = logging.getLogger(__name__)

LINGER_S = 15.0  # the sub-stream stays open this long after its last read
_STOP_JOIN_S = 5.0
_MAX_RENEWALS = 1_000_000  # a bound on the wait's wake-ups: at one per linger, far beyond any watch


class _NoChunks:
    """The chunk sink of a stream that is watched, not recorded: every chunk is dropped as it is written."""

    def open_chunk(self, start_ms: int, init: bytes) -> None:
        pass

    def append(self, parts: Sequence[bytes]) -> None:
        pass

    def close_chunk(self) -> Path | None:
        return None  # nothing closed, so nothing is ever handed to an uploader


class SubstreamFeed:
    """The sub-stream's live view, its ingest started on demand and stopped when nobody reads it."""

    def __init__(self, camera_id: UUID, url: str, handoff: LoopHandoff, *, policy: HealthPolicy,
                 timeout_s: float, linger_s: float | None = None) -> None:
        self._camera_id = camera_id
        self._url = url  # with credentials: never shown, never logged
        self._handoff = handoff
        self._policy = policy
        self._timeout_s = timeout_s
        self._linger_s = LINGER_S if linger_s is None else linger_s
        self.view = LiveView(handoff)
        self._stats = IngestStats()
        self._health = self._monitor()
        self._ingest: CameraIngest | None = None
        self._watch: asyncio.Task[None] | None = None
        self._read_at = 0.0

    def __repr__(self) -> str:
        return f"SubstreamFeed(camera_id={self._camera_id})"

    @property
    def running(self) -> bool:
        return self._ingest is not None

    def watched(self) -> LiveView:
        """The view, for a read of it: opens the sub-stream if it is not open, and renews its lease."""
        self._read_at = time.monotonic()
        if self._watch is None:
            self._watch = asyncio.create_task(self._while_watched(), name=f"substream-{self._camera_id}")
        return self.view

    def status(self) -> dict[str, Any]:
        """The sub-stream's own health, for the camera's status (``extra.substream``)."""
        h = self._health.machine
        if self._ingest is None:
            return {"state": "idle", "reason": None, "detail": None, "watched": False}
        codec = self._ingest.codec or (None, None, None)
        return {"state": h.state.value, "reason": h.reason.value if h.reason else None, "detail": h.detail,
                "since": h.since.isoformat(timespec="milliseconds"), "watched": True,
                "codec": codec[0], "width": codec[1], "height": codec[2], "reconnects": self._ingest.reconnects}

    async def stop(self) -> None:
        """Close the sub-stream (if open) and stop waiting for its lease to lapse."""
        if self._watch is not None:
            self._watch.cancel()
            await asyncio.gather(self._watch, return_exceptions=True)
        await self._close()

    # --- internals --------------------------------------------------------------

    def _monitor(self) -> HealthMonitor:
        return HealthMonitor(self._policy, self._stats, self._handoff, publish=self._transition)

    def _transition(self, transition: Transition) -> None:
        # Logged, not published: the camera's status history and events are the recording's (the main stream's).
        log.info("camera %s sub-stream: %s → %s%s", self._camera_id, transition.previous.value,
                 transition.state.value, f" ({transition.reason.value})" if transition.reason else "")

    def _lease_left_s(self) -> float:
        return self._linger_s - (time.monotonic() - self._read_at)

    async def _while_watched(self) -> None:
        """Open the sub-stream, close it once the lease lapses; open it again if a read came while it closed
        (one ingest at a time writes the view)."""
        try:
            while self._lease_left_s() > 0:
                self._open()
                log.info("camera %s: sub-stream opened for viewers", self._camera_id)
                await self._lease_lapsed()
                await self._close()
                log.info("camera %s: sub-stream closed, nobody watches it", self._camera_id)
        finally:
            self._watch = None

    async def _lease_lapsed(self) -> None:
        """Return once no read came for ``linger_s`` (each read pushes the end of the lease further)."""
        for _ in range(_MAX_RENEWALS):
            left = self._lease_left_s()
            if left <= 0:
                return
            await asyncio.sleep(left)

    def _open(self) -> None:
        self._health = self._monitor()  # each opening starts a fresh outage count and backoff
        self._ingest = CameraIngest(
            camera_id=self._camera_id, url=self._url, spool=_NoChunks(), stats=self._stats, live=self.view.feed,
            chunk_max_ms=60_000, timeout_s=self._timeout_s, stall_s=self._policy.stall_after_s,
            report=self._health.apply, retry_delay=self._health.retry_delay, chunk_closed=lambda _path: None,
            what="sub-stream",
        )
        self._ingest.start()

    async def _close(self) -> None:
        ingest, self._ingest = self._ingest, None
        if ingest is not None:
            await ingest.stop(_STOP_JOIN_S)
