"""The actors' metrics, through Ray: each node's metrics agent serves them, and the API's /metrics merges them
(serve/ray_series.py) — per-camera health, the Fleet, the LPR writer, retention and storage, clip exports.

Only used inside Ray actors; plain-Python supervisors (tests) take no metrics sink.
"""

from __future__ import annotations

from uuid import UUID

from ray.util.metrics import Gauge

from domain.camera_state import CameraState, CameraStatus
from domain.city_storage import CityStorage

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


FLUSH_EVERY_S = 5.0  # well inside the ~20 s after which Ray's agent forgets a series


class KeptSeries:
    """Series an actor keeps itself and re-sends to Ray on every ``flush()`` (every few seconds).

    Ray's metrics agent forgets a series that was not recorded for about 20 s, so a
    counter bumped once an hour, or a gauge measured once a minute, would come and
    go from the scrape. Kept here, every value is sent again on each flush: gauges
    as they are, counters as their running total (a gauge named ``…_total``), and
    histograms as cumulative ``…_bucket{le}``, ``…_sum`` and ``…_count`` gauges; the
    API's scrape gives them back their Prometheus types by those names
    (serve/ray_series.py). A restarted actor starts its totals from 0: a counter
    reset, which Prometheus' ``rate()`` and ``increase()`` expect.
    """

    def __init__(self) -> None:
        self._gauges: dict[str, Gauge] = {}
        self._keys: dict[str, tuple[str, ...]] = {}
        self._values: dict[tuple[str, tuple[str, ...]], float] = {}
        self._bounds: dict[str, tuple[float, ...]] = {}

    def gauge(self, name: str, description: str, labels: tuple[str, ...] = ()) -> None:
        self._define(name, description, labels)

    def counter(self, name: str, description: str, labels: tuple[str, ...] = ()) -> None:
        self._define(f"{name}_total", description, labels)

    def histogram(self, name: str, description: str, bounds: tuple[float, ...], labels: tuple[str, ...] = ()) -> None:
        self._bounds[name] = (*bounds, float("inf"))
        self._define(f"{name}_bucket", description, (*labels, "le"))
        self._define(f"{name}_sum", description, labels)
        self._define(f"{name}_count", description, labels)

    def set(self, name: str, value: float, *labels: str) -> None:
        self._values[(name, labels)] = float(value)

    def set_all(self, name: str, values: dict[tuple[str, ...], float]) -> None:
        """Set a labelled gauge to ``values``; series set before and absent now go to 0 (a city whose last offline
        camera came back shows 0, not its last count)."""
        for key in [k for k in self._values if k[0] == name and k[1] not in values]:
            self._values[key] = 0.0
        for labels, value in values.items():
            self._values[(name, labels)] = float(value)

    def add(self, name: str, amount: float = 1.0, *labels: str) -> None:
        key = (f"{name}_total", labels)
        self._values[key] = self._values.get(key, 0.0) + amount

    def observe(self, name: str, value: float, *labels: str) -> None:
        for bound in self._bounds[name]:
            key = (f"{name}_bucket", (*labels, _le(bound)))
            self._values[key] = self._values.get(key, 0.0) + (1.0 if value <= bound else 0.0)
        for suffix, amount in (("_sum", value), ("_count", 1.0)):
            key = (name + suffix, labels)
            self._values[key] = self._values.get(key, 0.0) + amount

    def flush(self) -> None:
        for (name, labels), value in self._values.items():
            self._gauges[name].set(value, tags=dict(zip(self._keys[name], labels, strict=True)))

    def _define(self, name: str, description: str, labels: tuple[str, ...]) -> None:
        self._gauges[name] = Gauge(name, description=description, tag_keys=labels)
        self._keys[name] = labels


def _le(bound: float) -> str:
    return "+Inf" if bound == float("inf") else repr(float(bound))


class FleetMetrics(KeptSeries):
    """Cameras per city and state, and the camera hosts: how many cameras each holds and how often it restarted."""

    def __init__(self) -> None:
        super().__init__()
        self.gauge("gtvision_cameras", "enabled cameras per city, by state", ("tenant_id", "state"))
        self.counter("gtvision_camera_host_restarts", "camera host processes found restarted (crashed) by the Fleet",
                     ("host",))
        self.gauge("gtvision_camera_host_cameras", "cameras placed on a camera host", ("host",))

    def cameras(self, by_city_and_state: dict[tuple[str, str], int]) -> None:
        self.set_all("gtvision_cameras", {key: float(n) for key, n in by_city_and_state.items()})

    def hosts(self, cameras_by_host: dict[str, int]) -> None:
        self.set_all("gtvision_camera_host_cameras", {(h,): float(n) for h, n in cameras_by_host.items()})
        for host in cameras_by_host:  # every host's restart count shows, 0 until it restarts
            self.add("gtvision_camera_host_restarts", 0.0, host)

    def host_restarted(self, host: str) -> None:
        self.add("gtvision_camera_host_restarts", 1.0, host)


