"""Per-camera health metrics as Ray metrics (Ray dashboard, Prometheus scrape).

Only used inside Ray actors; plain-Python supervisors (tests) take no metrics sink.
"""

from __future__ import annotations

from ray.util.metrics import Gauge

from domain.camera_state import CameraState, CameraStatus

_TAGS = ("camera_id", "tenant_id")


class CameraMetrics:
    """Gauges tagged by camera and tenant, refreshed by each supervisor's monitor."""

    def __init__(self) -> None:
        def gauge(name: str, description: str) -> Gauge:
            return Gauge(f"gtvision_camera_{name}", description=description, tag_keys=_TAGS)

        self._gauges = {
            "fps": gauge("fps", "video frames per second received"),
            "bitrate_bps": gauge("bitrate_bps", "video bits per second received"),
            "last_packet_age_s": gauge("last_packet_age_seconds", "seconds since the last packet"),
            "keyframe_interval_s": gauge("keyframe_interval_seconds", "media seconds between keyframes"),
            "recording_lag_s": gauge("recording_lag_seconds", "wall clock minus the newest indexed instant"),
            "reconnects": gauge("reconnects", "reconnects since the supervisor started"),
            "dropped_packets": gauge("dropped_packets", "packets dropped as corrupt or out of order"),
            "spooled_bytes": gauge("spooled_bytes", "bytes recorded but not yet stored and indexed"),
            "streaming": gauge("streaming", "1 while the camera is streaming"),
        }

    def record(self, tenant_id: str, status: CameraStatus) -> None:
        tags = {"camera_id": status.camera_id, "tenant_id": tenant_id}
        values = {
            "fps": status.fps, "bitrate_bps": status.bitrate_bps, "last_packet_age_s": status.last_packet_age_s,
            "reconnects": status.reconnects, "streaming": 1.0 if status.state == CameraState.STREAMING else 0.0,
            **{k: status.extra.get(k) for k in
               ("keyframe_interval_s", "recording_lag_s", "dropped_packets", "spooled_bytes")},
        }
        for name, value in values.items():
            if value is not None:
                self._gauges[name].set(float(value), tags=tags)
