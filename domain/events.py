"""Events published on the bus: stream names and payload shapes.

Each tenant has one event stream, so a tenant-scoped subscriber (the alerts
WebSocket) reads exactly its own city's events and nothing else.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from domain.camera_state import CameraStatus, ErrorReason


def tenant_stream(tenant_id: UUID) -> str:
    return f"tenant.{tenant_id}.events"


ALERT_REASONS = frozenset({ErrorReason.STORAGE_FULL, ErrorReason.STORAGE_UNAVAILABLE})


def alert_event(tenant_id: UUID, status: CameraStatus) -> dict[str, Any] | None:
    """An operator alert for transitions that need a person (recording stopped for lack of storage)."""
    if status.reason not in ALERT_REASONS:
        return None
    return {
        "type": "alert", "kind": status.reason.value if status.reason else None, "severity": "critical",
        "tenant_id": str(tenant_id), "camera_id": status.camera_id,
        "message": f"camera {status.camera_id} is not recording: {status.detail or status.reason}",
        "at": status.since.isoformat(timespec="milliseconds"),
    }


def camera_status_event(tenant_id: UUID, status: CameraStatus) -> dict[str, Any]:
    return {
        "type": "camera.status", "tenant_id": str(tenant_id), "camera_id": status.camera_id,
        "state": status.state.value, "reason": status.reason.value if status.reason else None,
        "detail": status.detail, "at": status.since.isoformat(timespec="milliseconds"),
    }
