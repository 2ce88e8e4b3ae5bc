"""Plate reads in PostgreSQL: monthly partitions, idempotent inserts, keyset-paginated search."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import asyncpg

from domain.lpr import PlateRead

_COLUMNS = ("id, camera_id, plate, captured_at, received_at, confidence, direction, vehicle_color, vehicle_type,"
            " sender, image_keys")
_known_partitions: set[str] = set()


def _month(instant: datetime) -> datetime:
    return instant.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)


async def ensure_partition(pool: asyncpg.Pool, instant: datetime) -> None:
    """The month's partition, created on first use (concurrent creators are harmless)."""
    start = _month(instant)
    name = f"lpr_events_{start:%Y_%m}"
    if name in _known_partitions:
        return
    end = (start + timedelta(days=32)).replace(day=1)
    exists = await pool.fetchval("SELECT to_regclass($1) IS NOT NULL", name)
    if not exists:
        try:
            await pool.execute(f"CREATE TABLE IF NOT EXISTS {name} PARTITION OF lpr_events"
                               f" FOR VALUES FROM ('{start.isoformat()}') TO ('{end.isoformat()}')")
        except (asyncpg.DuplicateTableError, asyncpg.UniqueViolationError):
            pass
        except asyncpg.CheckViolationError:
            return  # rows of that month already sit in the default partition: keep using it
    _known_partitions.add(name)


async def insert(pool: asyncpg.Pool, *, tenant_id: UUID, camera_id: UUID, read: PlateRead, sender: str,
                 image_keys: list[str], event_id: UUID | None = None) -> tuple[UUID, bool]:
    """Store a read once: (its id, whether it was new). A duplicate delivery returns the first one's id."""
    await ensure_partition(pool, read.captured_at)
    key = read.dedupe_key(camera_id)
    new_id = event_id or uuid4()
    stored: UUID | None = await pool.fetchval(
        "INSERT INTO lpr_events (id, tenant_id, camera_id, plate, captured_at, confidence, direction, vehicle_color,"
        " vehicle_type, sender, image_keys, dedupe_key) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12)"
        " ON CONFLICT (dedupe_key, captured_at) DO NOTHING RETURNING id",
        new_id, tenant_id, camera_id, read.plate, read.captured_at, read.confidence, read.direction,
        read.vehicle_color, read.vehicle_type, sender, image_keys, key)
    if stored is not None:
        return stored, True
    first: UUID = await pool.fetchval(
        "SELECT id FROM lpr_events WHERE dedupe_key = $1 AND captured_at = $2", key, read.captured_at)
    return first, False


def _query(tenant_id: UUID, plate: str | None, is_pattern: bool, camera_id: UUID | None, start: datetime | None,
           end: datetime | None, after: tuple[datetime, UUID] | None) -> tuple[str, list[Any]]:
    where = ["tenant_id = $1"]
    args: list[Any] = [tenant_id]

    def arg(value: Any) -> str:
        args.append(value)
        return f"${len(args)}"

    if plate is not None:
        where.append(f"plate LIKE {arg(plate)}" if is_pattern else f"plate = {arg(plate)}")
    if camera_id is not None:
        where.append(f"camera_id = {arg(camera_id)}")
    if start is not None:
        where.append(f"captured_at >= {arg(start)}")
    if end is not None:
        where.append(f"captured_at < {arg(end)}")
    if after is not None:
        where.append(f"(captured_at, id) < ({arg(after[0])}, {arg(after[1])})")
    return f"SELECT {_COLUMNS} FROM lpr_events WHERE {' AND '.join(where)} ORDER BY captured_at DESC, id DESC", args


async def search(pool: asyncpg.Pool, tenant_id: UUID, *, plate: str | None, is_pattern: bool,
                 camera_id: UUID | None, start: datetime | None, end: datetime | None,
                 after: tuple[datetime, UUID] | None, limit: int) -> list[dict[str, Any]]:
    """Newest first; ``after`` is the (captured_at, id) of the last row of the previous page."""
    sql, args = _query(tenant_id, plate, is_pattern, camera_id, start, end, after)
    return [dict(r) for r in await pool.fetch(f"{sql} LIMIT {int(limit)}", *args)]


async def stream(pool: asyncpg.Pool, tenant_id: UUID, *, plate: str | None, is_pattern: bool,
                 camera_id: UUID | None, start: datetime | None, end: datetime | None,
                 batch: int = 1000) -> AsyncIterator[dict[str, Any]]:
    """Every match, newest first, fetched through a server-side cursor (no full materialization)."""
    sql, args = _query(tenant_id, plate, is_pattern, camera_id, start, end, None)
    async with pool.acquire() as conn, conn.transaction():
        async for row in conn.cursor(sql, *args, prefetch=batch):
            yield dict(row)


async def seen_signature(pool: asyncpg.Pool, signature: str, window_s: int) -> bool:
    """Remember a signature for the replay window; True if it was seen before (a replay)."""
    await pool.execute("DELETE FROM lpr_signatures WHERE seen_at < now() - make_interval(secs => $1)", 2 * window_s)
    fresh = await pool.fetchval("INSERT INTO lpr_signatures (signature) VALUES ($1) ON CONFLICT DO NOTHING RETURNING 1",
                                signature)
    return fresh is None


async def camera_by_token(pool: asyncpg.Pool, token: str) -> dict[str, Any] | None:
    row = await pool.fetchrow(
        "SELECT c.id, c.tenant_id, c.lpr_secret, coalesce(c.time_zone, t.time_zone) AS time_zone FROM cameras c"
        " JOIN tenants t ON t.id = c.tenant_id WHERE c.lpr_token = $1 AND c.deleted_at IS NULL", token)
    return dict(row) if row else None


async def camera_by_id(pool: asyncpg.Pool, camera_id: UUID) -> dict[str, Any] | None:
    row = await pool.fetchrow(
        "SELECT c.id, c.tenant_id, c.lpr_secret, coalesce(c.time_zone, t.time_zone) AS time_zone FROM cameras c"
        " JOIN tenants t ON t.id = c.tenant_id WHERE c.id = $1 AND c.deleted_at IS NULL AND c.lpr_secret IS NOT NULL",
        camera_id)
    return dict(row) if row else None


async def set_credentials(pool: asyncpg.Pool, camera_id: UUID, token: str, secret: str) -> None:
    await pool.execute("UPDATE cameras SET lpr_token = $2, lpr_secret = $3 WHERE id = $1", camera_id, token, secret)


async def hourly_counts(pool: asyncpg.Pool, tenant_id: UUID, start: datetime, end: datetime,
                        camera_id: UUID | None) -> list[dict[str, Any]]:
    """Reads per UTC hour and camera in [start, end) (an index range scan on (tenant, captured_at))."""
    rows = await pool.fetch(
        "SELECT date_trunc('hour', captured_at) AS hour, camera_id, count(*) AS events FROM lpr_events"
        " WHERE tenant_id = $1 AND captured_at >= $2 AND captured_at < $3 AND ($4::uuid IS NULL OR camera_id = $4)"
        " GROUP BY 1, 2 ORDER BY 1, 2", tenant_id, start, end, camera_id)
    return [dict(r) for r in rows]
