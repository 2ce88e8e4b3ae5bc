"""Events published on the bus: stream names and payload shapes.

Each tenant has one event stream, so a tenant-scoped subscriber (the alerts
WebSocket) reads exactly its own city's events and nothing else.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from domain.camera_state import CameraStatus


def tenant_stream(tenant_id: UUID) -> str:
    return f"tenant.{tenant_id}.events"


def camera_status_event(tenant_id: UUID, status: CameraStatus) -> dict[str, Any]:
    return {
        "type": "camera.status", "tenant_id": str(tenant_id), "camera_id": status.camera_id,
        "state": status.state.value, "reason": status.reason.value if status.reason else None,
        "detail": status.detail, "at": status.since.isoformat(timespec="milliseconds"),
    }
