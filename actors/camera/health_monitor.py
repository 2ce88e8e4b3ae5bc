"""The health monitor: the one way into a camera's health machine, and the clock that ticks it.

The machine (domain/camera_health.py) is pure and not thread-safe, yet both the
ingest thread (connected, lost, stalled) and the event loop (ticks, stop,
status) change or read it. So every change goes through ``apply``, under a
lock, and the transition it yields is handed to the loop for the publisher.

Ticks every 0.5 s catch what no ingest call reports: a stream gone silent
(stalled) and an outage that has become long enough to be offline. Metrics
are refreshed every tenth tick (5 s), and a failing export never stops the ticks.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

from actors.camera.handoff import LoopHandoff
from domain.camera_health import HealthMachine, HealthPolicy, Transition
from domain.camera_state import ErrorReason
from media.ingest_stats import IngestStats

log = logging.getLogger(__name__)

_TICK_S = 0.5
_METRICS_EVERY_TICKS = 10  # metrics every 5 s; stalls are checked every tick

HealthChange = Callable[[HealthMachine, datetime], Transition | None]
"""One fact applied to the machine at an instant, e.g. ``HealthMachine.streaming`` or ``lost(...)``."""


def lost(reason: ErrorReason, detail: str | None) -> HealthChange:
    return lambda machine, now: machine.lost(reason, detail, now)


def stalled(detail: str) -> HealthChange:
    return lambda machine, now: machine.stalled(detail, now)


def storage_full(detail: str) -> HealthChange:
    return lambda machine, now: machine.storage_failed(ErrorReason.STORAGE_FULL, detail, now)


def _ticked(last_packet_age_s: float | None) -> HealthChange:
    return lambda machine, now: machine.tick(now, last_packet_age_s=last_packet_age_s)


class HealthMonitor:
    """Owns one camera's health machine: thread-safe changes, periodic ticks and metrics."""

    def __init__(self, policy: HealthPolicy, stats: IngestStats, handoff: LoopHandoff, *,
                 publish: Callable[[Transition], None], refresh_metrics: Callable[[], None] | None = None) -> None:
        self._machine = HealthMachine(policy, datetime.now(UTC))
        self._lock = threading.Lock()
        self._stats = stats
        self._handoff = handoff
        self._publish = publish
        self._refresh_metrics = refresh_metrics

    @property
    def machine(self) -> HealthMachine:
        """The machine, to read its state; change it only through ``apply``."""
        return self._machine

    def apply(self, change: HealthChange) -> None:
        """Apply a health change (from any thread) and hand its transition to the publisher on the loop."""
        with self._lock:
            transition = change(self._machine, datetime.now(UTC))
        if transition is not None:
            self._handoff(self._publish, transition)

    def retry_delay(self, attempt: int) -> float:
        """Seconds before reconnect ``attempt`` of the current outage (from any thread)."""
        with self._lock:
            return self._machine.retry_delay(attempt, datetime.now(UTC))

    async def run(self) -> None:
        for tick in itertools.count(1):
            await asyncio.sleep(_TICK_S)
            last = self._stats.last_packet_at
            age = time.monotonic() - last if last is not None else None
            self.apply(_ticked(age))
            if self._refresh_metrics is not None and tick % _METRICS_EVERY_TICKS == 0:
                try:
                    self._refresh_metrics()
                except Exception as exc:  # metrics must never stop the monitor
                    log.debug("metrics export failed: %s", exc)
