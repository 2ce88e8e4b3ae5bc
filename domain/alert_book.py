"""Every camera's alert rule and last state, by city: what the alert watch keeps between ticks.

The book is rebuilt from PostgreSQL after a restart (each camera's last
transition and last alert), so it holds nothing that cannot be recomputed; its
size is the number of cameras.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from domain.camera_alerts import AlertSettings, CameraAlert, CameraAlertRule
from domain.camera_state import CameraState
from domain.tenant_health import ONLINE

OFFLINE_STATES = frozenset({CameraState.OFFLINE, CameraState.STALLED, CameraState.RECONNECTING})
ERROR_STATES = frozenset({CameraState.ERROR})


@dataclass(frozen=True)
class SeenTransition:
    """A stored transition as the watch reads it (``camera_status_history`` joined with the camera's name)."""

    id: int
    tenant_id: UUID
    camera_id: UUID
    camera_name: str
    at: datetime
    state: CameraState
    reason: str | None


@dataclass
class CameraEntry:
    tenant_id: UUID
    name: str
    state: CameraState
    rule: CameraAlertRule = field(default_factory=CameraAlertRule)


@dataclass(frozen=True)
class RaisedAlert:
    tenant_id: UUID
    camera_id: UUID
    camera_name: str
    alert: CameraAlert


class AlertBook:
    """Feeds transitions to each camera's rule, ticks them all, and counts each city's cameras by health."""

    def __init__(self) -> None:
        self.cameras: dict[UUID, CameraEntry] = {}

    def observe(self, seen: SeenTransition, settings: AlertSettings) -> None:
        entry = self.cameras.get(seen.camera_id)
        if entry is None:
            entry = self.cameras[seen.camera_id] = CameraEntry(seen.tenant_id, seen.camera_name, seen.state)
        entry.name, entry.state = seen.camera_name, seen.state
        entry.rule.observe(seen.state, seen.reason, seen.at, settings)

    def restore_alert(self, camera_id: UUID, offline_since: datetime) -> None:
        """An offline alert raised before a restart and not closed yet (the camera must be in the book)."""
        entry = self.cameras.get(camera_id)
        if entry is not None:
            entry.rule.alerted_since = offline_since

    def tick(self, now: datetime, settings_of: Callable[[UUID], AlertSettings]) -> list[RaisedAlert]:
        raised = []
        for camera_id, entry in self.cameras.items():
            for alert in entry.rule.tick(now, settings_of(entry.tenant_id)):
                raised.append(RaisedAlert(entry.tenant_id, camera_id, entry.name, alert))
        return raised

    def counts(self, tenant_id: UUID) -> dict[str, int]:
        """The city's cameras that ran, as GET /tenants/{id}/health counts them (domain/tenant_health.py)."""
        states = Counter(e.state for e in self.cameras.values() if e.tenant_id == tenant_id)
        return {
            "online": sum(states[s] for s in ONLINE),
            "offline": sum(states[s] for s in OFFLINE_STATES),
            "error": sum(states[s] for s in ERROR_STATES),
        }

    def cities(self) -> set[UUID]:
        return {e.tenant_id for e in self.cameras.values()}
