"""Clip export jobs: a queue in PostgreSQL, so a job survives any actor or API restart."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID, uuid4

import asyncpg

from domain.clips import ClipJob
from storage.rows import record, record_or_none, records

MAX_ATTEMPTS = 3
_COLUMNS = ("id, tenant_id, camera_id, requested_by, start_at, end_at, state, progress, attempts, object_key,"
            " bytes, sha256, first_frame_at, last_frame_at, error, created_at, started_at, finished_at")


async def create(pool: asyncpg.Pool, tenant_id: UUID, camera_id: UUID, requested_by: UUID,
                 start: datetime, end: datetime) -> ClipJob:
    row = await pool.fetchrow(
        f"INSERT INTO clips (id, tenant_id, camera_id, requested_by, start_at, end_at) VALUES ($1,$2,$3,$4,$5,$6)"
        f" RETURNING {_COLUMNS}", uuid4(), tenant_id, camera_id, requested_by, start, end)
    return record(ClipJob, row)


async def get(pool: asyncpg.Pool, tenant_id: UUID, clip_id: UUID) -> ClipJob | None:
    row = await pool.fetchrow(f"SELECT {_COLUMNS} FROM clips WHERE tenant_id = $1 AND id = $2", tenant_id, clip_id)
    return record_or_none(ClipJob, row)


async def list_for_tenant(pool: asyncpg.Pool, tenant_id: UUID, *, limit: int = 100) -> list[ClipJob]:
    rows = await pool.fetch(f"SELECT {_COLUMNS} FROM clips WHERE tenant_id = $1 ORDER BY created_at DESC LIMIT $2",
                            tenant_id, limit)
    return records(ClipJob, rows)


async def claim_next(pool: asyncpg.Pool) -> ClipJob | None:
    """Take the oldest queued job (another exporter never takes the same one)."""
    row = await pool.fetchrow(
        f"UPDATE clips SET state = 'running', attempts = attempts + 1, started_at = now(), progress = 0"
        f" WHERE id = (SELECT id FROM clips WHERE state = 'queued' ORDER BY created_at"
        f"             FOR UPDATE SKIP LOCKED LIMIT 1) RETURNING {_COLUMNS}")
    return record_or_none(ClipJob, row)


async def requeue_interrupted(pool: asyncpg.Pool) -> int:
    """At exporter start: jobs left running by a crash go back to the queue, or fail after MAX_ATTEMPTS."""
    failed = await pool.execute(
        "UPDATE clips SET state = 'failed', finished_at = now(), error = 'interrupted too many times'"
        " WHERE state = 'running' AND attempts >= $1", MAX_ATTEMPTS)
    requeued = await pool.execute("UPDATE clips SET state = 'queued' WHERE state = 'running'")
    return int(requeued.split()[-1]) + int(failed.split()[-1])


async def set_progress(pool: asyncpg.Pool, clip_id: UUID, percent: float) -> None:
    await pool.execute("UPDATE clips SET progress = $2 WHERE id = $1 AND state = 'running'", clip_id, percent)


async def finish(pool: asyncpg.Pool, clip_id: UUID, *, object_key: str, size: int, sha256: str,
                 first_frame_at: datetime, last_frame_at: datetime) -> None:
    await pool.execute(
        "UPDATE clips SET state = 'done', progress = 100, object_key = $2, bytes = $3, sha256 = $4,"
        " first_frame_at = $5, last_frame_at = $6, finished_at = now(), error = NULL WHERE id = $1",
        clip_id, object_key, size, sha256, first_frame_at, last_frame_at)


async def fail(pool: asyncpg.Pool, clip_id: UUID, error: str) -> None:
    await pool.execute("UPDATE clips SET state = 'failed', finished_at = now(), error = $2 WHERE id = $1",
                       clip_id, error[:500])


async def count_by_state(pool: asyncpg.Pool) -> dict[str, int]:
    """Jobs per state, every state present (0 when none)."""
    rows = await pool.fetch("SELECT state, count(*) AS jobs FROM clips GROUP BY state")
    return {"queued": 0, "running": 0, "done": 0, "failed": 0, **{str(r["state"]): int(r["jobs"]) for r in rows}}


async def delete_unless_running(conn: asyncpg.Connection, tenant_id: UUID, clip_id: UUID) -> tuple[bool, str | None]:
    """Delete the clip's row unless it is being exported; (whether the row went, its object key). The caller queues
    the objects for deletion in the same transaction."""
    row = await conn.fetchrow(
        """WITH gone AS (
               DELETE FROM clips WHERE tenant_id = $1 AND id = $2 AND state <> 'running' RETURNING object_key
           )
           SELECT count(*) AS deleted, max(object_key) AS object_key FROM gone""", tenant_id, clip_id)
    return row["deleted"] > 0, row["object_key"]
