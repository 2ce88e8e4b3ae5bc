"""The camera supervisor: composes one camera's parts and owns their lifecycle and status.

A plain asyncio class, not an actor: one Ray actor process costs ≈ 49 MiB even
idle, so the same code runs one camera per process (K = 1, for isolation) or
many cameras per process (CameraHost, K = 25–100, how a node carries hundreds).

Start recovers what a crash left in the spool, then starts the parts; stop
stops ingest (closing the open chunk), gives the uploader a bounded time to
store what is spooled, records the stopped transition and stops the tasks.
Whatever is not stored by then stays in the spool for the next start.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import asyncpg

from actors.camera.handoff import LoopHandoff
from actors.camera.health_monitor import HealthMonitor, storage_full
from actors.camera.ingest import CameraIngest
from actors.camera.live_view import LiveView
from actors.camera.substream import SubstreamFeed
from actors.camera.transitions import TransitionPublisher
from actors.camera.uploader import SpoolUploader
from domain.camera import CameraSpec
from domain.camera_health import HealthMachine, HealthPolicy
from domain.camera_state import CameraStatus
from media.ingest_stats import IngestStats
from media.live import Keyframe, LiveGop, LivePiece
from storage.bus import EventBus
from storage.file_lock import FileLock
from storage.log_context import log_context
from storage.objects import ObjectStore
from storage.spool import WRITER_LOCK, FsyncPolicy, SpoolWriter, recover

log = logging.getLogger(__name__)

_STOP_JOIN_S = 15.0
_DRAIN_S = 30.0
_EVENTS_AT_STOP_S = 5.0

MetricsSink = Callable[[CameraStatus], None]


class SpoolInUse(Exception):
    """Another recorder (a stale host, a second instance) still writes this camera's spool: recording here too
    would interleave two writers in one directory. The Fleet tries again on its next pass."""


class CameraSupervisor:
    """Records one camera until stopped; reconnects with backoff; reports status."""

    def __init__(
        self, spec: CameraSpec, store: ObjectStore, pool: asyncpg.Pool, *,
        spool_root: Path, bus: EventBus | None = None, has_room: Callable[[], bool] = lambda: True,
        fsync: FsyncPolicy = FsyncPolicy.FRAGMENT, policy: HealthPolicy | None = None,
        chunk_max_s: float = 60.0, source_timeout_s: float = 5.0, metrics: MetricsSink | None = None,
        substream_linger_s: float | None = None,
    ) -> None:
        self.spec = spec
        policy = policy or HealthPolicy()
        self._spool_dir = spool_root / str(spec.camera_id)
        self._spool_lock = FileLock(self._spool_dir / WRITER_LOCK)
        self._handoff = LoopHandoff()
        self._stats = IngestStats()
        self._live = LiveView(self._handoff)
        self._events = TransitionPublisher(spec.tenant_id, spec.camera_id, pool, bus)
        self._health = HealthMonitor(policy, self._stats, self._handoff, publish=self._events.offer,
                                     refresh_metrics=None if metrics is None else lambda: metrics(self.status()))
        self._uploader = SpoolUploader(spec.tenant_id, spec.camera_id, self._spool_dir, store, pool, self._handoff)
        self._ingest = CameraIngest(
            camera_id=spec.camera_id, url=spec.url, spool=SpoolWriter(self._spool_dir, fsync=fsync, has_room=has_room),
            stats=self._stats, live=self._live.feed, chunk_max_ms=int(chunk_max_s * 1000), timeout_s=source_timeout_s,
            stall_s=policy.stall_after_s, report=self._health.apply, retry_delay=self._health.retry_delay,
            chunk_closed=self._uploader.chunk_closed,
        )
        self._sub = None if spec.substream_url is None else SubstreamFeed(
            spec.camera_id, spec.substream_url, self._handoff, policy=policy, timeout_s=source_timeout_s,
            linger_s=substream_linger_s)
        self._tasks: list[asyncio.Task[None]] = []

    # --- lifecycle -------------------------------------------------------

    async def start(self) -> None:
        """Take the camera's spool (one writer at a time), recover what a crash left in it, then start recording
        and uploading. SpoolInUse if another recorder still writes it."""
        # Tasks and the ingest thread start in a context naming the camera: each of their log lines carries it.
        with log_context(camera_id=self.spec.camera_id, tenant_id=self.spec.tenant_id):
            await self._start()

    async def _start(self) -> None:
        note = {"pid": os.getpid(), "camera_id": str(self.spec.camera_id)}
        if not await asyncio.to_thread(self._spool_lock.acquire, note):
            holder = await asyncio.to_thread(self._spool_lock.holder)
            raise SpoolInUse(f"the spool {self._spool_dir} is being written by another recorder"
                             f" (pid {(holder or {}).get('pid', '?')})")
        try:
            recovered = await asyncio.to_thread(recover, self._spool_dir)
            await self._uploader.scan_backlog()
        except BaseException:
            self._spool_lock.release()  # nothing runs here: the next start (or another recorder) may take it
            raise
        if recovered:
            log.info("camera %s: recovered %d spooled chunks", self.spec.camera_id, recovered)
        self._handoff.bind()
        if self.spec.paused:  # the city is over its storage quota ("pause" policy): store what is spooled only
            self._health.apply(storage_full(self.spec.paused))
        name = str(self.spec.camera_id)
        self._tasks = [asyncio.create_task(self._uploader.run(), name=f"upload-{name}"),
                       asyncio.create_task(self._health.run(), name=f"monitor-{name}"),
                       asyncio.create_task(self._events.run(), name=f"events-{name}")]
        if not self.spec.paused:
            self._ingest.start()

    async def stop(self) -> None:
        """Stop ingest (closing the open chunk), store what is spooled (bounded wait), stop tasks.

        Whatever is not stored within the wait stays in the spool for the next start.
        """
        with log_context(camera_id=self.spec.camera_id, tenant_id=self.spec.tenant_id):
            await self._stop()

    async def _stop(self) -> None:
        if self._sub is not None:
            await self._sub.stop()
        await self._ingest.stop(_STOP_JOIN_S)
        await self._uploader.drain(_DRAIN_S)
        self._health.apply(HealthMachine.stopped)
        if not await self._events.flush(_EVENTS_AT_STOP_S):
            log.warning("camera %s: status events not stored at stop", self.spec.camera_id)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._spool_lock.release()

    # --- status ----------------------------------------------------------

    def status(self) -> CameraStatus:
        h = self._health.machine
        last = self._stats.last_packet_at
        codec = self._ingest.codec or (None, None, None)
        uploader = self._uploader
        now = datetime.now(UTC)
        lag = (now - uploader.newest_indexed_end).total_seconds() if uploader.newest_indexed_end else None
        return CameraStatus(
            camera_id=str(self.spec.camera_id), state=h.state, since=h.since, reason=h.reason, detail=h.detail,
            last_packet_age_s=round(time.monotonic() - last, 3) if last is not None else None,
            fps=_round(self._stats.fps(), 2), bitrate_bps=_round(self._stats.bitrate_bps(), 0),
            codec=codec[0], width=codec[1], height=codec[2],
            chunks_recorded=uploader.chunks_stored, reconnects=self._ingest.reconnects,
            extra={
                "keyframe_interval_s": self._stats.keyframe_interval_s,
                "recording_lag_s": _round(lag, 3),
                "dropped_packets": self._stats.dropped,
                "spooled_chunks": len(uploader.backlog),
                "spooled_bytes": sum(uploader.backlog.values()),
                "upload_error": uploader.upload_error,
                "lost_events": self._events.lost_events,
                "substream": None if self._sub is None else self._sub.status(),
            },
        )

    # --- live view -------------------------------------------------------------
    # ``sub``: the sub-stream's view, opened by the read if it is not (the main one for a camera without one).

    @property
    def has_substream(self) -> bool:
        return self._sub is not None

    def _view(self, sub: bool) -> LiveView:
        return self._sub.watched() if sub and self._sub is not None else self._live

    async def live_frames(self, after_seq: int | None, wait_s: float, sub: bool = False) -> list[LivePiece]:
        """Frame fragments after ``after_seq``, waiting up to ``wait_s`` for the first (a long poll)."""
        return await self._view(sub).frames(after_seq, wait_s)

    def live_init(self, init_id: int, sub: bool = False) -> bytes | None:
        return self._view(sub).feed.init(init_id)

    def live_gops(self, sub: bool = False) -> list[LiveGop]:
        return self._view(sub).feed.gops()

    def keyframe(self) -> Keyframe | None:
        return self._live.feed.keyframe()


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)
