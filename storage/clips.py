"""Clip export jobs: a queue in PostgreSQL, so a job survives any actor or API restart."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from uuid import UUID, uuid4

import asyncpg

from domain.clip_manifest import clip_manifest_key
from domain.clips import ClipJob
from storage import purges
from storage.holds import unheld_sql
from storage.rows import record, record_or_none, records

MAX_ATTEMPTS = 3
# NOTIFY channel of a queued job: every exporter wakes at once, whichever process queued it (no lost wake-up
# when the API's call to the exporter actor is lost, and every exporter when there are several).
QUEUED_CHANNEL = "gtv_clips_queued"
_UNHELD = unheld_sql("c.camera_id", "tstzrange(c.start_at, c.end_at)")
_COLUMNS = ("id, tenant_id, camera_id, requested_by, start_at, end_at, state, progress, attempts, object_key,"
            " bytes, sha256, first_frame_at, last_frame_at, error, created_at, started_at, finished_at")


async def create(pool: asyncpg.Pool | asyncpg.Connection, tenant_id: UUID, camera_id: UUID, requested_by: UUID,
                 start: datetime, end: datetime) -> ClipJob:
    """Queue a job; every exporter listening (``listening``) is woken when the insert commits."""
    row = await pool.fetchrow(
        f"INSERT INTO clips (id, tenant_id, camera_id, requested_by, start_at, end_at) VALUES ($1,$2,$3,$4,$5,$6)"
        f" RETURNING {_COLUMNS}, pg_notify('{QUEUED_CHANNEL}', '') AS notified",
        uuid4(), tenant_id, camera_id, requested_by, start, end)
    return record(ClipJob, row)


@asynccontextmanager
async def listening(pool: asyncpg.Pool, on_queued: Callable[[], None]) -> AsyncIterator[asyncio.Event]:
    """Call ``on_queued`` whenever a job is queued (by any process) while the block runs, on one of the pool's
    connections; yields an event set if that connection is lost (nothing is heard from then on)."""
    lost = asyncio.Event()

    def notified(*_: object) -> None:
        on_queued()

    def terminated(*_: object) -> None:
        lost.set()

    async with pool.acquire() as conn:
        conn.add_termination_listener(terminated)
        await conn.add_listener(QUEUED_CHANNEL, notified)
        try:
            yield lost
        finally:
            conn.remove_termination_listener(terminated)
            if not conn.is_closed():
                await conn.remove_listener(QUEUED_CHANNEL, notified)


async def get(pool: asyncpg.Pool, tenant_id: UUID, clip_id: UUID) -> ClipJob | None:
    row = await pool.fetchrow(f"SELECT {_COLUMNS} FROM clips WHERE tenant_id = $1 AND id = $2", tenant_id, clip_id)
    return record_or_none(ClipJob, row)


async def list_for_tenant(pool: asyncpg.Pool, tenant_id: UUID, *, limit: int = 100) -> list[ClipJob]:
    rows = await pool.fetch(f"SELECT {_COLUMNS} FROM clips WHERE tenant_id = $1 ORDER BY created_at DESC LIMIT $2",
                            tenant_id, limit)
    return records(ClipJob, rows)


async def pending(conn: asyncpg.Connection | asyncpg.Pool, tenant_id: UUID) -> int:
    """The city's jobs queued or running (what its plan's clip_jobs_max bounds)."""
    count: int = await conn.fetchval(
        "SELECT count(*) FROM clips WHERE tenant_id = $1 AND state IN ('queued', 'running')", tenant_id)
    return count


# Claims are serialized by this transaction lock: the running count per city that the claim reads must include
# every claim committed before it, or two exporters claiming at the same instant could both start a job of a city
# that may run only one. A claim takes milliseconds, so exporters hardly ever wait on it.
_CLAIM_LOCK = 0x67747663  # "gtvc"

# The round robin of domain/clip_turns.py: among cities with queued jobs and fewer running than their plan's
# clip_jobs_running_max, the one whose most recent job started longest ago (never: first); its oldest job.
# ``turns`` is one row per city, computed once (MATERIALIZED), and the running jobs are counted for all cities
# in one pass over the (few) running rows: inlined, PostgreSQL counted a city's running jobs once per queued job
# of every city, over all of the flooding city's clips — 100 queued jobs of A made B's claim take 15 ms.
_CLAIM = f"""
    WITH waiting AS (
        SELECT tenant_id, min(created_at) AS oldest_queued FROM clips WHERE state = 'queued' GROUP BY tenant_id
    ), running AS (
        SELECT tenant_id, count(*) AS jobs FROM clips WHERE state = 'running' GROUP BY tenant_id
    ), turns AS MATERIALIZED (
        SELECT w.tenant_id, w.oldest_queued,
               (SELECT max(c.started_at) FROM clips c WHERE c.tenant_id = w.tenant_id) AS last_claim
        FROM waiting w JOIN tenants t ON t.id = w.tenant_id JOIN plans p ON p.id = t.plan_id
             LEFT JOIN running r ON r.tenant_id = w.tenant_id
        WHERE coalesce(r.jobs, 0) < p.clip_jobs_running_max
    ), chosen AS (
        SELECT c.id FROM clips c JOIN turns USING (tenant_id) WHERE c.state = 'queued'
        ORDER BY turns.last_claim NULLS FIRST, turns.oldest_queued, turns.tenant_id, c.created_at, c.id
        LIMIT 1 FOR UPDATE OF c SKIP LOCKED
    )
    UPDATE clips SET state = 'running', attempts = attempts + 1, started_at = clock_timestamp(), progress = 0
    FROM chosen WHERE clips.id = chosen.id RETURNING {', '.join('clips.' + c for c in _COLUMNS.split(', '))}"""


async def claim_next(pool: asyncpg.Pool) -> ClipJob | None:
    """Take the next job, fairly across cities (domain/clip_turns.py); another exporter never takes the same one
    and a city never runs more jobs at once than its plan allows."""
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", _CLAIM_LOCK)
        row = await conn.fetchrow(_CLAIM)
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


async def count_by_state(pool: asyncpg.Pool, tenant_id: UUID | None = None) -> dict[str, int]:
    """Jobs per state, of one city or (None) all, every state present (0 when none)."""
    rows = await pool.fetch("SELECT state, count(*) AS jobs FROM clips WHERE $1::uuid IS NULL OR tenant_id = $1"
                            " GROUP BY state", tenant_id)
    return {"queued": 0, "running": 0, "done": 0, "failed": 0, **{str(r["state"]): int(r["jobs"]) for r in rows}}


async def expire_batch(pool: asyncpg.Pool, tenant_id: UUID, cutoff: datetime, limit: int) -> tuple[int, int]:
    """Delete up to ``limit`` of the city's clips finished before ``cutoff`` that no active legal hold of their
    camera overlaps (the rule of storage/holds.py ``active_covering``), oldest first, and queue their objects (the
    clip and its signed manifest; a failed job has none) in the same transaction; (clips, objects queued)."""
    async with pool.acquire() as conn, conn.transaction():
        rows = await conn.fetch(
            f"""WITH doomed AS (
                    SELECT c.id FROM clips c
                    WHERE c.tenant_id = $1 AND c.state IN ('done', 'failed') AND c.finished_at < $2 AND {_UNHELD}
                    ORDER BY c.finished_at, c.id LIMIT $3 FOR UPDATE OF c SKIP LOCKED
                )
                DELETE FROM clips USING doomed WHERE clips.id = doomed.id RETURNING clips.object_key""",
            tenant_id, cutoff, limit)
        keys = [o for r in rows if (k := r["object_key"]) is not None for o in (k, clip_manifest_key(k))]
        await purges.enqueue(conn, keys)
    return len(rows), len(keys)


async def held_expired(pool: asyncpg.Pool, tenant_id: UUID, cutoff: datetime) -> int:
    """How many of the city's clips finished before ``cutoff`` are kept because a legal hold covers them."""
    held: int = await pool.fetchval(
        f"SELECT count(*) FROM clips c WHERE c.tenant_id = $1 AND c.state IN ('done', 'failed')"
        f" AND c.finished_at < $2 AND NOT {_UNHELD}", tenant_id, cutoff)
    return held


async def delete_unless_running(conn: asyncpg.Connection, tenant_id: UUID, clip_id: UUID) -> tuple[bool, str | None]:
    """Delete the clip's row unless it is being exported; (whether the row went, its object key). The caller queues
    the objects for deletion in the same transaction."""
    row = await conn.fetchrow(
        """WITH gone AS (
               DELETE FROM clips WHERE tenant_id = $1 AND id = $2 AND state <> 'running' RETURNING object_key
           )
           SELECT count(*) AS deleted, max(object_key) AS object_key FROM gone""", tenant_id, clip_id)
    return row["deleted"] > 0, row["object_key"]
