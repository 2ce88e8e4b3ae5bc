"""The audit chain's daily anchors in the object store (domain/audit_anchors.py says why they exist).

Blocking, like the object store itself: async callers run these with ``asyncio.to_thread``.
"""

from __future__ import annotations

from datetime import date

from domain.audit_anchors import ANCHOR_PREFIX, DatedAnchor, anchor_bytes, anchor_key, parse_anchor
from storage.objects import ObjectNotFound, ObjectStore

MAX_ANCHORS = 100_000  # about 270 years of days: a listing longer than this is not ours


def read(store: ObjectStore, day: date) -> DatedAnchor | None:
    """The anchor of ``day``, or None if none was written."""
    try:
        return parse_anchor(store.get(anchor_key(day)))
    except ObjectNotFound:
        return None


def write(store: ObjectStore, dated: DatedAnchor) -> None:
    store.put(anchor_key(dated.day), anchor_bytes(dated), "application/json")


def keys(store: ObjectStore) -> list[str]:
    """The keys of every anchor object, oldest day first (at most MAX_ANCHORS)."""
    found: list[str] = []
    for info in store.list_prefix(ANCHOR_PREFIX):
        found.append(info.key)
        if len(found) >= MAX_ANCHORS:
            break
    return sorted(found)


def read_key(store: ObjectStore, key: str) -> DatedAnchor:
    """The anchor at ``key``; BadAnchor if it does not hold one."""
    return parse_anchor(store.get(key))
