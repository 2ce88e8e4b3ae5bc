"""PostgreSQL access: the asyncpg pool and the SQL migrations applied at start.

Migrations are plain SQL files in ``storage/migrations``, applied in name order
inside one transaction each, under an advisory lock so that concurrent starters
(API replicas, the Fleet, camera hosts) never apply one twice.
"""

from __future__ import annotations

import json
from pathlib import Path

import asyncpg

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
_MIGRATION_LOCK = 0x67747669  # "gtvi"


def _jsonb_encode(value: object) -> bytes:
    return b"\x01" + json.dumps(value, default=str).encode()  # jsonb's binary format: a version byte, then the text


def _jsonb_decode(data: bytes) -> object:
    return json.loads(data[1:])


async def _init_connection(conn: asyncpg.Connection) -> None:
    # Binary, so that COPY (copy_records_to_table) can write jsonb columns too.
    await conn.set_type_codec("jsonb", encoder=_jsonb_encode, decoder=_jsonb_decode, schema="pg_catalog",
                              format="binary")
    await conn.execute("SET TIME ZONE 'UTC'")


async def create_pool(dsn: str, *, min_size: int = 1, max_size: int = 5) -> asyncpg.Pool:
    pool = await asyncpg.create_pool(
        dsn, min_size=min_size, max_size=max_size, init=_init_connection, command_timeout=30
    )
    assert pool is not None
    return pool


async def migrate(pool: asyncpg.Pool, *, until: str | None = None) -> list[str]:
    """Apply pending migrations in name order (up to and including ``until``, if given); return those applied now.

    A database made by any older GT-Vision is brought up to date this way, keeping its data: migrations only
    ever add (tables, columns with defaults, indexes), and each runs in its own transaction."""
    applied_now: list[str] = []
    async with pool.acquire() as conn:
        await conn.execute("SELECT pg_advisory_lock($1)", _MIGRATION_LOCK)
        try:
            await conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " name text PRIMARY KEY, applied_at timestamptz(3) NOT NULL DEFAULT now())"
            )
            done = {r["name"] for r in await conn.fetch("SELECT name FROM schema_migrations")}
            for path in sorted(MIGRATIONS_DIR.glob("*.sql")):
                if until is not None and path.name > until:
                    break
                if path.name in done:
                    continue
                async with conn.transaction():
                    await conn.execute(path.read_text())
                    await conn.execute("INSERT INTO schema_migrations (name) VALUES ($1)", path.name)
                applied_now.append(path.name)
        finally:
            await conn.execute("SELECT pg_advisory_unlock($1)", _MIGRATION_LOCK)
    return applied_now
