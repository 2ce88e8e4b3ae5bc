"""The retention actor: runs the retention pass (services/purge_pass.py) on a schedule and on demand, one at a
time, then the orphan sweep and the audit chain's anchor of the day; watches that passes complete and that
storage stays under its watermarks.

It records every pass and raises ``retention_stalled`` when no pass has
completed within twice the interval — retention never stops silently. Past the
critical watermark it runs a pass at once to free the store (or pause).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Coroutine
from datetime import UTC, datetime, timedelta
from typing import Any

from actors.metrics import RetentionMetrics
from actors.platform_actor import PlatformActor
from domain.evidence import evidence_key
from domain.lpr.pseudonym import KEY_PURPOSE as PSEUDONYM_KEY_PURPOSE
from domain.purge_rules import is_stalled
from domain.settings import Settings
from domain.watermarks import Level, Watermarks
from services.audit_anchoring import anchor_today
from services.orphan_sweep import orphan_sweep
from services.platform_alerts import alert_every_city
from services.purge_pass import retention_pass
from services.purging import PURGE_BATCH
from services.storage_relief import WATERMARK_PAUSE
from services.storage_usage import storage_usage
from storage import city_storage, purges
from storage.log_context import log_context

log = logging.getLogger(__name__)

_MEASURE_STORAGE_EVERY_S = 60.0
_WATERMARK_VALUE = {Level.OK: 0, Level.WARNING: 1, Level.CRITICAL: 2}


class RetentionActor(PlatformActor):
    """One pass (then the orphan sweep) every ``retention_interval_s`` and on demand; one at a time."""

    pool_size = 3
    works_without_bus = True  # alerts need the bus; purging does not

    def __init__(self, settings: Settings, batch: int = PURGE_BATCH) -> None:
        super().__init__(settings)
        self._batch = batch
        self._interval = timedelta(seconds=settings.retention_interval_s)
        self._one_at_a_time = asyncio.Lock()
        self._stalled_alerted = False
        self._watermarks = Watermarks(settings.storage_warning_ratio, settings.storage_critical_ratio)
        self._levels: dict[str, Level] = {}
        self._metrics = RetentionMetrics()
        self._measured_storage_at = -_MEASURE_STORAGE_EVERY_S

    async def _prepare(self) -> None:
        """Close the books on passes a crash interrupted (the next pass finishes their work)."""
        interrupted = await purges.mark_interrupted(self.pool)
        if interrupted:
            log.warning("retention: %d interrupted passes; this start finishes their work", interrupted)

    def _background(self) -> list[Coroutine[Any, Any, None]]:
        # The watchdog is apart from the schedule: a pass that hangs must still be noticed.
        return [self._schedule(), self._watch(), self._measure_forever(self._metrics)]

    async def run_now(self, trigger: str = "manual", free_bytes: int = 0, request_id: str | None = None,
                      capacity_bytes: int | None = None) -> dict[str, Any]:
        """Run a pass now (waiting for one in progress first); returns its result. Lines logged meanwhile carry
        the request id of the API call that asked for it. ``capacity_bytes``: the store's, for the cities' fair
        shares when it must be relieved."""
        with log_context(request_id=request_id):
            return await self._run_now(trigger, free_bytes, capacity_bytes)

    async def _run_now(self, trigger: str, free_bytes: int, capacity_bytes: int | None) -> dict[str, Any]:
        await self.start()
        async with self._one_at_a_time:
            try:
                result = await retention_pass(self.pool, self.store, trigger=trigger, batch=self._batch,
                                              storage_full_policy=self.settings.storage_full_policy,
                                              free_bytes=free_bytes, capacity_bytes=capacity_bytes,
                                              evidence_key=evidence_key(self.settings),
                                              pseudonym_key=self.settings.key(PSEUDONYM_KEY_PURPOSE))
            except Exception:
                self._metrics.pass_finished("failed")
                raise
            self._metrics.pass_finished("done", result.chunks, result.bytes)
            try:
                sweep = await orphan_sweep(self.pool, self.store, now=datetime.now(UTC),
                                           policy=self.settings.orphan_policy)
            except Exception as exc:  # the sweep is housekeeping; the purge above is done either way
                log.warning("orphan sweep failed: %s", exc)
                sweep = None
            try:  # once a UTC day the chain's head goes to the object store (docs/audit.md); later passes find it
                anchor = (await anchor_today(self.pool, self.store, datetime.now(UTC))).to_json()
            except Exception as exc:  # the next pass writes it; verify reports a missing day as no anchor
                log.warning("audit anchor not written: %s", exc)
                anchor = None
        self._stalled_alerted = False
        return {**result.__dict__, "orphan_sweep": sweep.__dict__ if sweep else None, "audit_anchor": anchor}

    async def health(self) -> dict[str, Any]:
        await self.start()
        finished, running = await purges.last_finished(self.pool)
        stalled = is_stalled(finished, running, datetime.now(UTC), self._interval)
        return {"last_pass_finished_at": finished, "running_since": running, "stalled": stalled,
                "interval_s": self._interval.total_seconds()}

    async def _schedule(self) -> None:
        while True:
            try:
                await self.run_now("schedule")
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("retention pass failed; the next one retries")
            await asyncio.sleep(self._interval.total_seconds())

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(min(60.0, self._interval.total_seconds() / 4))
            try:
                await self._alert_if_stalled()
                await self.check_storage()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("retention health unknown: %s", exc)

    async def _measure(self) -> None:
        """Retention's health, and the storage per city (a scan of the index: once a minute)."""
        state = await self.health()
        finished = state["last_pass_finished_at"]
        self._metrics.health(state["stalled"], finished.timestamp() if finished else None)
        if time.monotonic() - self._measured_storage_at < _MEASURE_STORAGE_EVERY_S:
            return
        usage = await self.storage_usage()
        store = usage.get("object_store")
        level = self._watermarks.level(*store) if store else Level.OK
        self._metrics.storage(await city_storage.every_city(self.pool), usage, _WATERMARK_VALUE[level])
        self._measured_storage_at = time.monotonic()

    async def storage_usage(self) -> dict[str, tuple[int, int]]:
        return await storage_usage(self.settings, self.pool)

    async def check_storage(self) -> dict[str, str]:
        """Alert on a watermark change; past the critical one, free the object store (or pause) at once."""
        await self.start()
        usage = await self.storage_usage()
        levels = {name: self._watermarks.level(*used_total) for name, used_total in usage.items()}
        for name, level in levels.items():
            if level != self._levels.get(name, Level.OK) and level != Level.OK:
                used, total = usage[name]
                await self._alert_all(f"storage_{level.value}", "critical" if level == Level.CRITICAL else "warning",
                                      f"the {name.replace('_', ' ')} is {used / total:.0%} full")
        self._levels = levels
        store = usage.get("object_store")
        if levels.get("object_store") == Level.CRITICAL and store is not None:
            await self.run_now("watermark", free_bytes=self._watermarks.bytes_to_free(*store), capacity_bytes=store[1])
        elif levels.get("object_store", Level.OK) == Level.OK:
            await purges.resume_paused(self.pool, WATERMARK_PAUSE)
        return {name: level.value for name, level in levels.items()}

    async def _alert_if_stalled(self) -> None:
        state = await self.health()
        if not state["stalled"] or self._stalled_alerted:
            return
        self._stalled_alerted = True
        await self._alert_all("retention_stalled", "critical",
                              "footage retention has not completed a pass within twice its interval")

    async def _alert_all(self, kind: str, severity: str, message: str) -> None:
        if self.bus is None:
            log.warning("alert %s not published (no bus): %s", kind, message)
            return
        await alert_every_city(self.pool, self.bus, kind, severity, message)
        self._metrics.sent("platform")
