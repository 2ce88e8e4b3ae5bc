"""The transition publisher: each health transition stored in status history, then published.

Transitions are stored first (``camera_status_history`` is what a camera's
uptime and the city's health dashboard are computed from) and published after, as ``camera.status``
(and an ``alert`` for transitions that need a person) on the tenant's event
stream. Neither PostgreSQL nor the bus being down may ever touch recording, so
the queue is bounded and everything that cannot be kept is counted as a lost
event instead: a full queue, a history row still failing after about three
minutes of retries (the queue must keep moving), a publish that failed.
"""

from __future__ import annotations

import asyncio
import logging
from functools import partial
from uuid import UUID

import asyncpg

from domain.camera_health import Transition
from domain.camera_state import CameraStatus
from domain.events import camera_alert_event, camera_status_event, tenant_stream
from services.retry import GaveUp, retrying
from storage import status_history
from storage.bus import EventBus

log = logging.getLogger(__name__)

_QUEUE_LIMIT = 1000
_HISTORY_ATTEMPTS = 21  # the first try and 20 retries, backing off to 10 s: ≈ 3 minutes
_HISTORY_RETRY_CAP_S = 10.0


class TransitionPublisher:
    """Stores and publishes one camera's transitions in order, off the loop's hot paths."""

    def __init__(self, tenant_id: UUID, camera_id: UUID, pool: asyncpg.Pool, bus: EventBus | None) -> None:
        self._tenant_id = tenant_id
        self._camera_id = camera_id
        self._pool = pool
        self._bus = bus
        self._queue: asyncio.Queue[Transition] = asyncio.Queue(maxsize=_QUEUE_LIMIT)
        self.lost_events = 0

    def offer(self, transition: Transition) -> None:
        """Queue a transition (on the loop); counted lost when the queue is full."""
        try:
            self._queue.put_nowait(transition)
        except asyncio.QueueFull:
            self.lost_events += 1

    async def flush(self, within_s: float) -> bool:
        """Wait up to ``within_s`` for every queued transition to be stored and published."""
        try:
            await asyncio.wait_for(self._queue.join(), within_s)
        except TimeoutError:
            return False
        return True

    async def run(self) -> None:
        stream = tenant_stream(self._tenant_id)
        while True:
            transition = await self._queue.get()
            try:
                await self._store(transition)
                if self._bus is not None:
                    await self._publish(self._bus, stream, transition)
            finally:
                self._queue.task_done()

    async def _store(self, transition: Transition) -> None:
        """Retrying while PostgreSQL is down, but not for ever: a lost row beats a stuck queue."""
        try:
            await retrying(partial(status_history.insert, self._pool, self._tenant_id, self._camera_id, transition),
                           what=f"store a status transition of camera {self._camera_id}",
                           attempts=_HISTORY_ATTEMPTS, cap_s=_HISTORY_RETRY_CAP_S, log=log)
        except GaveUp as exc:
            self.lost_events += 1
            log.error("camera %s: status history lost a transition: %s", self._camera_id, exc.__cause__)

    async def _publish(self, bus: EventBus, stream: str, transition: Transition) -> None:
        status = CameraStatus(str(self._camera_id), transition.state, transition.at, transition.reason,
                              transition.detail)
        alert = camera_alert_event(self._tenant_id, status)
        events = [camera_status_event(self._tenant_id, status), *([alert] if alert else [])]
        try:
            for event in events:
                await bus.publish(stream, event)
        except Exception as exc:  # the bus being down must never touch recording
            self.lost_events += 1
            log.warning("camera %s: status event not published: %s", self._camera_id, exc)
