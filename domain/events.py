"""The event catalogue: every event the platform publishes on a city's stream, and the sockets' own messages.

Each city has one event stream, so a city-scoped subscriber (``WS /api/v1/events``)
reads exactly its own city's events. Every event is a JSON object with a
``type``; docs/events.md lists them with their fields. Building each payload
here, and nowhere else, keeps producers and the document in step.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from domain.camera_state import CameraStatus, ErrorReason
from domain.lpr.queued_read import QueuedRead
from domain.lpr.watchlist import WatchEntry

Event = dict[str, Any]

CAMERA_STATUS = "camera.status"
ALERT = "alert"
LPR_ALERT = "lpr.alert"
CLIP = "clip"
CAMERA_OFFLINE = "camera.offline"
CAMERA_ONLINE = "camera.online"
TENANT_HEALTH = "tenant.health"
READY = "ready"  # a socket's first message: from here on, nothing published is missed

# Camera transitions that need a person: recording stopped for lack of storage.
ALERT_REASONS = frozenset({ErrorReason.STORAGE_FULL, ErrorReason.STORAGE_UNAVAILABLE})


def tenant_stream(tenant_id: UUID) -> str:
    return f"tenant.{tenant_id}.events"


def _ms(instant: datetime) -> str:
    return instant.isoformat(timespec="milliseconds")


def camera_status_event(tenant_id: UUID, status: CameraStatus) -> Event:
    """A camera changed health state."""
    return {
        "type": CAMERA_STATUS, "tenant_id": str(tenant_id), "camera_id": status.camera_id,
        "state": status.state.value, "reason": status.reason.value if status.reason else None,
        "detail": status.detail, "at": _ms(status.since),
    }


def camera_alert_event(tenant_id: UUID, status: CameraStatus) -> Event | None:
    """An operator alert for a camera transition that needs a person, else None."""
    if status.reason not in ALERT_REASONS:
        return None
    return {
        "type": ALERT, "kind": status.reason.value if status.reason else None, "severity": "critical",
        "tenant_id": str(tenant_id), "camera_id": status.camera_id,
        "message": f"camera {status.camera_id} is not recording: {status.detail or status.reason}",
        "at": _ms(status.since),
    }


def camera_offline_event(tenant_id: UUID, camera_id: UUID, camera_name: str, since: datetime, reason: str | None,
                         at: datetime) -> Event:
    """A camera has not recorded since ``since`` for longer than its city's ``offline_after_s`` (domain/camera_alerts.py)."""
    return {"type": CAMERA_OFFLINE, "severity": "critical", "tenant_id": str(tenant_id), "camera_id": str(camera_id),
            "camera_name": camera_name, "since": _ms(since), "reason": reason, "at": _ms(at),
            "message": f"camera {camera_name} is not recording since {_ms(since)} ({reason})"}


def camera_online_event(tenant_id: UUID, camera_id: UUID, camera_name: str, since: datetime,
                        offline_since: datetime | None, at: datetime) -> Event:
    """A camera an offline alert was raised for has recorded again for its city's ``online_after_s``."""
    return {"type": CAMERA_ONLINE, "severity": "info", "tenant_id": str(tenant_id), "camera_id": str(camera_id),
            "camera_name": camera_name, "since": _ms(since),
            "offline_since": _ms(offline_since) if offline_since else None, "at": _ms(at),
            "message": f"camera {camera_name} is recording again since {_ms(since)}"}


def tenant_health_event(tenant_id: UUID, counts: dict[str, int], at: datetime) -> Event:
    """The city's cameras by health changed (``online``, ``offline``, ``error``): pushed, at most once a second."""
    return {"type": TENANT_HEALTH, "tenant_id": str(tenant_id), **counts, "at": _ms(at)}


def platform_alert_event(tenant_id: UUID, kind: str, severity: str, message: str, at: datetime) -> Event:
    """A platform-wide condition every city's operators must know (retention stalled, storage watermarks)."""
    return {"type": ALERT, "kind": kind, "severity": severity, "tenant_id": str(tenant_id), "at": _ms(at),
            "message": message}


def lpr_alert_event(read: QueuedRead, entry: WatchEntry) -> Event:
    """A stored plate read matched the city's watchlist."""
    return {"type": LPR_ALERT, "severity": "warning", "tenant_id": str(read.tenant_id), "watchlist_id": str(entry.id),
            "pattern": entry.pattern, "reason": entry.reason, "event_id": str(read.id),
            "camera_id": str(read.camera_id), "plate": read.plate, "captured_at": _ms(read.captured_at),
            "received_at": _ms(read.received_at), "image_keys": list(read.image_keys)}


def clip_event(tenant_id: UUID, clip_id: UUID, camera_id: UUID, state: str, progress: float,
               **extra: Any) -> Event:
    """An export job's progress (``state`` running → done | failed; ``sha256`` when done, ``error`` when failed)."""
    return {"type": CLIP, "clip_id": str(clip_id), "camera_id": str(camera_id), "tenant_id": str(tenant_id),
            "state": state, "progress": progress, **extra}


def ready_message(**about: Any) -> Event:
    """What a socket sends once it is subscribed, so a client knows when delivery can be relied on."""
    return {"type": READY, "at": _ms(datetime.now(UTC)), **about}
