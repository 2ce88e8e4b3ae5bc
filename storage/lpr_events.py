"""Plate reads in PostgreSQL: monthly partitions, batched idempotent inserts (COPY), keyset-paginated search."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from ipaddress import IPv4Network, IPv6Network
from typing import Any
from uuid import UUID

import asyncpg

from domain.lpr.bounds import month_of, next_month
from domain.lpr.pseudonym import SQL_IN_THE_CLEAR
from domain.lpr.queued_read import QueuedRead
from domain.lpr.senders import LprSender
from domain.lpr.stored import HourlyCount, StoredRead
from storage.rows import record_or_none, records

_COLUMNS = ("id, camera_id, plate, captured_at, received_at, confidence, direction, vehicle_color, vehicle_type,"
            " sender, image_keys")
_known_partitions: set[str] = set()
_SELECTIVE_PREFIX = 3


async def ensure_partition(pool: asyncpg.Pool, instant: datetime) -> None:
    """The month's partition, created on first use (concurrent creators are harmless). Which months may have one
    is the writer's decision (domain/lpr/bounds.py ``writable_months``): a read outside them never gets here."""
    start = month_of(instant)
    name = f"lpr_events_{start:%Y_%m}"
    if name in _known_partitions:
        return
    end = next_month(start)
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


_ROW = ("id", "tenant_id", "camera_id", "plate", "captured_at", "received_at", "confidence", "direction",
        "vehicle_color", "vehicle_type", "sender", "image_keys", "image_bytes", "dedupe_key")


@dataclass(frozen=True)
class BatchOutcome:
    """What a batch did: reads stored now, reads an earlier attempt of the same entry stored, true duplicates."""

    stored: list[QueuedRead]
    stored_before: list[QueuedRead]
    duplicates: list[QueuedRead]
    refused: list[tuple[QueuedRead, str]] = field(default_factory=list)  # dead-lettered (services/lpr_write.py)


async def store_batch(pool: asyncpg.Pool, reads: list[QueuedRead]) -> BatchOutcome:
    """COPY the batch into a staging table, then insert what is not stored yet — one transaction.

    A read whose dedupe key is already taken is either this very read stored by
    an earlier attempt (same id: the writer died before confirming it) or
    another delivery of the same plate read (a duplicate, not stored).
    """
    for month in {month_of(r.captured_at) for r in reads}:
        await ensure_partition(pool, month)
    records = [(r.id, r.tenant_id, r.camera_id, r.plate, r.captured_at, r.received_at, r.confidence, r.direction,
                r.vehicle_color, r.vehicle_type, r.sender, list(r.image_keys), r.image_bytes, r.dedupe_key) for r in reads]
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("CREATE TEMP TABLE IF NOT EXISTS lpr_staging"
                           " (LIKE lpr_events INCLUDING DEFAULTS) ON COMMIT DELETE ROWS")
        await conn.copy_records_to_table("lpr_staging", records=records, columns=_ROW)
        columns = ", ".join(_ROW)
        inserted = {r["id"] for r in await conn.fetch(
            f"INSERT INTO lpr_events ({columns}) SELECT {columns} FROM lpr_staging"
            " ON CONFLICT (dedupe_key, captured_at) DO NOTHING RETURNING id")}
        others = [r.id for r in reads if r.id not in inserted]
        earlier = {r["id"] for r in await conn.fetch(
            "SELECT id FROM lpr_events WHERE id = ANY($1::uuid[])", others)} if others else set()
    return BatchOutcome(stored=[r for r in reads if r.id in inserted],
                        stored_before=[r for r in reads if r.id in earlier],
                        duplicates=[r for r in reads if r.id not in inserted and r.id not in earlier])


def _query(tenant_id: UUID, plate: str | None, is_pattern: bool, camera_id: UUID | None, start: datetime | None,
           end: datetime | None, after: tuple[datetime, UUID] | None) -> tuple[str, list[Any]]:
    where = ["tenant_id = $1"]
    args: list[Any] = [tenant_id]

    def arg(value: Any) -> str:
        args.append(value)
        return f"${len(args)}"

    if plate is not None:
        where.append(f"plate LIKE {arg(plate)}" if is_pattern else f"plate = {arg(plate)}")
        where.append(SQL_IN_THE_CLEAR)  # a pattern such as A* must not find anonymized reads (ANON-…)
    if camera_id is not None:
        where.append(f"camera_id = {arg(camera_id)}")
    if start is not None:
        where.append(f"captured_at >= {arg(start)}")
    if end is not None:
        where.append(f"captured_at < {arg(end)}")
    if after is not None:
        where.append(f"(captured_at, id) < ({arg(after[0])}, {arg(after[1])})")
    select = f"SELECT {_COLUMNS} FROM lpr_events WHERE {' AND '.join(where)}"
    if plate is not None and is_pattern and len(re.split("[%_]", plate, maxsplit=1)[0]) >= _SELECTIVE_PREFIX:
        # A pattern starting with 3+ literal characters matches few reads, but PostgreSQL tends to walk the time
        # index newest-first filtering by plate (a whole-table scan for a rare prefix): collect the plate index's
        # matches first, then order them.
        return f"WITH matches AS MATERIALIZED ({select}) SELECT * FROM matches ORDER BY captured_at DESC, id DESC", args
    return f"{select} ORDER BY captured_at DESC, id DESC", args


