"""The alert watch: reads every camera's stored transitions, raises offline/online alerts, pushes city health.

It runs in the Fleet (actors/fleet.py), the one component that looks after
every camera of every city, on a one-second tick. It reads
``camera_status_history`` rather than listening to the supervisors, so that a
restarted Fleet rebuilds exactly where it was: each camera's last transition
and last alert are in PostgreSQL (``rebuild``). Each raised alert is stored in
``camera_alerts`` and then published on the city's stream
(``camera.offline`` / ``camera.online``, docs/events.md); each city whose
counts changed gets a ``tenant.health`` event, at most once a second.

Bounded everywhere: a tick reads at most ``_BATCHES × _BATCH`` transitions (the
rest wait for the next tick), the ids remembered against double reading are a
fixed window, and the book holds one entry per camera.
"""

from __future__ import annotations

import logging
from collections import deque
from datetime import UTC, datetime
from uuid import UUID

import asyncpg

from domain.alert_book import AlertBook, RaisedAlert
from domain.camera_alerts import AlertKind, AlertSettings
from domain.events import camera_offline_event, camera_online_event, tenant_health_event, tenant_stream
from domain.health_push import HealthDebounce
from storage import camera_alerts
from storage.bus import EventBus

log = logging.getLogger(__name__)

TICK_S = 1.0
_BATCH = 1000
_BATCHES = 10
# Ids are taken when a row is inserted but seen when it commits, so a row may appear below the newest id read:
# every read looks this many ids back, and the ids already seen in that window are skipped.
_LOOK_BACK = 256
_REMEMBERED = 4 * _LOOK_BACK
_SETTINGS_EVERY_S = 5.0


class AlertWatch:
    """The book of every camera's alert rule, where reading the history stopped, and the health debounce."""

    def __init__(self) -> None:
        self._reset()

    def _reset(self) -> None:
        self.book = AlertBook()
        self.health = HealthDebounce(min_interval_s=1.0)
        self._after = 0
        self._seen: deque[int] = deque(maxlen=_REMEMBERED)
        self._seen_set: set[int] = set()
        self._settings: dict[UUID, AlertSettings] = {}
        self._settings_at: datetime | None = None
        self.lost_events = 0

    def settings_of(self, tenant_id: UUID) -> AlertSettings:
        return self._settings.get(tenant_id) or AlertSettings()

    async def rebuild(self, pool: asyncpg.Pool) -> None:
        """Start from PostgreSQL: each live camera's last transition and whether an offline alert is open."""
        self._reset()  # a rebuild forgets everything, as a restart would
        await self._refresh_settings(pool, datetime.now(UTC))
        self._after = await camera_alerts.newest_transition_id(pool)
        for seen in await camera_alerts.transitions_after(pool, max(0, self._after - _LOOK_BACK), limit=_LOOK_BACK):
            self._remember(seen.id)  # already summed up by each camera's last transition below
        for seen in await camera_alerts.last_transitions(pool, self._after):
            self.book.observe(seen, self.settings_of(seen.tenant_id))
        for camera_id, since in (await camera_alerts.open_offline_alerts(pool)).items():
            self.book.restore_alert(camera_id, since)
        for tenant_id in self.book.cities():
            self.health.seen(tenant_id, self.book.counts(tenant_id))

    async def tick(self, pool: asyncpg.Pool, bus: EventBus | None, now: datetime | None = None) -> list[RaisedAlert]:
        """Read new transitions, raise what is due, push changed city health; the alerts raised."""
        now = now or datetime.now(UTC)
        if self._settings_at is None or (now - self._settings_at).total_seconds() >= _SETTINGS_EVERY_S:
            await self._refresh_settings(pool, now)
        touched: set[UUID] = set()
        for _ in range(_BATCHES):
            batch = await camera_alerts.transitions_after(pool, max(0, self._after - _LOOK_BACK), limit=_BATCH)
            fresh = [t for t in batch if t.id not in self._seen_set]
            for seen in fresh:
                self._remember(seen.id)
                self.book.observe(seen, self.settings_of(seen.tenant_id))
                touched.add(seen.tenant_id)
            if batch:
                self._after = max(self._after, batch[-1].id)
            if len(batch) < _BATCH or not fresh:
                break
        raised = self.book.tick(now, self.settings_of)
        for alert in raised:
            await self._raise(pool, bus, alert)
        for tenant_id in touched:
            self.health.seen(tenant_id, self.book.counts(tenant_id))
        for tenant_id, counts in self.health.due(now):
            await self._publish(bus, tenant_id, tenant_health_event(tenant_id, counts, now))
        return raised

    def _remember(self, transition_id: int) -> None:
        if len(self._seen) == self._seen.maxlen:
            self._seen_set.discard(self._seen[0])
        self._seen.append(transition_id)
        self._seen_set.add(transition_id)

    async def _refresh_settings(self, pool: asyncpg.Pool, now: datetime) -> None:
        self._settings = await camera_alerts.all_settings(pool)
        self._settings_at = now

    async def _raise(self, pool: asyncpg.Pool, bus: EventBus | None, raised: RaisedAlert) -> None:
        """Stored first (what a restart reads), then published."""
        alert = raised.alert
        try:
            await camera_alerts.insert(pool, raised.tenant_id, raised.camera_id, alert)
        except (asyncpg.PostgresError, OSError) as exc:  # still published: the operators must know now
            log.error("camera %s: %s alert not stored: %s", raised.camera_id, alert.kind.value, exc)
        if alert.kind == AlertKind.OFFLINE:
            event = camera_offline_event(raised.tenant_id, raised.camera_id, raised.camera_name, alert.since,
                                         alert.reason, alert.at)
        else:
            event = camera_online_event(raised.tenant_id, raised.camera_id, raised.camera_name, alert.since,
                                        alert.offline_since, alert.at)
        log.warning("camera %s (%s): %s since %s", raised.camera_name, raised.camera_id, alert.kind.value, alert.since)
        await self._publish(bus, raised.tenant_id, event)

    async def _publish(self, bus: EventBus | None, tenant_id: UUID, event: dict[str, object]) -> None:
        if bus is None:
            self.lost_events += 1
            return
        try:
            await bus.publish(tenant_stream(tenant_id), event)
        except Exception as exc:  # the bus away: the alert is stored, the next ones go out when it is back
            self.lost_events += 1
            log.warning("%s for city %s not published: %s", event.get("type"), tenant_id, exc)
