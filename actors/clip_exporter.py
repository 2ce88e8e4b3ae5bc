"""The clip exporter: takes export jobs from PostgreSQL and remuxes them, one at a time.

Jobs live in the ``clips`` table, so nothing is lost when this actor or the
API restarts: at start, jobs a crash interrupted go back to the queue. The API
wakes the exporter after queuing a job and while someone follows one (which
also restarts it after a crash); a periodic look at the queue covers a lost
wake-up. Progress goes to the job row and the tenant's event stream.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

import asyncpg

from domain.clips import PiecePlan, clip_object_key, plan_clip
from domain.events import tenant_stream
from domain.recording import from_epoch_ms
from domain.settings import Settings
from media.clip import ClipPiece, remux_clip
from storage import audit, clips, timeline
from storage.bus import EventBus, open_bus
from storage.db import create_pool
from storage.objects import ObjectStore, open_object_store_for

log = logging.getLogger(__name__)

_IDLE_LOOK_S = 5.0
_PROGRESS_EVERY_S = 0.5
_MAX_CHUNKS = 10_000


class ClipExporter:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._work_dir = Path(settings.clip_work_dir).resolve()
        self._wake = asyncio.Event()
        self._starting = asyncio.Lock()
        self._pool: asyncpg.Pool | None = None
        self._store: ObjectStore | None = None
        self._bus: EventBus | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Connect, requeue what a crash interrupted, and start taking jobs (once)."""
        async with self._starting:
            if self._task is not None:
                return
            s = self._settings
            self._work_dir.mkdir(parents=True, exist_ok=True)
            self._pool = await create_pool(s.database_url, min_size=1, max_size=2)
            self._store = await asyncio.to_thread(open_object_store_for, s)
            self._bus = open_bus(s.bus_url, namespace=s.namespace)
            requeued = await clips.requeue_interrupted(self._pool)
            if requeued:
                log.info("clip exporter: %d interrupted jobs requeued or failed", requeued)
            self._task = asyncio.create_task(self._run())

    async def wake(self) -> None:
        """A job was queued. Also (re)starts the exporter after Ray restarted its process."""
        await self.start()
        self._wake.set()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self._pool is not None:
            await self._pool.close()
        if self._bus is not None:
            await self._bus.close()

    async def _run(self) -> None:
        assert self._pool is not None
        while True:
            try:
                job = await clips.claim_next(self._pool)
            except Exception as exc:  # PostgreSQL away: look again later
                log.warning("clip exporter: cannot read the queue: %s", exc)
                job = None
            if job is None:
                self._wake.clear()
                try:
                    await asyncio.wait_for(self._wake.wait(), _IDLE_LOOK_S)
                except TimeoutError:
                    pass
                continue
            try:
                await self._export(job)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("clip %s failed: %s", job["id"], exc)
                await clips.fail(self._pool, job["id"], str(exc) or type(exc).__name__)
                await self._publish(job, "failed", job["progress"], error=str(exc))

    async def _export(self, job: dict[str, Any]) -> None:
        assert self._pool is not None and self._store is not None
        store = self._store
        rows = await timeline.chunks(self._pool, job["tenant_id"], job["camera_id"], job["start_at"], job["end_at"],
                                     limit=_MAX_CHUNKS)
        plan = plan_clip(rows, job["start_at"], job["end_at"])
        if not plan:
            raise ValueError("no footage in the range any more")
        out = self._work_dir / f"{job['id']}.mp4"
        done = [0]

        def pieces() -> Iterator[ClipPiece]:
            for piece in plan:
                yield ClipPiece(piece.wall_start_ms, _read_piece(store, piece))

        def work() -> tuple[Any, str, int]:
            result = remux_clip(pieces(), out, origin_ms=plan[0].wall_start_ms,
                                title=f"GT-Vision camera {job['camera_id']} clip {job['id']}",
                                progress=lambda n: done.__setitem__(0, n))
            return result, _sha256(out), out.stat().st_size

        await self._publish(job, "running", 0.0)
        worker = asyncio.ensure_future(asyncio.to_thread(work))
        try:
            reported = -1.0
            while not worker.done():
                await asyncio.wait({worker}, timeout=_PROGRESS_EVERY_S)
                percent = round(99.0 * done[0] / len(plan), 1)  # the upload is the last 1 %
                if percent != reported:
                    reported = percent
                    await clips.set_progress(self._pool, job["id"], percent)
                    await self._publish(job, "running", percent)
            result, digest, size = worker.result()
            key = clip_object_key(job["tenant_id"], job["id"])
            await asyncio.to_thread(store.put_file, key, out, "video/mp4")
        finally:
            await asyncio.gather(worker, return_exceptions=True)
            out.unlink(missing_ok=True)
        first, last = from_epoch_ms(result.first_frame_ms), from_epoch_ms(result.last_frame_ms)
        await clips.finish(self._pool, job["id"], object_key=key, size=size, sha256=digest,
                           first_frame_at=first, last_frame_at=last)
        await audit.record(self._pool, job["requested_by"], "clip.exported", tenant_id=job["tenant_id"],
                           camera_id=job["camera_id"], start=first, end=last,
                           detail={"clip_id": str(job["id"]), "sha256": digest, "bytes": size})
        await self._publish(job, "done", 100.0, sha256=digest)

    async def _publish(self, job: dict[str, Any], state: str, percent: float, **extra: Any) -> None:
        if self._bus is None:
            return
        event = {"type": "clip", "clip_id": str(job["id"]), "camera_id": str(job["camera_id"]),
                 "tenant_id": str(job["tenant_id"]), "state": state, "progress": percent, **extra}
        try:
            await self._bus.publish(tenant_stream(UUID(str(job["tenant_id"]))), event)
        except Exception as exc:  # progress events are informative; the row is the truth
            log.info("clip progress event not published: %s", exc)


def _read_piece(store: ObjectStore, piece: PiecePlan) -> bytes:
    return store.get_range(piece.object_key, 0, piece.init_length) + store.get_range(
        piece.object_key, piece.offset, piece.length)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1024 * 1024), b""):
            digest.update(block)
    return digest.hexdigest()
