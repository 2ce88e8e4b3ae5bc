"""A throwaway PostgreSQL database per test run on the machine's server (127.0.0.1:5432)."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg

ADMIN_DSN = os.environ.get("GTVISION_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


async def create_database() -> str:
    name = f"gtv_test_{uuid.uuid4().hex[:12]}"
    conn = await asyncpg.connect(ADMIN_DSN)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return ADMIN_DSN.rsplit("/", 1)[0] + "/" + name


async def drop_database(dsn: str) -> None:
    name = dsn.rsplit("/", 1)[1]
    conn = await asyncpg.connect(ADMIN_DSN)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


async def forced(pool: asyncpg.Pool, sql: str, *args: object) -> None:
    """What only a superuser can do: run ``sql`` with triggers switched off (e.g. edit the append-only trail)."""
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("SET LOCAL session_replication_role = replica")
        await conn.execute(sql, *args)


@asynccontextmanager
async def fresh_database(max_size: int = 4) -> AsyncIterator[tuple[str, asyncpg.Pool]]:
    """A database of its own, migrated, with a pool (for tests whose counts other tests' rows would disturb);
    dropped afterwards."""
    from storage.db import create_pool, migrate

    dsn = await create_database()
    pool = await create_pool(dsn, max_size=max_size)
    try:
        await migrate(pool)
        yield dsn, pool
    finally:
        await pool.close()
        await drop_database(dsn)
