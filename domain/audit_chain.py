"""The audit trail's hash chain: how a row's hash is made, and how a walk finds the first broken link.

Each row's hash is ``sha256(prev_hash || canonical)``, where ``canonical`` is the row's content as the
database spells it (``audit_canonical`` in migration 0011) and the first row's ``prev_hash`` is 32 zero
bytes. Editing a row changes its canonical form, so its stored hash no longer matches; deleting one
leaves the next row pointing at a hash that is not its predecessor's. Cutting the tail leaves a valid,
shorter chain: only the anchors (a past head kept outside the database) catch that.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

GENESIS = bytes(32)


def chained_hash(prev_hash: bytes, canonical: str) -> bytes:
    return hashlib.sha256(prev_hash + canonical.encode()).digest()


@dataclass(frozen=True)
class ChainRow:
    id: int
    prev_hash: bytes
    row_hash: bytes
    canonical: str


@dataclass(frozen=True)
class BrokenLink:
    """Where the chain first fails, and how."""

    id: int
    reason: str


@dataclass(frozen=True)
class Anchor:
    """A head of the chain seen at some time and kept outside the database."""

    last_id: int
    row_hash: bytes


class ChainWalk:
    """Feed rows in id order; the first broken link is kept, and the head reached so far."""

    def __init__(self) -> None:
        self.head = GENESIS
        self.last_id: int | None = None
        self.rows = 0
        self.broken: BrokenLink | None = None

    def feed(self, row: ChainRow) -> None:
        if self.broken is not None:
            return
        if row.prev_hash != self.head:
            self.broken = BrokenLink(row.id, "does not follow the row before it (a row was deleted or reordered)"
                                     if self.last_id is not None else "does not start from the genesis hash")
        elif chained_hash(row.prev_hash, row.canonical) != row.row_hash:
            self.broken = BrokenLink(row.id, "its content does not match its hash (the row was altered)")
        else:
            self.head, self.last_id = row.row_hash, row.id
            self.rows += 1


def anchor_problem(anchor: Anchor, hash_at_id: bytes | None) -> str | None:
    """Why a chain whose row ``anchor.last_id`` has ``hash_at_id`` (None: no such row) contradicts the anchor."""
    if hash_at_id is None:
        return f"row {anchor.last_id}, anchored as the head once, is gone (the trail was cut)"
    if hash_at_id != anchor.row_hash:
        return f"row {anchor.last_id} no longer has the hash it was anchored with (the trail was rewritten)"
    return None
