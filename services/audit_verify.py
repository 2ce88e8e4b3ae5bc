"""``gtvision audit verify``: is the audit trail whole? Every link of the chain, then every anchor against it.

The walk (storage/audit_chain.py) catches a row edited or deleted in place, and a tail cut without rewriting the
chain's head row; the anchors kept in the object store (domain/audit_anchors.py) catch a tail cut with the head
row rewritten to match. The first problem found is named: the row, its time and action, and why.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime

import asyncpg

from domain.audit_anchors import BadAnchor, DatedAnchor
from storage import audit, audit_anchors
from storage.audit_chain import ChainVerdict, check_anchor, walk_chain
from storage.objects import ObjectStore


@dataclass(frozen=True)
class BrokenRow:
    """The first row where the trail fails, as a person needs it to look: id, time, action, reason."""

    id: int
    at: datetime | None  # None: the row is gone (an anchor names a row that no longer exists)
    action: str | None
    reason: str


@dataclass(frozen=True)
class AuditVerdict:
    rows: int
    last_id: int | None
    head: bytes
    anchors_checked: int
    broken: BrokenRow | None
    anchor_problems: list[str] = field(default_factory=list)  # every anchor that disagrees, and unreadable ones

    @property
    def intact(self) -> bool:
        return self.broken is None and not self.anchor_problems


async def verify_trail(pool: asyncpg.Pool, store: ObjectStore | None) -> AuditVerdict:
    """Walk the chain, then check every anchor in ``store`` (None: no anchors to check)."""
    verdict = await walk_chain(pool)
    broken = await _described(pool, verdict)
    problems: list[str] = []
    anchors: list[DatedAnchor] = []
    if store is not None:
        for key in await asyncio.to_thread(audit_anchors.keys, store):
            try:
                anchors.append(await asyncio.to_thread(audit_anchors.read_key, store, key))
            except BadAnchor as exc:
                problems.append(f"{key}: {exc}")
    for dated in anchors:
        problem = await check_anchor(pool, dated.anchor)
        if problem is not None:
            problems.append(f"anchor of {dated.day.isoformat()}: {problem}")
            if broken is None:
                broken = await _row(pool, dated.anchor.last_id, problem)
    return AuditVerdict(verdict.rows, verdict.last_id, verdict.head, len(anchors), broken, problems)


async def _described(pool: asyncpg.Pool, verdict: ChainVerdict) -> BrokenRow | None:
    if verdict.broken is None:
        return None
    return await _row(pool, verdict.broken.id, verdict.broken.reason)


async def _row(pool: asyncpg.Pool, row_id: int, reason: str) -> BrokenRow:
    found = await audit.at_and_action(pool, row_id)
    return BrokenRow(row_id, found[0] if found else None, found[1] if found else None, reason)


def report_lines(verdict: AuditVerdict) -> list[str]:
    """The verdict for a person: what was checked, then the first broken link and every anchor problem."""
    lines = [f"audit trail: {verdict.rows} rows checked, head row {verdict.last_id or 0} hash {verdict.head.hex()}",
             f"anchors: {verdict.anchors_checked} checked"]
    if verdict.broken is not None:
        b = verdict.broken
        at = b.at.isoformat() if b.at else "(row missing)"
        lines.append(f"BROKEN at row {b.id} ({at}, {b.action or 'unknown action'}): {b.reason}")
    lines += [f"ANCHOR {problem}" for problem in verdict.anchor_problems]
    lines.append("the audit trail is intact" if verdict.intact else "the audit trail has been tampered with")
    return lines
