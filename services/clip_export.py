"""Exporting one evidence clip: remux the fragments covering the job's range into one MP4, store it, record
its SHA-256 and the audit row, and store its signed manifest beside it (docs/evidence.md). The clip exporter
actor takes the jobs (in PostgreSQL) and calls this.

The job is marked done last: a crash before leaves it running, and the restarted exporter exports it again
(a second ``clip.exported`` row, a new manifest), so a done clip always has its manifest.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import asyncpg

from domain.clip_manifest import clip_document, clip_manifest_key
from domain.clips import ClipJob, PiecePlan, clip_object_key, plan_clip
from domain.evidence import EvidenceKey, sign
from domain.recording import from_epoch_ms
from media.clip import ClipPiece, ClipResult, remux_clip
from storage import audit, clips, evidence_labels, timeline
from storage.objects import ObjectStore

MAX_CHUNKS = 10_000
_PROGRESS_EVERY_S = 0.5

Progress = Callable[[ClipJob, str, float], Awaitable[None]]  # (job, state, percent)


class NoFootage(Exception):
    """Nothing of the job's range is recorded (any more)."""


async def export_clip(job: ClipJob, pool: asyncpg.Pool, store: ObjectStore, work_dir: Path,
                      progress: Progress, evidence_key: EvidenceKey) -> str:
    """Export ``job``; reports progress (the upload is the last 1 %), signs its manifest with ``evidence_key``
    and returns the clip's SHA-256."""
    rows = await timeline.chunks(pool, job.tenant_id, job.camera_id, job.start_at, job.end_at, limit=MAX_CHUNKS)
    plan = plan_clip(rows, job.start_at, job.end_at)
    if not plan:
        raise NoFootage("no footage in the range any more")
    out = work_dir / f"{job.id}.mp4"
    done = [0]

    def pieces() -> Iterator[ClipPiece]:
        for piece in plan:
            yield ClipPiece(piece.wall_start_ms, _read_piece(store, piece))

    def work() -> tuple[ClipResult, str, int]:
        result = remux_clip(pieces(), out, origin_ms=plan[0].wall_start_ms,
                            title=f"GT-Vision camera {job.camera_id} clip {job.id}",
                            progress=lambda n: done.__setitem__(0, n))
        return result, _sha256(out), out.stat().st_size

    await progress(job, "running", 0.0)
    worker = asyncio.ensure_future(asyncio.to_thread(work))
    try:
        reported = -1.0
        while not worker.done():
            await asyncio.wait({worker}, timeout=_PROGRESS_EVERY_S)
            percent = round(99.0 * done[0] / len(plan), 1)
            if percent != reported:
                reported = percent
                await clips.set_progress(pool, job.id, percent)
                await progress(job, "running", percent)
        result, digest, size = worker.result()
        key = clip_object_key(job.tenant_id, job.id)
        await asyncio.to_thread(store.put_file, key, out, "video/mp4")
    finally:
        await asyncio.gather(worker, return_exceptions=True)
        out.unlink(missing_ok=True)
    first, last = from_epoch_ms(result.first_frame_ms), from_epoch_ms(result.last_frame_ms)
    row_hash = await audit.record(pool, job.requested_by, "clip.exported", tenant_id=job.tenant_id,
                                  camera_id=job.camera_id, start=first, end=last,
                                  detail={"clip_id": str(job.id), "sha256": digest, "bytes": size})
    labels = await evidence_labels.clip_labels(pool, job.tenant_id, job.camera_id, job.requested_by)
    if labels is None:
        raise NoFootage("the camera or its city is gone")
    manifest = sign(evidence_key, clip_document(job, labels, first_frame_at=first, last_frame_at=last, size=size,
                                                sha256=digest, exported_at=datetime.now(UTC), audit_row_hash=row_hash),
                    issued_at=datetime.now(UTC).isoformat())
    await asyncio.to_thread(store.put, clip_manifest_key(key), json.dumps(manifest, indent=2).encode(),
                            "application/json")
    await clips.finish(pool, job.id, object_key=key, size=size, sha256=digest, first_frame_at=first,
                       last_frame_at=last)
    return digest


def _read_piece(store: ObjectStore, piece: PiecePlan) -> bytes:
    return store.get_range(piece.object_key, 0, piece.init_length) + store.get_range(
        piece.object_key, piece.offset, piece.length)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1024 * 1024), b""):
            digest.update(block)
    return digest.hexdigest()
