"""The actors' metrics, through Ray: each node's metrics agent serves them, and the API's /metrics merges them
(serve/ray_series.py) — per-camera health, the Fleet, the LPR writer, retention and storage, clip exports.

Only used inside Ray actors; plain-Python supervisors (tests) take no metrics sink.
"""

from __future__ import annotations

from ray.util.metrics import Counter, Gauge, Histogram

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


def _zeroing(gauge: Gauge, previous: set[tuple[str, ...]], values: dict[tuple[str, ...], float],
             keys: tuple[str, ...]) -> set[tuple[str, ...]]:
    """Set a labelled gauge to ``values``, and to 0 where a series that was set before is no longer there
    (a Ray gauge keeps its last value otherwise: a city whose last offline camera came back would stay at 1)."""
    for labels in previous - values.keys():
        gauge.set(0.0, tags=dict(zip(keys, labels, strict=True)))
    for labels, value in values.items():
        gauge.set(float(value), tags=dict(zip(keys, labels, strict=True)))
    return set(values)


class FleetMetrics:
    """Cameras per city and state, and the camera hosts: how many cameras each holds and how often it restarted."""

    def __init__(self) -> None:
        self._cameras = Gauge("gtvision_cameras", description="enabled cameras per city, by state",
                              tag_keys=("tenant_id", "state"))
        self._restarts = Counter("gtvision_camera_host_restarts",
                                 description="camera host processes found restarted (crashed) by the Fleet",
                                 tag_keys=("host",))
        self._host_cameras = Gauge("gtvision_camera_host_cameras", description="cameras placed on a camera host",
                                   tag_keys=("host",))
        self._states: set[tuple[str, ...]] = set()
        self._hosts: set[tuple[str, ...]] = set()

    def cameras(self, by_city_and_state: dict[tuple[str, str], int]) -> None:
        values: dict[tuple[str, ...], float] = {key: float(n) for key, n in by_city_and_state.items()}
        self._states = _zeroing(self._cameras, self._states, values, ("tenant_id", "state"))

    def hosts(self, cameras_by_host: dict[str, int]) -> None:
        self._hosts = _zeroing(self._host_cameras, self._hosts, {(h,): n for h, n in cameras_by_host.items()},
                               ("host",))

    def host_restarted(self, host: str) -> None:
        self._restarts.inc(1.0, tags={"host": host})


class AlertMetrics:
    """Alerts published, by kind (lpr, camera, platform), and how long after their cause."""

    def __init__(self) -> None:
        self._sent = Counter("gtvision_alerts_sent", description="alerts published on the cities' event streams",
                             tag_keys=("kind",))
        self._latency = Histogram("gtvision_alert_latency_seconds",
                                  description="from the event that caused an alert to the alert's publication",
                                  boundaries=[0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0], tag_keys=("kind",))

    def sent(self, kind: str, latency_s: float | None = None, count: int = 1) -> None:
        self._sent.inc(float(count), tags={"kind": kind})
        if latency_s is not None:
            self._latency.observe(max(0.0, latency_s), tags={"kind": kind})


class LprWriterMetrics:
    """The LPR writer: reads written, what waits (backlog, age of the oldest), what it could not store."""

    def __init__(self) -> None:
        self._written = Counter("gtvision_lpr_reads_written", description="plate reads stored by the LPR writer")
        self._backlog = Gauge("gtvision_lpr_backlog", description="plate reads waiting for the LPR writer")
        self._lag = Gauge("gtvision_lpr_writer_lag_seconds",
                          description="age of the oldest read the writer took in its last batch (0 when idle)")
        self._dead = Gauge("gtvision_lpr_dead_letters", description="plate reads the writer could not store")

    def written(self, count: int, oldest_age_s: float) -> None:
        if count:
            self._written.inc(float(count))
        self._lag.set(max(0.0, oldest_age_s))

    def waiting(self, backlog: int, dead_letters: int) -> None:
        self._backlog.set(float(backlog))
        if backlog == 0:
            self._lag.set(0.0)
        self._dead.set(float(dead_letters))


class RetentionMetrics:
    """Retention passes and what they purged; storage per city; the watermarks."""

    def __init__(self) -> None:
        self._passes = Counter("gtvision_retention_passes", description="retention passes finished, by outcome",
                               tag_keys=("outcome",))
        self._chunks = Counter("gtvision_retention_purged_chunks", description="recorded chunks purged")
        self._bytes = Counter("gtvision_retention_purged_bytes", description="bytes of recordings purged")
        self._stalled = Gauge("gtvision_retention_stalled",
                              description="1 when no retention pass completed within twice the interval")
        self._last = Gauge("gtvision_retention_last_pass_timestamp_seconds",
                           description="when the last retention pass completed (Unix time)")
        self._stored = Gauge("gtvision_storage_bytes", description="bytes of recordings stored per city",
                             tag_keys=("tenant_id",))
        self._store_ratio = Gauge("gtvision_storage_used_ratio", description="object store bytes used / capacity")
        self._spool_ratio = Gauge("gtvision_spool_used_ratio", description="spool disk bytes used / size")
        self._watermark = Gauge("gtvision_storage_watermark",
                                description="object store watermark: 0 ok, 1 warning, 2 critical")
        self._cities: set[tuple[str, ...]] = set()

    def pass_finished(self, outcome: str, chunks: int = 0, freed_bytes: int = 0) -> None:
        self._passes.inc(1.0, tags={"outcome": outcome})
        if chunks:
            self._chunks.inc(float(chunks))
        if freed_bytes:
            self._bytes.inc(float(freed_bytes))

    def health(self, stalled: bool, last_finished_epoch_s: float | None) -> None:
        self._stalled.set(1.0 if stalled else 0.0)
        if last_finished_epoch_s is not None:
            self._last.set(last_finished_epoch_s)

    def storage(self, bytes_by_city: dict[str, int], usage: dict[str, tuple[int, int]], watermark: int) -> None:
        self._cities = _zeroing(self._stored, self._cities, {(c,): b for c, b in bytes_by_city.items()},
                                ("tenant_id",))
        for name, gauge in (("object_store", self._store_ratio), ("spool", self._spool_ratio)):
            if name in usage and usage[name][1] > 0:
                gauge.set(usage[name][0] / usage[name][1])
        self._watermark.set(float(watermark))


class ClipMetrics:
    """Clip export jobs by state, and how long each export took."""

    def __init__(self) -> None:
        self._jobs = Gauge("gtvision_clip_jobs", description="clip export jobs by state", tag_keys=("state",))
        self._duration = Histogram("gtvision_clip_job_duration_seconds", description="time to export one clip",
                                   boundaries=[1, 2.5, 5, 10, 30, 60, 120, 300, 600], tag_keys=("outcome",))
        self._states: set[tuple[str, ...]] = set()

    def jobs(self, by_state: dict[str, int]) -> None:
        self._states = _zeroing(self._jobs, self._states, {(s,): n for s, n in by_state.items()}, ("state",))

    def exported(self, outcome: str, seconds: float) -> None:
        self._duration.observe(seconds, tags={"outcome": outcome})
