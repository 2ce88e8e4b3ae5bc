"""A throwaway PostgreSQL database per test run on the machine's server (127.0.0.1:5432)."""

from __future__ import annotations

import os
import uuid

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
