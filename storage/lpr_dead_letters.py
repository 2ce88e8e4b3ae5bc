"""Plate reads the writer set aside (``lpr_dead_letters``): added once per read, listed newest first, counted.

The writer adds a read here when PostgreSQL refuses it for its data (services/lpr_write.py) and then confirms it
to the intake, so it is never retried; admins and managers list them (``GET /api/v1/lpr/dead-letters``) and
metrics read ``count``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import asyncpg

from domain.lpr.dead_letter import MAX_READ, DeadLetter, printable_error
from storage.rows import records


@dataclass(frozen=True)
class NewDeadLetter:
    """What the writer knows of a read it cannot store: its JSON, and for a readable entry its ids."""

    read: str
    error: str
    read_id: UUID | None = None
    tenant_id: UUID | None = None
    camera_id: UUID | None = None


async def add(pool: asyncpg.Pool, letters: list[NewDeadLetter]) -> int:
    """Store each letter once (a read dead-lettered again after a writer restart keeps its first row); returns
    how many are new."""
    if not letters:
        return 0
    rows = [(letter.read_id, letter.tenant_id, letter.camera_id, _bounded_read(letter.read),
             printable_error(letter.error)) for letter in letters]
    async with pool.acquire() as conn, conn.transaction():
        added = 0
        for row in rows:
            status: str = await conn.execute(
                "INSERT INTO lpr_dead_letters (read_id, tenant_id, camera_id, read, error) VALUES ($1, $2, $3, $4, $5)"
                " ON CONFLICT (read_id) DO NOTHING", *row)
            added += int(status.split()[-1])
    return added


def _bounded_read(read: str) -> str:
    # Already ASCII JSON from the intake; escaped again in case an entry carried a raw NUL or lone surrogate.
    return read.encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\x00")[:MAX_READ]


async def count(pool: asyncpg.Pool, tenant_id: UUID | None = None) -> int:
    """Dead letters of one city, or of all (``tenant_id`` None): for metrics and the list's total."""
    total: int = await pool.fetchval(
        "SELECT count(*) FROM lpr_dead_letters WHERE $1::uuid IS NULL OR tenant_id = $1", tenant_id)
    return total


async def page(pool: asyncpg.Pool, tenant_id: UUID | None, *, before_id: int | None, limit: int) -> list[DeadLetter]:
    """Newest first, ``limit`` at most, after (older than) ``before_id`` when given; one city or all."""
    rows = await pool.fetch(
        "SELECT id, read_id, tenant_id, camera_id, read, error, first_seen FROM lpr_dead_letters"
        " WHERE ($1::uuid IS NULL OR tenant_id = $1) AND ($2::bigint IS NULL OR id < $2)"
        " ORDER BY id DESC LIMIT $3", tenant_id, before_id, limit)
    return records(DeadLetter, rows)


async def delete_older(pool: asyncpg.Pool, tenant_id: UUID, cutoff: datetime) -> int:
    """A city's dead letters first seen before ``cutoff`` deleted (they hold the read, plate and all); how many."""
    done: str = await pool.execute("DELETE FROM lpr_dead_letters WHERE tenant_id = $1 AND first_seen < $2",
                                   tenant_id, cutoff)
    return int(done.split()[-1])
