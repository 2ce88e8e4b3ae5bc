"""What the hash-chained audit trail costs: append rate with the chain vs a plain table, and verify speed.

Every audit row takes the chain's one head row under lock (migration 0011), so concurrent writers queue. This
measures appends per second from ``--writers`` concurrent connections into ``audit_log`` (trigger, hash, head
update) against the same inserts into a copy of the table without triggers — the peer, in the same run and the
same database — and reports the ratio; then how fast ``gtvision audit verify``'s walk checks the rows.

    .venv/bin/python -m benchmarks.audit_chain --rows 20000 --out benchmarks/results/audit_chain.json
"""

from __future__ import annotations

import asyncio
import time
from typing import Any
from uuid import uuid4

import asyncpg

from benchmarks.report import base_parser, publish

_INSERT = ("INSERT INTO {table} (tenant_id, user_id, action, camera_id, detail, source)"
           " VALUES ($1, $2, 'footage.playback', $3, $4, '203.0.113.7')")


async def _append_rate(pool: asyncpg.Pool, table: str, rows: int, writers: int) -> float:
    tenant, camera = uuid4(), uuid4()
    per_writer = rows // writers
    sql = _INSERT.format(table=table)

    async def writer() -> None:
        for i in range(per_writer):
            await pool.execute(sql, tenant, uuid4(), camera, {"n": i, "range": "2026-11-30T10:00/11:00"})

    started = time.perf_counter()
    await asyncio.gather(*(writer() for _ in range(writers)))
    return per_writer * writers / (time.perf_counter() - started)


async def run(rows: int, writers: int) -> dict[str, Any]:
    from storage.audit_chain import walk_chain
    from storage.db import create_pool, migrate
    from tests.support.databases import create_database, drop_database

    dsn = await create_database()
    pool = await create_pool(dsn, max_size=writers)
    try:
        await migrate(pool)
        await pool.execute("CREATE TABLE plain_audit (LIKE audit_log INCLUDING DEFAULTS)")
        await pool.execute("ALTER TABLE plain_audit ALTER COLUMN prev_hash DROP NOT NULL,"
                           " ALTER COLUMN row_hash DROP NOT NULL")
        await _append_rate(pool, "audit_log", writers * 50, writers)  # warm-up
        chained = await _append_rate(pool, "audit_log", rows, writers)
        plain = await _append_rate(pool, "plain_audit", rows, writers)
        started = time.perf_counter()
        verdict = await walk_chain(pool)
        verify_s = time.perf_counter() - started
        assert verdict.intact
    finally:
        await pool.close()
        await drop_database(dsn)
    return {"rows": rows, "writers": writers, "chained_appends_per_s": round(chained),
            "plain_appends_per_s": round(plain), "ratio_vs_plain": round(chained / plain, 2),
            "verify_rows": verdict.rows, "verify_rows_per_s": round(verdict.rows / verify_s)}


def main() -> None:
    parser = base_parser(__doc__, 0.0)
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--writers", type=int, default=8)
    args = parser.parse_args()
    publish("audit_chain", asyncio.run(run(args.rows, args.writers)), args.out)


if __name__ == "__main__":
    main()