class AlertMetrics(KeptSeries):
    """Alerts published, by kind (lpr, camera, platform), and how long after their cause."""

    def __init__(self) -> None:
        super().__init__()
        self.counter("gtvision_alerts_sent", "alerts published on the cities' event streams", ("kind",))
        self.histogram("gtvision_alert_latency_seconds", "from the event that caused an alert to its publication",
                       (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0), ("kind",))

    def sent(self, kind: str, latency_s: float | None = None) -> None:
        self.add("gtvision_alerts_sent", 1.0, kind)
        if latency_s is not None:
            self.observe("gtvision_alert_latency_seconds", max(0.0, latency_s), kind)


class LprWriterMetrics(AlertMetrics):
    """The LPR writer: reads written, what waits (backlog, age of the oldest), what it could not store; its alerts."""

    def __init__(self) -> None:
        super().__init__()
        self.counter("gtvision_lpr_reads_written", "plate reads stored by the LPR writer")
        self.gauge("gtvision_lpr_backlog", "plate reads waiting for the LPR writer")
        self.gauge("gtvision_lpr_writer_lag_seconds",
                   "age of the oldest read the writer took in its last batch (0 when nothing waits)")
        self.gauge("gtvision_lpr_dead_letters", "plate reads the writer could not store")
        self.add("gtvision_lpr_reads_written", 0.0)

    def written(self, count: int, oldest_age_s: float) -> None:
        self.add("gtvision_lpr_reads_written", float(count))
        self.set("gtvision_lpr_writer_lag_seconds", max(0.0, oldest_age_s))

    def waiting(self, backlog: int, dead_letters: int) -> None:
        self.set("gtvision_lpr_backlog", float(backlog))
        if backlog == 0:
            self.set("gtvision_lpr_writer_lag_seconds", 0.0)
        self.set("gtvision_lpr_dead_letters", float(dead_letters))


class RetentionMetrics(AlertMetrics):
    """Retention passes and what they purged; storage per city; the watermarks; its platform alerts."""

    def __init__(self) -> None:
        super().__init__()
        self.counter("gtvision_retention_passes", "retention passes finished, by outcome", ("outcome",))
        self.counter("gtvision_retention_purged_chunks", "recorded chunks purged")
        self.counter("gtvision_retention_purged_bytes", "bytes of recordings purged")
        self.gauge("gtvision_retention_stalled", "1 when no retention pass completed within twice the interval")
        self.gauge("gtvision_retention_last_pass_timestamp_seconds", "when the last retention pass completed")
        self.gauge("gtvision_storage_bytes", "bytes each city stores, by kind", ("tenant_id", "kind"))
        self.gauge("gtvision_storage_used_ratio", "object store bytes used / capacity")
        self.gauge("gtvision_spool_used_ratio", "spool disk bytes used / size")
        self.gauge("gtvision_storage_watermark", "object store watermark: 0 ok, 1 warning, 2 critical")
        for outcome in ("done", "failed"):
            self.add("gtvision_retention_passes", 0.0, outcome)
        self.add("gtvision_retention_purged_chunks", 0.0)
        self.add("gtvision_retention_purged_bytes", 0.0)

    def pass_finished(self, outcome: str, chunks: int = 0, freed_bytes: int = 0) -> None:
        self.add("gtvision_retention_passes", 1.0, outcome)
        self.add("gtvision_retention_purged_chunks", float(chunks))
        self.add("gtvision_retention_purged_bytes", float(freed_bytes))

    def health(self, stalled: bool, last_finished_epoch_s: float | None) -> None:
        self.set("gtvision_retention_stalled", 1.0 if stalled else 0.0)
        if last_finished_epoch_s is not None:
            self.set("gtvision_retention_last_pass_timestamp_seconds", last_finished_epoch_s)

    def storage(self, stored: dict[UUID, CityStorage], usage: dict[str, tuple[int, int]], watermark: int) -> None:
        self.set_all("gtvision_storage_bytes", {(str(city), kind): float(b) for city, by_city in stored.items()
                                                for kind, b in by_city.by_kind().items()})
        for name, series in (("object_store", "gtvision_storage_used_ratio"), ("spool", "gtvision_spool_used_ratio")):
            if name in usage and usage[name][1] > 0:
                self.set(series, usage[name][0] / usage[name][1])
        self.set("gtvision_storage_watermark", float(watermark))


class ClipMetrics(KeptSeries):
    """Clip export jobs by state, and how long each export took."""

    def __init__(self) -> None:
        super().__init__()
        self.gauge("gtvision_clip_jobs", "clip export jobs by state", ("state",))
        self.histogram("gtvision_clip_job_duration_seconds", "time to export one clip",
                       (1, 2.5, 5, 10, 30, 60, 120, 300, 600), ("outcome",))

    def jobs(self, by_state: dict[str, int]) -> None:
        self.set_all("gtvision_clip_jobs", {(state,): float(n) for state, n in by_state.items()})

    def exported(self, outcome: str, seconds: float) -> None:
        self.observe("gtvision_clip_job_duration_seconds", seconds, outcome)
