"""Accepting a plate read: durable before the sender hears 2xx.

Durable means the images are in the object store (under keys derived from the
read's id) and the read is in the intake; the batched writer does the rest.
If either store is down — or the intake is over its backlog limit — a sender
that retries gets 503, and a sender that never retries (Hikvision) has its read
written to this node's LPR spool, resubmitted by a background task of the
replica once the stores answer.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, datetime
from functools import partial
from typing import Any
from uuid import UUID

import asyncpg
from fastapi import HTTPException

from domain.lpr import PlateRead
from domain.queued_read import QueuedRead
from storage import lpr_events
from storage.lpr_intake import LprIntake
from storage.lpr_spool import LprSpool, SpoolFull
from storage.objects import ObjectStore
from storage.ttl_cache import TtlCache

log = logging.getLogger(__name__)

_BACKLOG_TTL_S = 1.0
_DRAIN_EVERY_S = 2.0
_SENDERS_TTL_S = 10.0


class IntakeFull(Exception):
    """The writer is too far behind: more reads would only grow the backlog."""


class LprIngest:
    def __init__(self, intake: LprIntake, store: ObjectStore, spool: LprSpool, *, max_backlog: int,
                 pool: asyncpg.Pool) -> None:
        self.intake = intake
        self._store = store
        self.spool = spool
        self._max_backlog = max_backlog
        self._backlog: tuple[float, int] = (0.0, 0)
        # Senders are looked up on every push; new credentials reach other replicas within the TTL.
        self.camera_by_token: TtlCache[str, dict[str, Any] | None] = TtlCache(
            partial(lpr_events.camera_by_token, pool), ttl_s=_SENDERS_TTL_S)
        self.camera_by_id: TtlCache[UUID, dict[str, Any] | None] = TtlCache(
            partial(lpr_events.camera_by_id, pool), ttl_s=_SENDERS_TTL_S)

    def credentials_changed(self) -> None:
        self.camera_by_token.clear()
        self.camera_by_id.clear()

    async def accept(self, read: PlateRead, camera: dict[str, Any], sender: str, *,
                     never_retries: bool = False) -> QueuedRead:
        """The read, durable (or spooled for a sender that never retries); 503 when neither is possible."""
        queued = QueuedRead.of(read, tenant_id=camera["tenant_id"], camera_id=camera["id"], sender=sender,
                               received_at=datetime.now(UTC))
        images = list(read.images)
        try:
            await self._check_backlog()
            await self.make_durable(queued, images)
        except Exception as exc:  # a store is down or the writer is behind
            if not never_retries:
                log.warning("LPR read refused with 503: %s", exc)
                raise HTTPException(503, "the event could not be stored right now; retry",
                                    headers={"Retry-After": "5"}) from None
            try:
                await asyncio.to_thread(self.spool.put, queued, images)
            except (SpoolFull, OSError) as spool_exc:
                log.error("LPR read lost: stores down (%s) and spool refused it (%s)", exc, spool_exc)
                raise HTTPException(503, f"the event could not be stored or spooled: {spool_exc}") from None
            log.warning("LPR read %s spooled on local disk: %s", queued.id, exc)
        return queued

    async def make_durable(self, queued: QueuedRead, images: list[bytes]) -> None:
        await asyncio.gather(*(asyncio.to_thread(self._store.put, key, image, "image/jpeg")
                               for key, image in zip(queued.image_keys, images, strict=True)))
        await self.intake.append(queued)

    async def _check_backlog(self) -> None:
        at, backlog = self._backlog
        if time.monotonic() - at > _BACKLOG_TTL_S:
            backlog = await self.intake.backlog()
            self._backlog = (time.monotonic(), backlog)
        if backlog >= self._max_backlog:
            raise IntakeFull(f"{backlog} reads wait for the writer (limit {self._max_backlog})")

    async def drain_spool_forever(self) -> None:
        """Resubmit spooled reads every few seconds while the replica lives (cancelled with it)."""
        while True:
            await asyncio.sleep(_DRAIN_EVERY_S)
            if not self.spool.pending():
                continue
            try:
                resubmitted = await self.spool.drain(self.make_durable)
                log.info("LPR spool: %d reads resubmitted", resubmitted)
            except Exception as exc:  # still down: the files stay for the next round
                log.warning("LPR spool not drained yet: %s", exc)
