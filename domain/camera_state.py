"""Camera health states, error reasons, and the status a supervisor reports.

The rules that move between states live in domain/camera_health.py.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class CameraState(StrEnum):
    STARTING = "starting"
    CONNECTING = "connecting"
    STREAMING = "streaming"
    STALLED = "stalled"
    RECONNECTING = "reconnecting"
    OFFLINE = "offline"
    ERROR = "error"
    DISABLED = "disabled"
    STOPPED = "stopped"


class ErrorReason(StrEnum):
    UNREACHABLE = "unreachable"
    UNAUTHORIZED = "unauthorized"
    NOT_FOUND = "not_found"
    TIMEOUT = "timeout"
    UNSUPPORTED_CODEC = "unsupported_codec"
    BAD_STREAM = "bad_stream"
    STORAGE_UNAVAILABLE = "storage_unavailable"
    STORAGE_FULL = "storage_full"
    DISCONNECTED = "disconnected"


@dataclass
class CameraStatus:
    """A snapshot of one camera's health, as the status endpoint shows it."""

    camera_id: str
    state: CameraState
    since: datetime
    reason: ErrorReason | None = None
    detail: str | None = None
    last_packet_age_s: float | None = None
    fps: float | None = None
    bitrate_bps: float | None = None
    codec: str | None = None
    width: int | None = None
    height: int | None = None
    chunks_recorded: int = 0
    reconnects: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["since"] = self.since.isoformat(timespec="milliseconds")
        return data
