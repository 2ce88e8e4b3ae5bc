"""The camera supervisor: one camera's ingest thread, chunk uploads and health.

A plain asyncio class, so the same code runs one camera per Ray actor process
(K = 1) or hundreds per process (see CameraHost and FACTS.md). The ingest runs
in its own thread because PyAV's demuxing blocks; chunks cross to the event
loop through a bounded queue and are stored object-first, index-second.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from datetime import UTC, datetime

import asyncpg

from domain.backoff import reconnect_delay
from domain.camera import CameraSpec
from domain.camera_state import CameraState, CameraStatus, ErrorReason
from domain.events import camera_status_event, tenant_stream
from media.recorder import IngestStats, RecordedChunk, record_run
from media.sources import SourceError, classify_error, open_source
from storage.bus import EventBus
from storage.chunks import store_chunk
from storage.objects import ObjectStore

log = logging.getLogger(__name__)

_UPLOAD_RETRY_CAP_S = 10.0
_STOP_JOIN_S = 15.0
_DRAIN_S = 30.0
_EVENT_QUEUE_LIMIT = 256


class CameraSupervisor:
    """Records one camera until stopped; reconnects with backoff; reports status."""

    def __init__(
        self, spec: CameraSpec, store: ObjectStore, pool: asyncpg.Pool, *,
        bus: EventBus | None = None, chunk_max_s: float = 60.0, source_timeout_s: float = 5.0,
        queue_limit: int = 16,
    ) -> None:
        self.spec = spec
        self._store = store
        self._pool = pool
        self._chunk_max_ms = int(chunk_max_s * 1000)
        self._timeout_s = source_timeout_s
        self._queue: asyncio.Queue[RecordedChunk] = asyncio.Queue(maxsize=queue_limit)
        self._bus = bus
        self._events: asyncio.Queue[CameraStatus] = asyncio.Queue(maxsize=_EVENT_QUEUE_LIMIT)
        self._lost_events = 0
        self._stop = threading.Event()
        self._stats = IngestStats()
        self._status = CameraStatus(str(spec.camera_id), CameraState.STARTING, datetime.now(UTC))
        self._codec: tuple[str, int, int] | None = None
        self._chunks = 0
        self._lost_chunks = 0
        self._reconnects = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._uploader: asyncio.Task[None] | None = None
        self._publisher: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._uploader = asyncio.create_task(self._upload_loop(), name=f"upload-{self.spec.camera_id}")
        if self._bus is not None:
            self._publisher = asyncio.create_task(self._publish_loop(), name=f"events-{self.spec.camera_id}")
        self._thread = threading.Thread(target=self._ingest_loop, name=f"ingest-{self.spec.camera_id}", daemon=True)
        self._thread.start()

    async def stop(self) -> None:
        """Stop ingest, store what was recorded (bounded wait), then stop uploads."""
        self._stop.set()
        if self._thread is not None:
            await asyncio.to_thread(self._thread.join, _STOP_JOIN_S)
        try:
            await asyncio.wait_for(self._queue.join(), _DRAIN_S)
        except TimeoutError:
            log.error("camera %s: %d chunks not stored at stop", self.spec.camera_id, self._queue.qsize())
        self._set_state(CameraState.STOPPED)
        if self._publisher is not None:
            try:
                await asyncio.wait_for(self._events.join(), 5)
            except TimeoutError:
                log.warning("camera %s: status events not published at stop", self.spec.camera_id)
        for task in (self._uploader, self._publisher):
            if task is not None:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)

    def status(self) -> CameraStatus:
        status = self._status
        last = self._stats.last_packet_at
        codec = self._codec or (None, None, None)
        return CameraStatus(
            camera_id=status.camera_id, state=status.state, since=status.since,
            reason=status.reason, detail=status.detail,
            last_packet_age_s=round(time.monotonic() - last, 3) if last is not None else None,
            fps=_round(self._stats.fps(), 2), bitrate_bps=_round(self._stats.bitrate_bps(), 0),
            codec=codec[0], width=codec[1], height=codec[2],
            chunks_recorded=self._chunks, reconnects=self._reconnects,
            extra={"dropped_packets": self._stats.dropped, "lost_chunks": self._lost_chunks,
                   "upload_queue": self._queue.qsize(), "lost_events": self._lost_events},
        )

    def _set_state(self, state: CameraState, reason: ErrorReason | None = None, detail: str | None = None) -> None:
        """Record a transition (from any thread) and publish it on the tenant's event stream."""
        if (state, reason) == (self._status.state, self._status.reason):
            return
        self._status = CameraStatus(self._status.camera_id, state, datetime.now(UTC), reason, detail)
        if self._publisher is not None and self._loop is not None:
            self._loop.call_soon_threadsafe(self._enqueue_event, self._status)

    def _enqueue_event(self, status: CameraStatus) -> None:
        try:
            self._events.put_nowait(status)
        except asyncio.QueueFull:
            self._lost_events += 1

    async def _publish_loop(self) -> None:
        assert self._bus is not None
        stream = tenant_stream(self.spec.tenant_id)
        while True:
            status = await self._events.get()
            try:
                await self._bus.publish(stream, camera_status_event(self.spec.tenant_id, status))
            except Exception as exc:  # the bus being down must never touch recording
                self._lost_events += 1
                log.warning("camera %s: status event not published: %s", self.spec.camera_id, exc)
            finally:
                self._events.task_done()

    # --- ingest thread -------------------------------------------------

    def _ingest_loop(self) -> None:
        attempt = 0
        self._set_state(CameraState.CONNECTING)
        while not self._stop.is_set():
            try:
                source = open_source(self.spec.url, timeout_s=self._timeout_s)
            except SourceError as exc:
                self._set_state(CameraState.ERROR, exc.reason, exc.detail)
            else:
                try:
                    video = source.video.codec_context
                    self._codec = (video.name, video.width, video.height)
                    self._set_state(CameraState.STREAMING)
                    attempt = 0
                    record_run(
                        source, tenant_id=self.spec.tenant_id, camera_id=self.spec.camera_id,
                        max_chunk_ms=self._chunk_max_ms, on_chunk=self._hand_over,
                        stop=self._stop, stats=self._stats,
                    )
                    if not self._stop.is_set():
                        self._set_state(CameraState.RECONNECTING, ErrorReason.DISCONNECTED, "the stream ended")
                except Exception as exc:  # a broken stream must never kill the supervisor
                    log.warning("camera %s: recording run failed: %s", self.spec.camera_id, exc)
                    self._set_state(CameraState.RECONNECTING, classify_error(exc), str(exc)[:300])
                finally:
                    source.close()
            if self._stop.is_set():
                return
            self._reconnects += 1
            self._stop.wait(reconnect_delay(attempt))
            attempt += 1

    def _hand_over(self, chunk: RecordedChunk) -> None:
        assert self._loop is not None
        self._loop.call_soon_threadsafe(self._enqueue, chunk)

    def _enqueue(self, chunk: RecordedChunk) -> None:
        try:
            self._queue.put_nowait(chunk)
        except asyncio.QueueFull:
            # Bounded memory over completeness; the crash-safe spool replaces this.
            self._lost_chunks += 1
            self._set_state(CameraState.ERROR, ErrorReason.STORAGE_UNAVAILABLE, "upload queue full: chunk dropped")

    # --- uploads (event loop) -------------------------------------------

    async def _upload_loop(self) -> None:
        while True:
            chunk = await self._queue.get()
            try:
                await self._store_with_retry(chunk)
            finally:
                self._queue.task_done()

    async def _store_with_retry(self, chunk: RecordedChunk) -> None:
        attempt = 0
        while True:
            try:
                await store_chunk(self._store, self._pool, chunk.meta, chunk.data)
                self._chunks += 1
                if self._status.reason == ErrorReason.STORAGE_UNAVAILABLE:
                    self._set_state(CameraState.STREAMING)
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("camera %s: storing chunk failed: %s", self.spec.camera_id, exc)
                self._set_state(CameraState.ERROR, ErrorReason.STORAGE_UNAVAILABLE, str(exc)[:300])
                await asyncio.sleep(reconnect_delay(attempt, cap_s=_UPLOAD_RETRY_CAP_S))
                attempt += 1


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)
