"""A node's spool sweep (services/spooled_chunks.py) on real chunks, PostgreSQL and both object stores: what cameras
moved to other nodes left is recovered and stored; a camera recorded here, a camera nobody knows and what is not
a camera's spool are left alone."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import uuid4

import asyncpg
import pytest

from domain.camera import CameraSpec
from domain.recording import IndexedChunk
from media.chunk_file import describe_chunk
from media.ingest_stats import IngestStats
from media.recorder import record_run
from services.spooled_chunks import store_leftovers
from storage import recordings
from storage.file_lock import FileLock
from storage.objects import open_object_store
from storage.spool import WRITER_LOCK, FsyncPolicy, SpoolWriter, pending
from tests.support.cameras import camera_spec
from tests.unit.test_media import LoopedClip

pytestmark = pytest.mark.integration

RECORDED_AT = 1_800_000_000.0  # the recorder's wall clock: 2027-01-15


async def _indexed(pool: asyncpg.Pool, camera: CameraSpec) -> list[IndexedChunk]:
    around = datetime.fromtimestamp(RECORDED_AT, UTC)
    return await recordings.in_range(pool, camera.tenant_id, camera.camera_id, around - timedelta(hours=1),
                                     around + timedelta(hours=1))


def _record(spool: Path) -> list[Path]:
    """Real chunks (12 s of test pattern, 4 s chunks) in a camera's spool directory."""
    closed: list[Path] = []
    record_run(LoopedClip(3), max_chunk_ms=5000, on_chunk=closed.append, stop=threading.Event(),
               sink=SpoolWriter(spool, fsync=FsyncPolicy.NONE), stats=IngestStats(), now=lambda: RECORDED_AT)
    return closed


async def test_the_sweep_stores_what_moved_cameras_left_and_nothing_else(
        pool: asyncpg.Pool, object_store_url: str, tmp_path: Path) -> None:
    moved = await camera_spec(pool, "rtsp://127.0.0.1:8554/moved")
    recording_here = await camera_spec(pool, "rtsp://127.0.0.1:8554/here")
    root = tmp_path / "spool"
    moved_chunks = _record(root / str(moved.camera_id))
    last = moved_chunks[-1]  # the node died mid-chunk: its last chunk is still open, cut inside a fragment
    meta = describe_chunk(last.read_bytes(), tenant_id=moved.tenant_id, camera_id=moved.camera_id,
                          start_ms=int(last.stem))
    last.rename(last.with_suffix(".part"))
    last.with_suffix(".part").write_bytes(last.with_suffix(".part").read_bytes()[: meta.fragments[1].offset + 50])
    _record(root / str(recording_here.camera_id))
    here_lock = FileLock(root / str(recording_here.camera_id) / WRITER_LOCK)
    assert here_lock.acquire({"pid": 1})
    unknown = root / str(uuid4())
    _record(unknown)
    (root / "lpr").mkdir()
    (root / "lpr" / "1.chunk").write_bytes(b"not a camera's")

    store = open_object_store(object_store_url)
    try:
        swept = await store_leftovers(root, store, pool)
    finally:
        here_lock.release()

    assert (swept.cameras, swept.chunks) == (1, 3), swept
    stored = await _indexed(pool, moved)
    assert len(stored) == 3 and not pending(root / str(moved.camera_id))
    assert (stored[-1].end - stored[-1].start).total_seconds() == pytest.approx(2.0, abs=0.01), \
        "the open chunk is stored up to its last whole fragment"
    assert all(store.get(chunk.object_key) for chunk in stored)
    assert not await _indexed(pool, recording_here), "a camera recorded on this node is its uploader's"
    assert len(pending(root / str(recording_here.camera_id))) == 3
    assert len(pending(unknown)) == 3, "a camera nobody knows keeps its spool"
    assert (root / "lpr" / "1.chunk").exists()