async def search(pool: asyncpg.Pool, tenant_id: UUID, *, plate: str | None, is_pattern: bool,
                 camera_id: UUID | None, start: datetime | None, end: datetime | None,
                 after: tuple[datetime, UUID] | None, limit: int) -> list[StoredRead]:
    """Newest first; ``after`` is the (captured_at, id) of the last row of the previous page."""
    sql, args = _query(tenant_id, plate, is_pattern, camera_id, start, end, after)
    return records(StoredRead, await pool.fetch(f"{sql} LIMIT {int(limit)}", *args))


async def count_up_to(pool: asyncpg.Pool, tenant_id: UUID, *, plate: str | None, is_pattern: bool,
                      camera_id: UUID | None, start: datetime | None, end: datetime | None, most: int) -> int:
    """How many reads match, counting no further than ``most`` (an export's bound is checked before it starts)."""
    sql, args = _query(tenant_id, plate, is_pattern, camera_id, start, end, None)
    count: int = await pool.fetchval(f"SELECT count(*) FROM ({sql} LIMIT {int(most)}) AS matches", *args)
    return count


async def pages(pool: asyncpg.Pool, tenant_id: UUID, *, plate: str | None, is_pattern: bool,
                camera_id: UUID | None, start: datetime | None, end: datetime | None,
                page_rows: int, most: int) -> AsyncIterator[list[StoredRead]]:
    """Every match (up to ``most``), newest first, in keyset pages: each page is one short query on a connection
    given back at once, so a client that reads slowly holds no connection between pages."""
    after: tuple[datetime, UUID] | None = None
    left = most
    while left > 0:
        page = await search(pool, tenant_id, plate=plate, is_pattern=is_pattern, camera_id=camera_id, start=start,
                            end=end, after=after, limit=min(page_rows, left))
        if not page:
            return
        yield page
        left -= len(page)
        if len(page) < page_rows:
            return
        after = (page[-1].captured_at, page[-1].id)


async def seen_signature(pool: asyncpg.Pool, signature: str) -> bool:
    """Remember a signature; True if it was seen before (a replay). ``forget_signatures`` ages them out."""
    fresh = await pool.fetchval("INSERT INTO lpr_signatures (signature) VALUES ($1) ON CONFLICT DO NOTHING RETURNING 1",
                                signature)
    return fresh is None


async def forget_signatures(pool: asyncpg.Pool, window_s: int) -> int:
    """Drop signatures older than twice the replay window (a timestamp that old is refused anyway)."""
    status: str = await pool.execute(
        "DELETE FROM lpr_signatures WHERE seen_at < now() - make_interval(secs => $1)", 2 * window_s)
    return int(status.split()[-1])


_SENDER_COLUMNS = ("SELECT c.id, c.tenant_id, c.lpr_secret_sealed, c.lpr_allowed_sources,"
                   " coalesce(c.time_zone, t.time_zone) AS time_zone")


async def camera_by_token_hash(pool: asyncpg.Pool, token_hash: bytes) -> LprSender | None:
    """The camera whose push token hashes to this (only hashes are stored: domain/lpr/push_token.py)."""
    row = await pool.fetchrow(
        _SENDER_COLUMNS + " FROM cameras c"
        " JOIN tenants t ON t.id = c.tenant_id WHERE c.lpr_token_hash = $1 AND c.deleted_at IS NULL", token_hash)
    return record_or_none(LprSender, row)


async def camera_by_id(pool: asyncpg.Pool, camera_id: UUID) -> LprSender | None:
    row = await pool.fetchrow(
        _SENDER_COLUMNS + " FROM cameras c JOIN tenants t ON t.id = c.tenant_id"
        " WHERE c.id = $1 AND c.deleted_at IS NULL AND c.lpr_secret_sealed IS NOT NULL", camera_id)
    return record_or_none(LprSender, row)


async def set_credentials(pool: asyncpg.Pool, camera_id: UUID, *, token_hash: bytes, sealed_secret: str,
                          allowed_sources: list[IPv4Network | IPv6Network] | None) -> None:
    """New push credentials: the token's hash and the sealed HMAC secret (neither is stored in the clear)."""
    await pool.execute("UPDATE cameras SET lpr_token_hash = $2, lpr_secret_sealed = $3, lpr_allowed_sources = $4,"
                       " lpr_secret = NULL WHERE id = $1", camera_id, token_hash, sealed_secret, allowed_sources)


async def hourly_counts(pool: asyncpg.Pool, tenant_id: UUID, start: datetime, end: datetime,
                        camera_id: UUID | None) -> list[HourlyCount]:
    """Reads per UTC hour and camera in [start, end) (an index range scan on (tenant, captured_at))."""
    rows = await pool.fetch(
        "SELECT date_trunc('hour', captured_at) AS hour, camera_id, count(*) AS events FROM lpr_events"
        " WHERE tenant_id = $1 AND captured_at >= $2 AND captured_at < $3 AND ($4::uuid IS NULL OR camera_id = $4)"
        " GROUP BY 1, 2 ORDER BY 1, 2", tenant_id, start, end, camera_id)
    return records(HourlyCount, rows)


async def get(pool: asyncpg.Pool, tenant_id: UUID, event_id: UUID) -> StoredRead | None:
    """One read of the city by id (another city's is not found)."""
    return record_or_none(StoredRead, await pool.fetchrow(
        f"SELECT {_COLUMNS} FROM lpr_events WHERE tenant_id = $1 AND id = $2", tenant_id, event_id))
