"""Chunks grouped into runs, straight from the index.

Chunk B continues chunk A iff B starts where A ends on the wall clock *and* in
media time (``media_start_ms``), with the same codec and size: a new run
restarts media time even when the wall clock is contiguous, and a player needs
a discontinuity there. Rows indexed before ``media_start_ms`` existed fall back
to the wall-clock rule. The grouping is one window query (gaps and islands),
so a month of one camera comes back as a handful of rows.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import asyncpg

from domain.recording import IndexedChunk
from domain.timeline import RecordedRun
from storage.recordings import fragment_table
from storage.rows import records

CONTINUITY_TOLERANCE_MS = 5  # chunk bounds are rounded to ms on both sides

_CHUNKS_WITH_RUNS = f"""
WITH c AS (
    SELECT camera_id, id, lower(time_range) AS start, upper(time_range) AS "end", object_key, bytes, init_length,
           codec, width, height, fragments, media_start_ms, thumbnail_key,
           lag(upper(time_range)) OVER w AS prev_end,
           lag(lower(time_range)) OVER w AS prev_start,
           lag(media_start_ms) OVER w AS prev_media_ms,
           lag(codec || width || 'x' || height) OVER w AS prev_format
    FROM recordings
    WHERE tenant_id = $1 AND camera_id = ANY($2::uuid[]) AND time_range && tstzrange($3, $4)
      AND lower(time_range) >= $3::timestamptz - interval '1 hour' AND lower(time_range) < $4
    WINDOW w AS (PARTITION BY camera_id ORDER BY lower(time_range))
), marked AS (
    SELECT *, (prev_end IS NULL
               OR abs(extract(epoch FROM start - prev_end) * 1000) > {CONTINUITY_TOLERANCE_MS}
               OR prev_format <> codec || width || 'x' || height
               OR (media_start_ms IS NOT NULL AND prev_media_ms IS NOT NULL
                   AND abs(media_start_ms - prev_media_ms - extract(epoch FROM prev_end - prev_start) * 1000)
                       > {CONTINUITY_TOLERANCE_MS})) AS new_run
    FROM c
)
SELECT *, sum(new_run::int) OVER (PARTITION BY camera_id ORDER BY start) AS run FROM marked
"""


async def runs(pool: asyncpg.Pool, tenant_id: UUID, camera_ids: list[UUID], start: datetime, end: datetime,
               ) -> list[RecordedRun]:
    """Recorded runs of the cameras overlapping [start, end), per camera in time order (unclipped)."""
    rows = await pool.fetch(
        f"SELECT camera_id, min(start) AS start, max(\"end\") AS \"end\", count(*) AS chunks, sum(bytes) AS bytes"
        f" FROM ({_CHUNKS_WITH_RUNS}) r GROUP BY camera_id, run ORDER BY camera_id, min(start)",
        tenant_id, camera_ids, start, end,
    )
    return records(RecordedRun, rows)


async def chunks(pool: asyncpg.Pool, tenant_id: UUID, camera_id: UUID, start: datetime, end: datetime,
                 *, limit: int) -> list[IndexedChunk]:
    """Chunks overlapping [start, end) in time order, each marked ``new_run`` where a run begins."""
    rows = await pool.fetch(f"{_CHUNKS_WITH_RUNS} ORDER BY start LIMIT $5", tenant_id, [camera_id], start, end, limit)
    return records(IndexedChunk, rows, fragments=fragment_table)
