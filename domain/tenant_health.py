"""A city's dashboard: its cameras' health rolled up, recording lag, storage and quota use.

Everything comes from PostgreSQL (each camera's last status transition, its
newest indexed chunk), so the roll-up needs no actor state and survives any
restart; see docs/retention.md for why there is no per-city actor.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from domain.camera_state import CameraState

ONLINE = frozenset({CameraState.STREAMING})
TROUBLED = frozenset({CameraState.STALLED, CameraState.RECONNECTING, CameraState.OFFLINE, CameraState.ERROR})
MAX_LISTED = 50


@dataclass(frozen=True)
class CameraHealth:
    camera_id: UUID
    name: str
    enabled: bool
    state: str | None  # the last transition stored; None if it never ran
    reason: str | None
    since: datetime | None
    newest_recording_end: datetime | None


def rollup(cameras: list[CameraHealth], now: datetime) -> dict[str, Any]:
    """Counts by state (disabled and never-started cameras included), the troubled cameras, recording lag."""
    def state_of(camera: CameraHealth) -> str:
        if not camera.enabled:
            return CameraState.DISABLED.value
        return camera.state or CameraState.STARTING.value

    by_state = Counter(state_of(c) for c in cameras)
    lags = sorted((now - c.newest_recording_end).total_seconds() for c in cameras
                  if c.enabled and c.state in ONLINE and c.newest_recording_end is not None)
    troubled = sorted((c for c in cameras if c.enabled and state_of(c) in TROUBLED),
                      key=lambda c: c.since or now)
    return {
        "cameras": len(cameras),
        "online": sum(by_state[s] for s in ONLINE),
        "offline": by_state[CameraState.OFFLINE.value] + by_state[CameraState.STALLED.value]
        + by_state[CameraState.RECONNECTING.value],
        "error": by_state[CameraState.ERROR.value],
        "disabled": by_state[CameraState.DISABLED.value],
        "by_state": dict(sorted(by_state.items())),
        "recording_lag_s": {"max": round(lags[-1], 3), "p50": round(lags[len(lags) // 2], 3)} if lags else None,
        "troubled": [{"camera_id": c.camera_id, "name": c.name, "state": c.state, "reason": c.reason,
                      "since": c.since} for c in troubled[:MAX_LISTED]],
    }
