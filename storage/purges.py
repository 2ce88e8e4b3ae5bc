"""The retention pass's data work: delete expired un-held chunks, queue their objects, keep the report.

Rows go first, in one transaction with the enqueueing of their objects (chunk
and thumbnail) and with the report lines: after a crash no row points at a
deleted object, and the queue says which objects are still to delete. The
queue is drained after each batch and at the start of every pass.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import asyncpg

from domain.plans import TenantPolicy
from domain.purge_rules import PurgedChunk, ReportLine, ReportRow, RetentionPass
from storage.holds import unheld_sql
from storage.rows import record_or_none, records

_UNHELD = unheld_sql("r.camera_id", "r.time_range")


async def purge_batch(conn: asyncpg.Connection, tenant_id: UUID, cutoff: datetime, limit: int,
                      max_bytes: int | None = None) -> list[PurgedChunk]:
    """Delete the oldest (up to ``limit``) of the tenant's chunks that ended before ``cutoff`` and no hold
    covers, and queue their objects; with ``max_bytes``, only as many as it takes to free that many bytes
    (never more: an emergency purge must not delete far too much). Call inside a transaction."""
    rows = await conn.fetch(
        f"""WITH oldest AS (
                SELECT r.id, r.bytes, sum(r.bytes) OVER (ORDER BY upper(r.time_range), r.id) AS freed
                FROM recordings r
                WHERE r.tenant_id = $1 AND upper(r.time_range) < $2 AND {_UNHELD}
                ORDER BY upper(r.time_range), r.id LIMIT $3
            ), doomed AS (
                SELECT id FROM oldest WHERE $4::bigint IS NULL OR freed - bytes < $4
            ), gone AS (
                DELETE FROM recordings r USING doomed WHERE r.id = doomed.id
                RETURNING r.camera_id, lower(r.time_range) AS start, upper(r.time_range) AS "end", r.bytes,
                          r.object_key, r.thumbnail_key
            ), queued AS (
                INSERT INTO purge_queue (object_key)
                SELECT object_key FROM gone UNION ALL SELECT thumbnail_key FROM gone WHERE thumbnail_key IS NOT NULL
                ON CONFLICT DO NOTHING
            )
            SELECT camera_id, start, "end", bytes FROM gone""",
        tenant_id, cutoff, limit, max_bytes)
    return records(PurgedChunk, rows)


async def add_report_lines(conn: asyncpg.Connection, pass_id: int, tenant_id: UUID, lines: list[ReportLine]) -> None:
    await conn.executemany(
        "INSERT INTO purge_report (pass_id, tenant_id, camera_id, local_day, chunks, bytes, first_start, last_end)"
        " VALUES ($1,$2,$3,$4,$5,$6,$7,$8) ON CONFLICT (pass_id, tenant_id, camera_id, local_day) DO UPDATE SET"
        " chunks = purge_report.chunks + EXCLUDED.chunks, bytes = purge_report.bytes + EXCLUDED.bytes,"
        " first_start = least(purge_report.first_start, EXCLUDED.first_start),"
        " last_end = greatest(purge_report.last_end, EXCLUDED.last_end)",
        [(pass_id, tenant_id, line.camera_id, line.local_day, line.chunks, line.bytes, line.first_start, line.last_end)
         for line in lines])


async def record_held(pool: asyncpg.Pool, pass_id: int, tenant_id: UUID, cutoff: datetime, time_zone: str) -> int:
    """Count, per camera and local day, the expired chunks kept because a hold covers them (holds honoured)."""
    result = await pool.fetch(
        f"""INSERT INTO purge_report AS p (pass_id, tenant_id, camera_id, local_day, chunks, bytes, first_start,
                                            last_end, held_chunks)
            SELECT $1, $2, r.camera_id, (lower(r.time_range) AT TIME ZONE $4)::date, 0, 0,
                   min(lower(r.time_range)), max(upper(r.time_range)), count(*)
            FROM recordings r WHERE r.tenant_id = $2 AND upper(r.time_range) < $3 AND NOT {_UNHELD}
            GROUP BY r.camera_id, (lower(r.time_range) AT TIME ZONE $4)::date
            ON CONFLICT (pass_id, tenant_id, camera_id, local_day) DO UPDATE SET held_chunks = EXCLUDED.held_chunks
            RETURNING held_chunks""",
        pass_id, tenant_id, cutoff, time_zone)
    return sum(int(r["held_chunks"]) for r in result)


async def queued_objects(pool: asyncpg.Pool, limit: int) -> list[str]:
    return [r["object_key"] for r in await pool.fetch(
        "SELECT object_key FROM purge_queue ORDER BY queued_at LIMIT $1", limit)]


async def enqueue(conn: asyncpg.Connection | asyncpg.Pool, keys: list[str]) -> None:
    """Queue objects for deletion (the retention pass deletes what is still queued)."""
    await conn.execute("INSERT INTO purge_queue (object_key) SELECT unnest($1::text[]) ON CONFLICT DO NOTHING", keys)


async def dequeue(pool: asyncpg.Pool, keys: list[str]) -> None:
    await pool.execute("DELETE FROM purge_queue WHERE object_key = ANY($1::text[])", keys)


async def tenants_to_purge(pool: asyncpg.Pool) -> list[TenantPolicy]:
    rows = await pool.fetch(
        "SELECT t.id, t.time_zone, t.recording_paused, p.retention_days, p.storage_quota_bytes"
        " FROM tenants t JOIN plans p ON p.id = t.plan_id ORDER BY t.name")
    return records(TenantPolicy, rows)


async def bytes_used(pool: asyncpg.Pool, tenant_id: UUID | None) -> int:
    """Bytes of recordings the index holds, of one tenant or (``None``) all."""
    used: int = await pool.fetchval("SELECT coalesce(sum(bytes), 0)::bigint FROM recordings"
                                    " WHERE $1::uuid IS NULL OR tenant_id = $1", tenant_id)
    return used


async def resume_paused(pool: asyncpg.Pool, reason: str) -> int:
    """Resume every tenant paused for ``reason``."""
    done: str = await pool.execute("UPDATE tenants SET recording_paused = NULL WHERE recording_paused = $1", reason)
    return int(done.split()[-1])


async def set_recording_paused(pool: asyncpg.Pool, tenant_id: UUID, reason: str | None) -> None:
    """Pause (a reason) or resume (None) every camera of the tenant; the Fleet applies it on its next pass."""
    await pool.execute("UPDATE tenants SET recording_paused = $2 WHERE id = $1", tenant_id, reason)


async def start_pass(pool: asyncpg.Pool, trigger: str) -> int:
    pass_id: int = await pool.fetchval("INSERT INTO retention_passes (trigger) VALUES ($1) RETURNING id", trigger)
    return pass_id


async def finish_pass(pool: asyncpg.Pool, pass_id: int, *, state: str, error: str | None = None) -> None:
    await pool.execute(
        "UPDATE retention_passes SET finished_at = now(), state = $2, error = $3,"
        " chunks = (SELECT coalesce(sum(chunks), 0) FROM purge_report WHERE pass_id = $1),"
        " bytes = (SELECT coalesce(sum(bytes), 0) FROM purge_report WHERE pass_id = $1) WHERE id = $1",
        pass_id, state, error)


async def mark_interrupted(pool: asyncpg.Pool) -> int:
    """Passes left running by a crash (their deletions are committed; the next pass finishes the rest)."""
    done: str = await pool.execute(
        "UPDATE retention_passes SET state = 'interrupted', finished_at = now() WHERE state = 'running'")
    return int(done.split()[-1])


_PASS_COLUMNS = "id, trigger, started_at, finished_at, state, error, chunks, bytes"


async def passes(pool: asyncpg.Pool, *, limit: int = 50) -> list[RetentionPass]:
    return records(RetentionPass, await pool.fetch(
        f"SELECT {_PASS_COLUMNS} FROM retention_passes ORDER BY id DESC LIMIT $1", limit))


async def passes_of_tenant(pool: asyncpg.Pool, tenant_id: UUID, *, limit: int = 50) -> list[RetentionPass]:
    """The passes as one city sees them: its own chunks and bytes (from the purge report), never the platform's
    totals, and no error text (it may name other cities' cameras or objects)."""
    return records(RetentionPass, await pool.fetch(
        "SELECT p.id, p.trigger, p.started_at, p.finished_at, p.state, NULL::text AS error,"
        " coalesce(sum(r.chunks), 0)::bigint AS chunks, coalesce(sum(r.bytes), 0)::bigint AS bytes"
        " FROM (SELECT * FROM retention_passes ORDER BY id DESC LIMIT $2) p"
        " LEFT JOIN purge_report r ON r.pass_id = p.id AND r.tenant_id = $1"
        " GROUP BY p.id, p.trigger, p.started_at, p.finished_at, p.state ORDER BY p.id DESC", tenant_id, limit))


async def get_pass(pool: asyncpg.Pool, pass_id: int) -> RetentionPass | None:
    row = await pool.fetchrow(f"SELECT {_PASS_COLUMNS} FROM retention_passes WHERE id = $1", pass_id)
    return record_or_none(RetentionPass, row)


async def report(pool: asyncpg.Pool, pass_id: int, tenant_id: UUID | None) -> list[ReportRow]:
    """The pass's report lines, of one tenant or (``None``) all."""
    rows = await pool.fetch(
        "SELECT tenant_id, camera_id, local_day, chunks, bytes, first_start, last_end, held_chunks FROM purge_report"
        " WHERE pass_id = $1 AND ($2::uuid IS NULL OR tenant_id = $2) ORDER BY tenant_id, camera_id, local_day",
        pass_id, tenant_id)
    return records(ReportRow, rows)


async def last_finished(pool: asyncpg.Pool) -> tuple[datetime | None, datetime | None]:
    """(end of the last completed pass, start of a pass still running)."""
    row = await pool.fetchrow(
        "SELECT (SELECT max(finished_at) FROM retention_passes WHERE state = 'done') AS finished,"
        " (SELECT min(started_at) FROM retention_passes WHERE state = 'running') AS running")
    return row["finished"], row["running"]
