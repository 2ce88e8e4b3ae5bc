"""This replica's admitted live viewers: one lease each in PostgreSQL, renewed together, released on close.

Admission itself is services/viewer_admission.py; this keeps the leases of
the sockets this replica serves alive with one UPDATE every ``RENEW_S`` for
all of them (not one per socket), from a task that runs only while there are
viewers and stops with the last one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from uuid import UUID

import asyncpg

from domain.viewer_admission import RENEW_S
from services import viewer_admission
from storage import live_viewers

log = logging.getLogger(__name__)


class LiveLeases:
    def __init__(self) -> None:
        self._held: set[UUID] = set()
        self._renewing: asyncio.Task[None] | None = None

    @asynccontextmanager
    async def admitted(self, pool: asyncpg.Pool, tenant_id: UUID, camera_id: UUID,
                       user_id: UUID | None) -> AsyncIterator[UUID]:
        """Hold one of the city's live places while the block runs (TooMany past the city's limit)."""
        viewer_id = await viewer_admission.admit(pool, tenant_id, camera_id, user_id)
        self._held.add(viewer_id)
        if self._renewing is None or self._renewing.done():
            self._renewing = asyncio.create_task(self._renew(pool), name="live-leases")
        try:
            yield viewer_id
        finally:
            self._held.discard(viewer_id)
            with contextlib.suppress(Exception):  # not released: the lease lapses by itself
                await asyncio.shield(live_viewers.remove(pool, viewer_id))

    async def _renew(self, pool: asyncpg.Pool) -> None:
        while self._held:
            await asyncio.sleep(RENEW_S)
            try:
                await live_viewers.renew(pool, list(self._held))
            except Exception as exc:  # PostgreSQL away: the sockets stay; the leases lapse if it lasts
                log.warning("live viewer leases not renewed: %s", exc)
