"""The audit trail is append-only and hash-chained in PostgreSQL, and a walk names the first broken link.

Each test has a database of its own: forcing a change (as the superuser, with triggers off) breaks the
chain for good, which the suite's shared database must not see.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from uuid import uuid4

import asyncpg
import pytest

from domain.audit_chain import GENESIS, Anchor, chained_hash
from storage import audit
from storage.audit_chain import check_anchor, head, walk_chain
from storage.db import create_pool, migrate
from tests.support.databases import create_database, drop_database, forced


@pytest.fixture
async def trail() -> AsyncIterator[asyncpg.Pool]:
    """A fresh database with 20 audit rows, written concurrently."""
    dsn = await create_database()
    pool = await create_pool(dsn, max_size=8)
    try:
        await migrate(pool)
        tenant = uuid4()
        await asyncio.gather(*(audit.record(pool, uuid4(), "camera.updated", tenant_id=tenant,
                                            detail={"n": i, "nome": "Praça São João"}, source="127.0.0.1")
                               for i in range(20)))
        yield pool
    finally:
        await pool.close()
        await drop_database(dsn)


async def test_concurrent_writers_extend_one_intact_chain(trail: asyncpg.Pool) -> None:
    verdict = await walk_chain(trail)
    assert verdict.intact and verdict.rows == 20
    rows = await trail.fetch("SELECT id, prev_hash, row_hash, audit_canonical(a) AS c FROM audit_log a ORDER BY id")
    assert rows[0]["prev_hash"] == GENESIS
    for before, row in itertools.pairwise(rows):
        assert row["prev_hash"] == before["row_hash"]
    # The database's hash is the one anyone can recompute from the canonical text.
    assert all(chained_hash(r["prev_hash"], r["c"]) == r["row_hash"] for r in rows)
    assert "Praça São João" in rows[0]["c"] and '"127.0.0.1"' in rows[0]["c"]


async def test_record_returns_the_rows_hash(trail: asyncpg.Pool) -> None:
    row_hash = await audit.record(trail, None, "retention.purged", tenant_id=None)
    assert await trail.fetchval("SELECT row_hash FROM audit_log ORDER BY id DESC LIMIT 1") == bytes.fromhex(row_hash)


@pytest.mark.parametrize("sql", [
    "UPDATE audit_log SET action = 'nothing' WHERE id = (SELECT min(id) FROM audit_log)",
    "DELETE FROM audit_log WHERE id = (SELECT min(id) FROM audit_log)",
    "TRUNCATE audit_log",
])
async def test_changing_the_trail_is_refused(trail: asyncpg.Pool, sql: str) -> None:
    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
        await trail.execute(sql)
    assert (await walk_chain(trail)).rows == 20


async def test_a_forced_edit_is_named(trail: asyncpg.Pool) -> None:
    ids = [r["id"] for r in await trail.fetch("SELECT id FROM audit_log ORDER BY id")]
    await forced(trail, "UPDATE audit_log SET detail = '{\"n\": 999}' WHERE id = $1", ids[7])
    verdict = await walk_chain(trail)
    assert verdict.broken is not None and verdict.broken.id == ids[7]
    assert "altered" in verdict.broken.reason and verdict.rows == 7


async def test_a_forced_delete_is_named_at_the_next_row(trail: asyncpg.Pool) -> None:
    ids = [r["id"] for r in await trail.fetch("SELECT id FROM audit_log ORDER BY id")]
    await forced(trail, "DELETE FROM audit_log WHERE id = $1", ids[3])
    verdict = await walk_chain(trail)
    assert verdict.broken is not None and verdict.broken.id == ids[4] and "deleted" in verdict.broken.reason


async def test_a_cut_tail_is_caught_by_the_head_and_by_an_anchor(trail: asyncpg.Pool) -> None:
    anchor = await head(trail)
    assert await check_anchor(trail, anchor) is None
    await forced(trail, "DELETE FROM audit_log WHERE id > (SELECT min(id) + 9 FROM audit_log)")
    verdict = await walk_chain(trail)
    assert verdict.broken is not None and "head" in verdict.broken.reason
    # Even with the head row rewritten to match, the anchor kept outside the database disagrees.
    await forced(trail, "UPDATE audit_chain_head SET last_id = $1, row_hash = $2", verdict.last_id, verdict.head)
    assert (await walk_chain(trail)).intact
    problem = await check_anchor(trail, anchor)
    assert problem is not None and "cut" in problem
    assert await check_anchor(trail, Anchor(verdict.last_id or 0, b"x" * 32)) is not None


async def test_rows_written_before_the_chain_are_chained_by_the_migration() -> None:
    dsn = await create_database()
    pool = await create_pool(dsn, max_size=2)
    try:
        await migrate(pool, until="0010_camera_networks.sql")
        for action in ("clip.exported", "hold.created", "lpr.search"):
            await pool.execute("INSERT INTO audit_log (action, detail) VALUES ($1, '{\"antes\": true}')", action)
        await migrate(pool)
        await audit.record(pool, None, "user.login", tenant_id=None)
        verdict = await walk_chain(pool)
        assert verdict.intact and verdict.rows == 4
    finally:
        await pool.close()
        await drop_database(dsn)
