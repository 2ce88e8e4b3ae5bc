"""The camera supervisor: one camera's ingest, spool, uploads and health.

A plain asyncio class, so the same code runs one camera per Ray actor process
(K = 1) or hundreds per process (see CameraHost and FACTS.md). Four parts:

- the *ingest thread* (PyAV blocks) records runs into the camera's spool;
- the *uploader* stores each closed spool chunk: object first, index row
  second, spool file deleted last — retrying with backoff while the store or
  PostgreSQL is down, so an outage only grows the spool;
- the *monitor* ticks the health machine (stall and offline detection) and
  refreshes metrics;
- the *publisher* stores every health transition (status history) and
  publishes it on the tenant's event stream;
- the *thumbnailer* stores a small JPEG of each stored chunk's first keyframe,
  off the recording path (a bounded queue; when it is behind, chunks go without).

The ingest thread also feeds the camera's live view (media/live.py), which
viewers read through ``live_frames`` and the live HLS methods.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

import asyncpg

from domain.backoff import reconnect_delay
from domain.camera import CameraSpec
from domain.camera_health import HealthMachine, HealthPolicy, Transition
from domain.camera_state import CameraStatus, ErrorReason
from domain.events import alert_event, camera_status_event, tenant_stream
from domain.recording import thumbnail_object_key
from media.chunk_file import describe_chunk
from media.live import Keyframe, LiveFeed, LiveGop, LivePiece
from media.recorder import IngestStats, record_run
from media.snapshot import recorded_jpeg
from media.sources import SourceError, classify_error, open_source
from storage import recordings, status_history
from storage.bus import EventBus
from storage.chunks import store_chunk
from storage.objects import ObjectStore
from storage.spool import FsyncPolicy, SpoolFull, SpoolWriter, pending, recover, start_ms_of

log = logging.getLogger(__name__)

_UPLOAD_RETRY_CAP_S = 10.0
_STOP_JOIN_S = 15.0
_DRAIN_S = 30.0
_EVENT_QUEUE_LIMIT = 1000
_MONITOR_EVERY_S = 0.5
_METRICS_EVERY_TICKS = 10  # metrics every 5 s; stalls are checked every tick
_RESCAN_SPOOL_S = 5.0
_THUMBNAIL_QUEUE = 4
THUMBNAIL_WIDTH = 320

MetricsSink = Callable[[CameraStatus], None]


class CameraSupervisor:
    """Records one camera until stopped; reconnects with backoff; reports status."""

    def __init__(
        self, spec: CameraSpec, store: ObjectStore, pool: asyncpg.Pool, *,
        spool_root: Path, bus: EventBus | None = None, has_room: Callable[[], bool] = lambda: True,
        fsync: FsyncPolicy = FsyncPolicy.FRAGMENT, policy: HealthPolicy | None = None,
        chunk_max_s: float = 60.0, source_timeout_s: float = 5.0, metrics: MetricsSink | None = None,
    ) -> None:
        self.spec = spec
        self._store = store
        self._pool = pool
        self._bus = bus
        self._metrics = metrics
        self._spool_dir = spool_root / str(spec.camera_id)
        self._spool = SpoolWriter(self._spool_dir, fsync=fsync, has_room=has_room)
        self._chunk_max_ms = int(chunk_max_s * 1000)
        self._timeout_s = source_timeout_s
        self._health = HealthMachine(policy or HealthPolicy(), datetime.now(UTC))
        self._health_lock = threading.Lock()
        self._stop = threading.Event()
        self._stats = IngestStats()
        self._new_chunk = asyncio.Event()
        self._spool_empty = asyncio.Event()
        self._events: asyncio.Queue[Transition] = asyncio.Queue(maxsize=_EVENT_QUEUE_LIMIT)
        self._thumbnails: asyncio.Queue[tuple[str, bytes]] = asyncio.Queue(maxsize=_THUMBNAIL_QUEUE)
        self._codec: tuple[str, int, int] | None = None
        self._chunks = 0
        self._reconnects = 0
        self._lost_events = 0
        self._upload_error: str | None = None
        self._newest_indexed_end: datetime | None = None
        self._recorded_until_ms: int | None = None  # end of the last run: the next never starts before it
        self._backlog: dict[Path, int] = {}  # spooled chunk → bytes, until stored and indexed
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: int | None = None
        self._thread: threading.Thread | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self.live = LiveFeed(notify=self._live_changed)
        self._live_news = asyncio.Event()

    # --- lifecycle -------------------------------------------------------

    async def start(self) -> None:
        """Recover what a crash left in the spool, then start recording and uploading."""
        self._loop = asyncio.get_running_loop()
        self._loop_thread = threading.get_ident()
        recovered = await asyncio.to_thread(recover, self._spool_dir)
        if recovered:
            log.info("camera %s: recovered %d spooled chunks", self.spec.camera_id, recovered)
        self._backlog = await asyncio.to_thread(lambda: {p: p.stat().st_size for p in pending(self._spool_dir)})
        name = str(self.spec.camera_id)
        if self.spec.paused:  # the city is over its storage quota ("pause" policy): store what is spooled only
            self._transition(partial(self._health.storage_failed, ErrorReason.STORAGE_FULL, self.spec.paused))
        self._tasks = [asyncio.create_task(self._upload_loop(), name=f"upload-{name}"),
                       asyncio.create_task(self._monitor_loop(), name=f"monitor-{name}"),
                       asyncio.create_task(self._publish_loop(), name=f"events-{name}"),
                       asyncio.create_task(self._thumbnail_loop(), name=f"thumbnails-{name}")]
        if not self.spec.paused:
            self._thread = threading.Thread(target=self._ingest_loop, name=f"ingest-{name}", daemon=True)
            self._thread.start()

    async def stop(self) -> None:
        """Stop ingest (closing the open chunk), store what is spooled (bounded wait), stop tasks.

        Whatever is not stored within the wait stays in the spool for the next start.
        """
        self._stop.set()
        if self._thread is not None:
            await asyncio.to_thread(self._thread.join, _STOP_JOIN_S)
        deadline = time.monotonic() + _DRAIN_S
        while not self._spool_empty.is_set() and self._upload_error is None and time.monotonic() < deadline:
            try:
                await asyncio.wait_for(self._spool_empty.wait(), 0.5)
            except TimeoutError:
                pass
        self._transition(self._health.stopped)
        try:
            await asyncio.wait_for(self._events.join(), 5)
        except TimeoutError:
            log.warning("camera %s: status events not stored at stop", self.spec.camera_id)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    # --- status ----------------------------------------------------------

    def status(self) -> CameraStatus:
        h = self._health
        last = self._stats.last_packet_at
        codec = self._codec or (None, None, None)
        now = datetime.now(UTC)
        lag = (now - self._newest_indexed_end).total_seconds() if self._newest_indexed_end else None
        return CameraStatus(
            camera_id=str(self.spec.camera_id), state=h.state, since=h.since, reason=h.reason, detail=h.detail,
            last_packet_age_s=round(time.monotonic() - last, 3) if last is not None else None,
            fps=_round(self._stats.fps(), 2), bitrate_bps=_round(self._stats.bitrate_bps(), 0),
            codec=codec[0], width=codec[1], height=codec[2],
            chunks_recorded=self._chunks, reconnects=self._reconnects,
            extra={
                "keyframe_interval_s": self._stats.keyframe_interval_s,
                "recording_lag_s": _round(lag, 3),
                "dropped_packets": self._stats.dropped,
                "spooled_chunks": len(self._backlog),
                "spooled_bytes": sum(self._backlog.values()),
                "upload_error": self._upload_error,
                "lost_events": self._lost_events,
            },
        )

    def _transition(self, change: Callable[[datetime], Transition | None]) -> None:
        """Apply a health change (from any thread) and queue its event for storing and publishing."""
        with self._health_lock:
            transition = change(datetime.now(UTC))
        if transition is None or self._loop is None:
            return
        if threading.get_ident() == self._loop_thread:
            self._enqueue_event(transition)
        else:
            self._loop.call_soon_threadsafe(self._enqueue_event, transition)

    def _enqueue_event(self, transition: Transition) -> None:
        try:
            self._events.put_nowait(transition)
        except asyncio.QueueFull:
            self._lost_events += 1

    # --- ingest thread -----------------------------------------------------

    def _ingest_loop(self) -> None:
        attempt = 0
        self._transition(self._health.connecting)
        while not self._stop.is_set():
            try:
                source = open_source(self.spec.url, timeout_s=self._timeout_s,
                                     stall_s=self._health.policy.stall_after_s)
            except SourceError as exc:
                self._transition(partial(self._health.lost, exc.reason, exc.detail))
            else:
                try:
                    video = source.video.codec_context
                    self._codec = (video.name, video.width, video.height)
                    self._transition(self._health.streaming)
                    attempt = 0
                    self._recorded_until_ms = record_run(
                        source, max_chunk_ms=self._chunk_max_ms, on_chunk=self._chunk_closed, stop=self._stop,
                        sink=self._spool, stats=self._stats, not_before_ms=self._recorded_until_ms, live=self.live,
                    )
                    if not self._stop.is_set():
                        self._transition(partial(self._health.lost, ErrorReason.DISCONNECTED, "the stream ended"))
                except SpoolFull as exc:
                    log.error("camera %s: %s", self.spec.camera_id, exc)
                    self._transition(partial(self._health.storage_failed, ErrorReason.STORAGE_FULL, str(exc)))
                except Exception as exc:  # a broken stream must never kill the supervisor
                    log.warning("camera %s: recording run failed: %s", self.spec.camera_id, exc)
                    reason = classify_error(exc)
                    if reason == ErrorReason.TIMEOUT:  # the stream went silent: a stall, then a reconnect
                        self._transition(partial(self._health.stalled, "no packet within the read timeout"))
                    self._transition(partial(self._health.lost, reason, str(exc)[:300]))
                finally:
                    source.close()
            if self._stop.is_set():
                return
            self._reconnects += 1
            with self._health_lock:
                delay = self._health.retry_delay(attempt, datetime.now(UTC))
            self._stop.wait(delay)
            attempt += 1

    def _chunk_closed(self, path: Path) -> None:
        assert self._loop is not None
        size = path.stat().st_size
        self._loop.call_soon_threadsafe(self._wake_uploader, path, size)

    def _wake_uploader(self, path: Path, size: int) -> None:
        self._backlog[path] = size
        self._spool_empty.clear()
        self._new_chunk.set()

    # --- live view -------------------------------------------------------------

    def _live_changed(self) -> None:  # ingest thread
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._wake_live_readers)

    def _wake_live_readers(self) -> None:
        news, self._live_news = self._live_news, asyncio.Event()
        news.set()

    async def live_frames(self, after_seq: int | None, wait_s: float) -> list[LivePiece]:
        """Frame fragments after ``after_seq``, waiting up to ``wait_s`` for the first (a long poll)."""
        deadline = time.monotonic() + min(wait_s, 30.0)
        while True:
            news = self._live_news
            pieces = self.live.frames_after(after_seq)
            remaining = deadline - time.monotonic()
            if pieces or remaining <= 0:
                return pieces
            try:
                await asyncio.wait_for(news.wait(), remaining)
            except TimeoutError:
                return []

    def live_init(self, init_id: int) -> bytes | None:
        return self.live.init(init_id)

    def live_gops(self) -> list[LiveGop]:
        return self.live.gops()

    def keyframe(self) -> Keyframe | None:
        return self.live.keyframe()

    # --- uploads -------------------------------------------------------------

    async def _upload_loop(self) -> None:
        while True:
            self._new_chunk.clear()
            paths = await asyncio.to_thread(pending, self._spool_dir)
            for path in paths:
                await self._upload_with_retry(path)
            if paths:
                continue  # more may have closed meanwhile
            if not self._new_chunk.is_set():
                self._spool_empty.set()
            try:
                await asyncio.wait_for(self._new_chunk.wait(), _RESCAN_SPOOL_S)
            except TimeoutError:
                pass

    async def _upload_with_retry(self, path: Path) -> None:
        attempt = 0
        while True:
            try:
                await self._upload(path)
                self._upload_error = None
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # store or database down: the chunk stays spooled
                self._upload_error = f"{type(exc).__name__}: {str(exc)[:200]}"
                log.warning("camera %s: storing %s failed (attempt %d): %s",
                            self.spec.camera_id, path.name, attempt + 1, exc)
                await asyncio.sleep(reconnect_delay(attempt, cap_s=_UPLOAD_RETRY_CAP_S))
                attempt += 1

    async def _upload(self, path: Path) -> None:
        data = await asyncio.to_thread(path.read_bytes)
        meta = describe_chunk(data, tenant_id=self.spec.tenant_id, camera_id=self.spec.camera_id,
                              start_ms=start_ms_of(path))
        await store_chunk(self._store, self._pool, meta, data)
        await asyncio.to_thread(path.unlink)  # only now: the row is committed
        with contextlib.suppress(asyncio.QueueFull):  # thumbnails are best effort
            self._thumbnails.put_nowait((meta.object_key, data[: meta.init_length + meta.fragments[0].length]))
        self._backlog.pop(path, None)
        self._chunks += 1
        if self._newest_indexed_end is None or meta.end > self._newest_indexed_end:
            self._newest_indexed_end = meta.end

    async def _thumbnail_loop(self) -> None:
        while True:
            object_key, first_gop = await self._thumbnails.get()
            try:
                jpeg, _ = await asyncio.to_thread(recorded_jpeg, first_gop, 0.0, THUMBNAIL_WIDTH)
                thumbnail_key = thumbnail_object_key(object_key)
                await asyncio.to_thread(self._store.put, thumbnail_key, jpeg, "image/jpeg")
                await recordings.set_thumbnail(self._pool, object_key, thumbnail_key)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # a chunk without a thumbnail is still a recorded chunk
                log.info("camera %s: no thumbnail for %s: %s", self.spec.camera_id, object_key, exc)

    # --- monitor and events ------------------------------------------------------

    async def _monitor_loop(self) -> None:
        for tick in itertools.count(1):
            await asyncio.sleep(_MONITOR_EVERY_S)
            last = self._stats.last_packet_at
            age = time.monotonic() - last if last is not None else None
            self._transition(partial(self._health.tick, last_packet_age_s=age))
            if self._metrics is not None and tick % _METRICS_EVERY_TICKS == 0:
                try:
                    self._metrics(self.status())
                except Exception as exc:  # metrics must never stop the monitor
                    log.debug("metrics export failed: %s", exc)

    async def _publish_loop(self) -> None:
        """Store each transition (retrying while PostgreSQL is down), then publish it."""
        stream = tenant_stream(self.spec.tenant_id)
        while True:
            transition = await self._events.get()
            try:
                await self._store_transition(transition)
                if self._bus is not None:
                    status = self._status_of(transition)
                    alert = alert_event(self.spec.tenant_id, status)
                    events = [camera_status_event(self.spec.tenant_id, status), *([alert] if alert else [])]
                    try:
                        for event in events:
                            await self._bus.publish(stream, event)
                    except Exception as exc:  # the bus being down must never touch recording
                        self._lost_events += 1
                        log.warning("camera %s: status event not published: %s", self.spec.camera_id, exc)
            finally:
                self._events.task_done()

    async def _store_transition(self, transition: Transition) -> None:
        attempt = 0
        while True:
            try:
                await status_history.insert(self._pool, self.spec.tenant_id, self.spec.camera_id, transition)
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if attempt >= 20:  # ≈ 3 minutes of retries: keep the queue moving
                    self._lost_events += 1
                    log.error("camera %s: status history lost a transition: %s", self.spec.camera_id, exc)
                    return
                await asyncio.sleep(reconnect_delay(attempt, cap_s=_UPLOAD_RETRY_CAP_S))
                attempt += 1

    def _status_of(self, transition: Transition) -> CameraStatus:
        return CameraStatus(str(self.spec.camera_id), transition.state, transition.at,
                            transition.reason, transition.detail)


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)

