"""The clip exporter: takes export jobs from PostgreSQL and exports them (services/clip_export.py), one at a time.

Jobs live in the ``clips`` table, so nothing is lost when this actor or the
API restarts: at start, jobs a crash interrupted go back to the queue. A job
queued wakes the exporter through PostgreSQL (``LISTEN``, storage/clips.py
``listening``: a city's job is claimed at once, by every exporter there is);
the API also wakes it after queuing a job and while someone follows one (which
restarts it after a crash); a periodic look at the queue covers a lost
wake-up (the listening connection lost, until it is back). Progress goes to the job row and the tenant's event stream.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

from actors.metrics import ClipMetrics
from actors.platform_actor import PlatformActor
from domain.clips import ClipJob
from domain.events import clip_event, tenant_stream
from domain.evidence import evidence_key
from domain.settings import Settings
from services.clip_export import export_clip
from storage import clips

log = logging.getLogger(__name__)

_IDLE_LOOK_S = 5.0


class ClipExporter(PlatformActor):
    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self._work_dir = Path(settings.clip_work_dir).resolve()
        self._wake = asyncio.Event()
        self._metrics = ClipMetrics()
        self._evidence_key = evidence_key(settings)

    async def _prepare(self) -> None:
        self._work_dir.mkdir(parents=True, exist_ok=True)
        requeued = await clips.requeue_interrupted(self.pool)
        if requeued:
            log.info("clip exporter: %d interrupted jobs requeued or failed", requeued)

    pool_size = 3  # one of them listens for queued jobs

    def _background(self) -> list[Coroutine[Any, Any, None]]:
        return [self._run(), self._listen(), self._measure_forever(self._metrics)]

    async def _listen(self) -> None:
        """Wake on every job queued, for as long as the exporter runs; listen again after a lost connection."""
        while True:
            try:
                async with clips.listening(self.pool, self._wake.set) as lost:
                    self._wake.set()  # what was queued while not listening
                    await lost.wait()
                log.warning("clip exporter: the connection listening for queued jobs was lost")
            except Exception as exc:  # PostgreSQL away: the idle look covers it meanwhile
                log.warning("clip exporter: not listening for queued jobs: %s", exc)
            await asyncio.sleep(_IDLE_LOOK_S)

    async def wake(self) -> None:
        """A job was queued. Also (re)starts the exporter after Ray restarted its process."""
        await self.start()
        self._wake.set()

    async def _run(self) -> None:
        while True:
            # Cleared before looking, not after finding nothing: a job queued while the claim runs (its wake-up
            # arriving before the empty answer) must not be slept through.
            self._wake.clear()
            try:
                job = await clips.claim_next(self.pool)
            except Exception as exc:  # PostgreSQL away: look again later
                log.warning("clip exporter: cannot read the queue: %s", exc)
                job = None
            if job is None:
                try:
                    await asyncio.wait_for(self._wake.wait(), _IDLE_LOOK_S)
                except TimeoutError:
                    pass
                continue
            started = time.monotonic()
            try:
                digest = await export_clip(job, self.pool, self.store, self._work_dir, self._publish,
                                           self._evidence_key)
                await self._publish(job, "done", 100.0, sha256=digest)
                self._metrics.exported("done", time.monotonic() - started)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self._metrics.exported("failed", time.monotonic() - started)
                log.warning("clip %s failed: %s", job.id, exc)
                await clips.fail(self.pool, job.id, str(exc) or type(exc).__name__)
                await self._publish(job, "failed", job.progress, error=str(exc))

    async def _measure(self) -> None:
        self._metrics.jobs(await clips.count_by_state(self.pool))

    async def _publish(self, job: ClipJob, state: str, percent: float, **extra: Any) -> None:
        if self.bus is None:
            return
        try:
            await self.bus.publish(tenant_stream(job.tenant_id),
                                   clip_event(job.tenant_id, job.id, job.camera_id, state, percent, **extra))
        except Exception as exc:  # progress events are informative; the row is the truth
            log.info("clip progress event not published: %s", exc)
