"""Accepting a plate read: the sender checked, the read durable before the sender hears 2xx.

A sender is a camera with issued LPR credentials (a URL token for vendor pushes,
an HMAC secret for our generic JSON), pushing from an allowed address. Durable
means the images are in the object store (under keys derived from the read's id)
and the read is in the intake; the batched writer does the rest. If either store
is down — or the intake is over its backlog limit — a sender that retries is
refused with ``Unavailable``, and a sender that never retries (Hikvision) has
its read written to this node's LPR spool, resubmitted by ``drain_spool_forever``
once the stores answer.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from uuid import UUID

import asyncpg

from domain.lpr.push_token import MAX_TOKEN, token_hash
from domain.lpr.queued_read import QueuedRead
from domain.lpr.reads import PlateRead
from domain.lpr.senders import LprSender, source_allowed
from domain.lpr.signature import verify_signature
from domain.lpr.vendors import parse_generic
from domain.sealing import Sealer, Unsealable, lpr_secret_context
from services.refusals import Conflict, NotAllowed, NotAuthenticated, Unavailable
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


class LprAccept:
    def __init__(self, intake: LprIntake, store: ObjectStore, spool: LprSpool, *, max_backlog: int,
                 pool: asyncpg.Pool, on_spooled: Callable[[str], None] = lambda kind: None) -> None:
        self.intake = intake
        self._on_spooled = on_spooled  # a metric: reads kept on local disk, by sender kind
        self._store = store
        self._pool = pool
        self.spool = spool
        self._max_backlog = max_backlog
        self._backlog: tuple[float, int] = (0.0, 0)
        # Senders are looked up on every push; new credentials reach other replicas within the TTL.
        # Keyed by the token's hash, as PostgreSQL is: the cache holds no usable token either.
        self._by_token: TtlCache[bytes, LprSender | None] = TtlCache(
            partial(lpr_events.camera_by_token_hash, pool), ttl_s=_SENDERS_TTL_S)
        self._by_id: TtlCache[UUID, LprSender | None] = TtlCache(
            partial(lpr_events.camera_by_id, pool), ttl_s=_SENDERS_TTL_S)

    def credentials_changed(self) -> None:
        self._by_token.clear()
        self._by_id.clear()

    # --- who is pushing ------------------------------------------------------------------

    async def vendor_sender(self, token: str, address: str | None) -> LprSender:
        """The camera whose URL token this is, pushing from an allowed address."""
        sender = await self._by_token.get(token_hash(token)) if len(token) <= MAX_TOKEN else None
        if sender is None:
            raise NotAuthenticated("unknown camera token")
        return _from_allowed_source(sender, address)

    async def generic_read(self, camera_header: str, address: str | None, timestamp: str, signature: str,
                           body: bytes, sealer: Sealer) -> tuple[PlateRead, LprSender]:
        """Our signed JSON: the sender named by ``X-Camera-Id``, its signature and timestamp, then the payload;
        a signature seen before is a replay. The camera's secret is opened for this check only."""
        try:
            camera_id = UUID(camera_header)
        except ValueError:
            raise NotAuthenticated("X-Camera-Id must be a camera id") from None
        sender = await self._by_id.get(camera_id)
        if sender is None or sender.lpr_secret_sealed is None:
            raise NotAuthenticated("unknown camera, or no LPR credentials issued for it")
        _from_allowed_source(sender, address)
        verify_signature(_opened_secret(sender, sealer), timestamp, body, signature, time.time())
        read = parse_generic(body, now=datetime.now(UTC))
        if await lpr_events.seen_signature(self._pool, signature.lower()):
            raise Conflict("replayed signature: this delivery was already received")
        return read, sender

    # --- making it durable -----------------------------------------------------------------

    async def accept(self, read: PlateRead, sender: LprSender, kind: str, *,
                     never_retries: bool = False) -> QueuedRead:
        """The read, durable (or spooled for a sender that never retries); Unavailable when neither is possible."""
        queued = QueuedRead.of(read, tenant_id=sender.tenant_id, camera_id=sender.id, sender=kind,
                               received_at=datetime.now(UTC))
        images = list(read.images)
        try:
            await self._check_backlog()
            await self.make_durable(queued, images)
        except Exception as exc:  # a store is down or the writer is behind
            if not never_retries:
                log.warning("LPR read refused with 503: %s", exc)
                raise Unavailable("the event could not be stored right now; retry") from None
            try:
                await asyncio.to_thread(self.spool.put, queued, images)
            except (SpoolFull, OSError) as spool_exc:
                log.error("LPR read lost: stores down (%s) and spool refused it (%s)", exc, spool_exc)
                raise Unavailable(f"the event could not be stored or spooled: {spool_exc}") from None
            log.warning("LPR read %s spooled on local disk: %s", queued.id, exc)
            self._on_spooled(kind)
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


def _opened_secret(sender: LprSender, sealer: Sealer) -> bytes:
    assert sender.lpr_secret_sealed is not None
    try:
        return sealer.open(sender.lpr_secret_sealed, lpr_secret_context(sender.id)).encode()
    except Unsealable as exc:  # a changed master secret, or a tampered row: the sender cannot be verified
        log.error("camera %s: its LPR secret cannot be opened (%s); issue new credentials", sender.id, exc)
        raise NotAuthenticated("this camera's LPR secret cannot be verified; issue new credentials") from None


def _from_allowed_source(sender: LprSender, address: str | None) -> LprSender:
    if not source_allowed(address, sender.lpr_allowed_sources):
        raise NotAllowed(f"pushes from {address} are not allowed for this camera")
    return sender
