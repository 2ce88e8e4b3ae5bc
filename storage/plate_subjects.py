"""One plate as a data subject: its reads and the searches that looked for it; anonymizing it in a city.

Anonymizing rewrites the reads (plate → pseudonym, images cleared, a dedupe key that held the plate replaced)
and queues their images for deletion in one transaction per batch, like the retention pass does with chunks
(storage/purges.py): a crash leaves committed batches and a queue the next drain finishes, never a row that
points at a deleted image.
"""

from __future__ import annotations

from uuid import UUID

import asyncpg

from domain.lpr.subject_report import PlateLookup, SubjectRead
from storage.rows import records

# A search term as stored in the audit detail, in canonical characters (what domain/lpr/plates.py search_pattern
# keeps), as a LIKE pattern: ? is one character, * any run. Terms hold only [A-Z0-9?*], so nothing needs escaping.
_TERM = "upper(regexp_replace(detail->>'plate', '[^A-Za-z0-9?*]', '', 'g'))"


async def reads_of_plate(pool: asyncpg.Pool, tenant_id: UUID, plate: str, limit: int) -> list[SubjectRead]:
    """The city's reads of the plate, newest first (the plate index), with each camera's name."""
    rows = await pool.fetch(
        "SELECT e.id, e.camera_id, c.name AS camera_name, e.captured_at, e.received_at, e.confidence, e.direction,"
        " e.vehicle_color, e.vehicle_type, e.image_keys FROM lpr_events e"
        " LEFT JOIN cameras c ON c.id = e.camera_id"
        " WHERE e.tenant_id = $1 AND e.plate = $2 ORDER BY e.captured_at DESC, e.id DESC LIMIT $3",
        tenant_id, plate, limit)
    return records(SubjectRead, rows)


async def lookups_of_plate(pool: asyncpg.Pool, tenant_id: UUID, plate: str, limit: int) -> list[PlateLookup]:
    """The city's plate searches and exports (audit ``lpr.search`` / ``lpr.export``) whose term matches the plate,
    exactly or as a pattern, newest first."""
    rows = await pool.fetch(
        f"SELECT a.at, a.action, a.user_id, u.username, a.detail->>'plate' AS term, a.range_start, a.range_end"
        f" FROM audit_log a LEFT JOIN users u ON u.id = a.user_id"
        f" WHERE a.tenant_id = $1 AND a.action IN ('lpr.search', 'lpr.export') AND a.detail->>'plate' IS NOT NULL"
        f" AND $2 LIKE replace(replace({_TERM}, '?', '_'), '*', '%')"
        f" ORDER BY a.at DESC, a.id DESC LIMIT $3", tenant_id, plate, limit)
    return records(PlateLookup, rows)


async def anonymize_batch(pool: asyncpg.Pool, tenant_id: UUID, plate: str, pseudonym: str,
                          limit: int) -> tuple[int, int]:
    """Anonymize up to ``limit`` of the city's reads of ``plate`` and queue their images; (reads, images)."""
    async with pool.acquire() as conn, conn.transaction():
        row = await conn.fetchrow(
            """WITH doomed AS (
                   SELECT id, captured_at, image_keys FROM lpr_events
                   WHERE tenant_id = $1 AND plate = $2 LIMIT $4 FOR UPDATE
               ), changed AS (
                   UPDATE lpr_events e SET plate = $3, image_keys = '{}', image_bytes = 0,
                       dedupe_key = CASE WHEN e.dedupe_key LIKE '%:id:%' THEN e.dedupe_key ELSE 'anon:' || e.id END
                   FROM doomed d WHERE e.tenant_id = $1 AND e.id = d.id AND e.captured_at = d.captured_at
                   RETURNING d.image_keys
               ), queued AS (
                   INSERT INTO purge_queue (object_key) SELECT unnest(image_keys) FROM changed ON CONFLICT DO NOTHING
               )
               SELECT count(*) AS reads, coalesce(sum(cardinality(image_keys)), 0) AS images FROM changed""",
            tenant_id, plate, pseudonym, limit)
    return int(row["reads"]), int(row["images"])


async def remove_watch_entries(pool: asyncpg.Pool, tenant_id: UUID, plate: str) -> int:
    """The city's watchlist entries for exactly this plate (patterns that merely match it are other people's)."""
    done: str = await pool.execute("DELETE FROM lpr_watchlist WHERE tenant_id = $1 AND pattern = $2", tenant_id, plate)
    return int(done.split()[-1])
