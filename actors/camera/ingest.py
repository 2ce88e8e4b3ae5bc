"""The ingest thread: keeps one camera recorded into its spool until stopped.

PyAV blocks, so ingest runs on a thread of its own. It opens the source,
records runs into the spool (media/recorder.py), and after each run that ends
reconnects with the delay the health machine chooses. What it learns it
reports through callbacks only: health facts (connected, lost and why,
stalled, spool full), each closed chunk, and the live feed it writes to.
Errors are classified into the reasons an operator can act on; a broken
stream never ends the thread, only a stop does.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from uuid import UUID

from actors.camera.health_monitor import HealthChange, lost, stalled, storage_full
from domain.camera_health import HealthMachine
from domain.camera_state import ErrorReason
from media.ingest_stats import IngestStats
from media.live import LiveFeed
from media.recorder import ChunkSink, record_run
from media.sources import PacketSource, SourceError, classify_error, coarse_detail, open_source, redacted_error
from storage.spool import SpoolFull

log = logging.getLogger(__name__)

READ_BATCH_S = 0.25  # how long a camera's packets gather before the ingest thread takes them, while nobody watches


@dataclass(eq=False, repr=False, kw_only=True)  # no repr: the URL may carry the camera's password
class CameraIngest:
    """Opens, records and reconnects on a thread; stopped (closing the open chunk) by ``stop``."""

    camera_id: UUID
    url: str
    spool: ChunkSink  # the camera's spool; for a stream watched but not recorded, a sink that drops chunks
    stats: IngestStats
    live: LiveFeed
    chunk_max_ms: int
    timeout_s: float  # for opening the source
    stall_s: float  # silence that ends a read
    report: Callable[[HealthChange], None]
    retry_delay: Callable[[int], float]
    chunk_closed: Callable[[Path], None]
    what: str = "recording"  # which of the camera's streams, in thread names and log lines
    codec: tuple[str, int, int] | None = field(default=None, init=False)
    reconnects: int = field(default=0, init=False)
    _recorded_until_ms: int | None = field(default=None, init=False)  # end of the last run: the next never starts before it
    _stop: threading.Event = field(default_factory=threading.Event, init=False)
    _thread: threading.Thread | None = field(default=None, init=False)

    def start(self) -> None:
        # The thread runs in a copy of the caller's context: its log lines carry the camera's log fields.
        context = contextvars.copy_context()
        self._thread = threading.Thread(target=context.run, args=(self._run,), name=f"ingest-{self.camera_id}"
                                        + ("" if self.what == "recording" else f"-{self.what}"),
                                        daemon=True)
        self._thread.start()

    async def stop(self, within_s: float) -> None:
        """Stop recording (the open chunk is closed and handed on) and wait up to ``within_s`` for the thread."""
        self._stop.set()
        if self._thread is not None:
            await asyncio.to_thread(self._thread.join, within_s)

    def _run(self) -> None:
        attempt = 0
        self.report(HealthMachine.connecting)
        while not self._stop.is_set():
            try:
                source = open_source(self.url, timeout_s=self.timeout_s, stall_s=self.stall_s, batch_s=self._batch_s)
            except SourceError as exc:
                self.report(lost(exc.reason, exc.detail))
            else:
                if self._record(source):
                    attempt = 0
            if self._stop.is_set():
                return
            self.reconnects += 1
            self._stop.wait(self.retry_delay(attempt))
            attempt += 1

    def _batch_s(self) -> float:
        # Packets read in batches cost far fewer GIL hand-offs (docs/density.md); a live viewer gets every frame
        # as it arrives.
        return 0.0 if self.live.watched() else READ_BATCH_S

    def _record(self, source: PacketSource) -> bool:
        """One run on an open source, until it ends or fails; whether it got as far as streaming."""
        streamed = False
        try:
            video = source.video.codec_context
            self.codec = (video.name, video.width, video.height)
            self.report(HealthMachine.streaming)
            streamed = True  # a camera that streamed again starts a fresh backoff
            self._recorded_until_ms = record_run(
                source, max_chunk_ms=self.chunk_max_ms, on_chunk=self.chunk_closed, stop=self._stop,
                sink=self.spool, stats=self.stats, not_before_ms=self._recorded_until_ms, live=self.live,
            )
            if not self._stop.is_set():
                self.report(lost(ErrorReason.DISCONNECTED, "the stream ended"))
        except SpoolFull as exc:
            log.error("camera %s: %s", self.camera_id, exc)
            self.report(storage_full(str(exc)))
        except Exception as exc:  # a broken stream must never kill the supervisor
            reason = classify_error(exc)
            detail = exc.detail if isinstance(exc, SourceError) else coarse_detail(reason)
            log.warning("camera %s: %s run failed: %s", self.camera_id, self.what,
                        detail if isinstance(exc, SourceError) else redacted_error(exc, self.url))
            if reason == ErrorReason.TIMEOUT:  # the stream went silent: a stall, then a reconnect
                self.report(stalled("no packet within the read timeout"))
            self.report(lost(reason, detail))
        finally:
            source.close()
        return streamed
