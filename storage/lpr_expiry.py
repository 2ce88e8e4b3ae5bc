"""The retention pass's plate-read work: anonymize a city's reads captured before its LPR cutoff.

Reads a legal hold covers (an active hold on the read's camera whose range contains its instant) are left as
they are. Each batch rewrites its reads and queues their images in one transaction (see storage/purges.py for
why); the partial index ``lpr_events_clear_time`` (migration 0012) holds only reads still in the clear, so a
pass never walks the reads earlier passes anonymized.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import asyncpg

from domain.lpr.pseudonym import SQL_IN_THE_CLEAR
from storage.holds import unheld_sql
from storage.rows import records

_UNHELD = unheld_sql("e.camera_id", "tstzrange(e.captured_at, e.captured_at, '[]')")


@dataclass(frozen=True)
class CityLprPolicy:
    id: UUID
    retention_days: int
    lpr_retention_days: int | None


async def cities(pool: asyncpg.Pool) -> list[CityLprPolicy]:
    return records(CityLprPolicy, await pool.fetch(
        "SELECT t.id, p.retention_days, p.lpr_retention_days FROM tenants t JOIN plans p ON p.id = t.plan_id"
        " ORDER BY t.name"))


async def anonymize_expired_batch(pool: asyncpg.Pool, tenant_id: UUID, cutoff: datetime, limit: int,
                                  pseudonym_of: Callable[[str], str]) -> tuple[int, int]:
    """Anonymize up to ``limit`` of the oldest un-held reads captured before ``cutoff``; (reads, images)."""
    async with pool.acquire() as conn, conn.transaction():
        doomed = await conn.fetch(
            f"SELECT e.id, e.captured_at, e.plate, e.image_keys FROM lpr_events e"
            f" WHERE e.tenant_id = $1 AND e.captured_at < $2 AND e.{SQL_IN_THE_CLEAR} AND {_UNHELD}"
            f" ORDER BY e.captured_at LIMIT $3 FOR UPDATE OF e", tenant_id, cutoff, limit)
        if not doomed:
            return 0, 0
        await conn.execute(
            "UPDATE lpr_events e SET plate = d.pseudonym, image_keys = '{}', image_bytes = 0,"
            " dedupe_key = CASE WHEN e.dedupe_key LIKE '%:id:%' THEN e.dedupe_key ELSE 'anon:' || e.id END"
            " FROM unnest($2::uuid[], $3::timestamptz[], $4::text[]) AS d(id, captured_at, pseudonym)"
            " WHERE e.tenant_id = $1 AND e.id = d.id AND e.captured_at = d.captured_at",
            tenant_id, [r["id"] for r in doomed], [r["captured_at"] for r in doomed],
            [pseudonym_of(r["plate"]) for r in doomed])
        keys = [key for r in doomed for key in r["image_keys"]]
        await conn.execute("INSERT INTO purge_queue (object_key) SELECT unnest($1::text[]) ON CONFLICT DO NOTHING", keys)
    return len(doomed), len(keys)


async def count_held(pool: asyncpg.Pool, tenant_id: UUID, cutoff: datetime) -> int:
    """Expired reads still in the clear because a hold covers them."""
    held: int = await pool.fetchval(
        f"SELECT count(*) FROM lpr_events e WHERE e.tenant_id = $1 AND e.captured_at < $2 AND e.{SQL_IN_THE_CLEAR}"
        f" AND NOT {_UNHELD}", tenant_id, cutoff)
    return held
