"""The shape every platform actor shares: start once, open what it needs from Settings, stop in order.

Ray restarts a crashed platform actor empty; it starts itself then (and the
Fleet pokes the services' ``start()`` on every pass), so ``start()`` must be
idempotent; ``stop()`` cancels the actor's background tasks before closing what
they use, and never waits without bound for a connection still held by a query
in flight.
"""

from __future__ import annotations

import asyncio
import logging
import warnings
from collections.abc import Coroutine
from typing import Any

import asyncpg
import ray

from actors.metrics import FLUSH_EVERY_S, KeptSeries
from domain.settings import Settings
from storage.bus import EventBus, open_bus
from storage.db import create_pool
from storage.json_logs import log_json_to_stderr
from storage.objects import ObjectStore, open_object_store_for

log = logging.getLogger(__name__)

_CLOSE_POOL_S = 30.0


class NotStarted(RuntimeError):
    """The actor was used before ``start()`` opened its resources."""


class PlatformActor:
    """Subclasses say what they need (``pool_size``, ``uses_store``, ``uses_bus``, and whether they can work
    without the bus), prepare in ``_prepare``, and name their background work in ``_background``."""

    pool_size = 2
    uses_store = True
    uses_bus = True
    works_without_bus = False  # True: its events are informative, its own work goes on without them

    def __init__(self, settings: Settings) -> None:
        in_actor = ray.is_initialized() and bool(ray.get_runtime_context().get_actor_id())  # not a test's process
        if in_actor:
            log_json_to_stderr()  # JSON lines into Ray's log file for this worker (docs/logging.md)
        self.settings = settings
        self._starting = asyncio.Lock()
        self._started = False
        self._tasks: list[asyncio.Task[None]] = []
        self._pool: asyncpg.Pool | None = None
        self._store: ObjectStore | None = None
        self._bus: EventBus | None = None
        self._restarting: asyncio.Task[None] | None = None
        self.restarted = in_actor and _restarted_by_ray()  # Ray's restart of a process that died
        if self.restarted:
            # Nobody may call start() now (the Fleet pokes the services, but the Fleet itself has no one above it),
            # so start at once; Ray runs an async actor's __init__ on the actor's event loop.
            self._restarting = asyncio.get_running_loop().create_task(self._start_after_restart())

    @property
    def pool(self) -> asyncpg.Pool:
        if self._pool is None:
            raise NotStarted(f"{type(self).__name__} is not started")
        return self._pool

    @property
    def store(self) -> ObjectStore:
        if self._store is None:
            raise NotStarted(f"{type(self).__name__} has no object store")
        return self._store

    @property
    def bus(self) -> EventBus | None:
        return self._bus

    async def start(self) -> None:
        """Open resources, prepare, start the background work — once; later calls are no-ops."""
        async with self._starting:
            if self._started:
                return
            s = self.settings
            self._pool = await create_pool(s.database_url, min_size=1, max_size=self.pool_size)
            if self.uses_store:
                self._store = await asyncio.to_thread(open_object_store_for, s)
            if self.uses_bus:
                try:
                    self._bus = open_bus(s.bus_url, namespace=s.namespace)
                except Exception as exc:
                    if not self.works_without_bus:
                        raise
                    log.error("%s: event bus unavailable, its events will not go out: %s", type(self).__name__, exc)
            await self._prepare()
            self._tasks = [asyncio.create_task(work, name=f"{type(self).__name__}.{getattr(work, '__name__', 'work')}")
                           for work in self._background()]
            self._started = True

    async def _start_after_restart(self) -> None:
        try:
            await self.start()
        except Exception:  # PostgreSQL away, say: the next caller's start() tries again
            log.exception("%s: start after a restart failed", type(self).__name__)

    async def _prepare(self) -> None:
        """What to do once resources are open and before the background work starts."""

    def _background(self) -> list[Coroutine[Any, Any, None]]:
        """The actor's long-running work, cancelled by ``stop()``."""
        return []

    async def _measure(self) -> None:
        """Refresh the actor's metrics from what it owns (subclasses with metrics override it)."""

    async def _measure_forever(self, series: KeptSeries) -> None:
        """Measure, then send every kept series to Ray, every few seconds (actors/metrics.py says why)."""
        while True:
            try:
                await self._measure()
            except Exception as exc:  # PostgreSQL or a peer away: the next round measures again
                log.info("%s metrics not refreshed: %s", type(self).__name__, exc)
            series.flush()
            await asyncio.sleep(FLUSH_EVERY_S)

    async def _close(self) -> None:
        """Close what the subclass opened itself (after the background work stopped, before the pool)."""

    async def stop(self) -> None:
        """Cancel the background work, then close the subclass's resources, the bus and the pool."""
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._close()
        if self._bus is not None:
            await self._bus.close()
        if self._pool is not None:
            try:
                await asyncio.wait_for(self._pool.close(), _CLOSE_POOL_S)
            except TimeoutError:  # a connection still checked out by a call in flight
                self._pool.terminate()
        self._started, self._tasks = False, []
        self._pool = self._store = self._bus = None  # a later start() opens them again


def _restarted_by_ray() -> bool:
    """Whether this actor process is Ray's restart of one that died (its own check warns of a deprecated call)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return bool(ray.get_runtime_context().was_current_actor_reconstructed)
