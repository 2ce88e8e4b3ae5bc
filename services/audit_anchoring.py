"""Writing the audit chain's anchor of the day to the object store (domain/audit_anchors.py).

The retention actor calls ``anchor_today`` after each pass; the first call of a UTC day writes the chain's head,
later calls that day find it and change nothing, so passes can run as often as they like. The anchor is part of
that day's purge reports (serve/routes/retention.py).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import asyncpg

from domain.audit_anchors import DatedAnchor
from storage import audit_anchors
from storage.audit_chain import head
from storage.objects import ObjectStore


async def anchor_today(pool: asyncpg.Pool, store: ObjectStore, now: datetime) -> DatedAnchor:
    """The anchor of ``now``'s UTC day: the one already written, or the chain's head written now."""
    day = now.astimezone(UTC).date()
    existing = await asyncio.to_thread(audit_anchors.read, store, day)
    if existing is not None:
        return existing
    dated = DatedAnchor(day, await head(pool), now)
    await asyncio.to_thread(audit_anchors.write, store, dated)
    return dated


async def anchor_of_day(store: ObjectStore, when: datetime) -> DatedAnchor | None:
    """The anchor of ``when``'s UTC day, if one was written."""
    return await asyncio.to_thread(audit_anchors.read, store, when.astimezone(UTC).date())
