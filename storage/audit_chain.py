"""Reading the audit chain back from PostgreSQL to check it (``gtvision audit verify``)."""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg

from domain.audit_chain import Anchor, BrokenLink, ChainRow, ChainWalk, anchor_problem

_PAGE = 5000


@dataclass(frozen=True)
class ChainVerdict:
    rows: int
    last_id: int | None
    head: bytes
    broken: BrokenLink | None

    @property
    def intact(self) -> bool:
        return self.broken is None


async def walk_chain(pool: asyncpg.Pool, *, page: int = _PAGE) -> ChainVerdict:
    """Recompute every row's hash in id order; stop at the first broken link."""
    walk = ChainWalk()
    after = 0
    while walk.broken is None:
        rows = await pool.fetch(
            "SELECT id, prev_hash, row_hash, audit_canonical(a) AS canonical FROM audit_log a"
            " WHERE id > $1 ORDER BY id LIMIT $2", after, page)
        for row in rows:
            walk.feed(ChainRow(row["id"], row["prev_hash"], row["row_hash"], row["canonical"]))
        if len(rows) < page:
            break
        after = rows[-1]["id"]
    if walk.broken is None:
        head = await pool.fetchrow("SELECT last_id, row_hash FROM audit_chain_head")
        if head is not None and (head["last_id"], head["row_hash"]) != (walk.last_id, walk.head):
            walk.broken = BrokenLink(walk.last_id or 0, "the last row is not the chain's recorded head"
                                     " (rows after it were removed)")
    return ChainVerdict(walk.rows, walk.last_id, walk.head, walk.broken)


async def head(pool: asyncpg.Pool) -> Anchor:
    """The chain's current head, as an anchor to keep outside the database."""
    row = await pool.fetchrow("SELECT coalesce(last_id, 0) AS last_id, row_hash FROM audit_chain_head")
    return Anchor(row["last_id"], row["row_hash"])


async def check_anchor(pool: asyncpg.Pool, anchor: Anchor) -> str | None:
    """Why the trail contradicts ``anchor``, or None."""
    if anchor.last_id == 0:
        return None
    found = await pool.fetchval("SELECT row_hash FROM audit_log WHERE id = $1", anchor.last_id)
    return anchor_problem(anchor, found)
