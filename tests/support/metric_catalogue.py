"""The gtvision_* metric catalogue: every series a node's `GET /api/v1/metrics` exposes, with its labels.

One list that the alerting rules, the Grafana dashboards and a real scrape are
all checked against, so a renamed metric or label fails a test instead of
silently emptying a panel or muting an alert. Names are as scraped (no `ray_`
prefix); counters end in `_total`; a histogram is listed by its base name and
scraped as `_bucket` (with `le`), `_sum` and `_count`.
"""

from __future__ import annotations

# Per camera: the only place, with gtvision_camera_live_viewers, where camera_id (high cardinality) is a label.
_CAMERA = frozenset({"camera_id", "tenant_id"})

LABELS: dict[str, frozenset[str]] = {
    # API, per replica
    "gtvision_http_requests_total": frozenset({"method", "route", "status"}),
    "gtvision_http_request_duration_seconds": frozenset({"method", "route"}),
    "gtvision_websockets_open": frozenset({"kind"}),
    "gtvision_live_viewers": frozenset({"tenant_id"}),
    "gtvision_camera_live_viewers": _CAMERA,
    "gtvision_lpr_reads_accepted_total": frozenset({"vendor"}),
    "gtvision_lpr_reads_refused_total": frozenset({"vendor", "reason"}),
    "gtvision_lpr_reads_spooled_total": frozenset({"vendor"}),
    # Camera supervisors and hosts
    "gtvision_camera_fps": _CAMERA,
    "gtvision_camera_bitrate_bps": _CAMERA,
    "gtvision_camera_last_packet_age_seconds": _CAMERA,
    "gtvision_camera_keyframe_interval_seconds": _CAMERA,
    "gtvision_camera_recording_lag_seconds": _CAMERA,
    "gtvision_camera_reconnects": _CAMERA,
    "gtvision_camera_dropped_packets": _CAMERA,
    "gtvision_camera_spooled_bytes": _CAMERA,
    "gtvision_camera_streaming": _CAMERA,
    "gtvision_cameras": frozenset({"tenant_id", "state"}),
    "gtvision_camera_host_restarts_total": frozenset({"host"}),
    "gtvision_camera_host_cameras": frozenset({"host"}),
    # Storage
    "gtvision_storage_bytes": frozenset({"tenant_id", "kind"}),
    "gtvision_storage_used_ratio": frozenset(),
    "gtvision_storage_watermark": frozenset(),
    "gtvision_spool_used_ratio": frozenset(),
    # Clip exporter
    "gtvision_clip_jobs": frozenset({"state"}),
    "gtvision_clip_job_duration_seconds": frozenset({"outcome"}),  # done | failed
    # LPR writer
    "gtvision_lpr_backlog": frozenset(),
    "gtvision_lpr_writer_lag_seconds": frozenset(),
    "gtvision_lpr_reads_written_total": frozenset(),
    "gtvision_lpr_dead_letters": frozenset(),
    # Alerts and retention
    "gtvision_alerts_sent_total": frozenset({"kind"}),
    "gtvision_alert_latency_seconds": frozenset({"kind"}),
    "gtvision_retention_passes_total": frozenset({"outcome"}),
    "gtvision_retention_purged_chunks_total": frozenset(),
    "gtvision_retention_purged_bytes_total": frozenset(),
    "gtvision_retention_stalled": frozenset(),
    "gtvision_retention_last_pass_timestamp_seconds": frozenset(),
}

METRICS: frozenset[str] = frozenset(LABELS)

HISTOGRAMS: frozenset[str] = frozenset({
    "gtvision_http_request_duration_seconds",
    "gtvision_clip_job_duration_seconds",
    "gtvision_alert_latency_seconds",
})

# Series Prometheus itself makes for every target; rules may use them (a target that stopped answering).
PROMETHEUS_SERIES: frozenset[str] = frozenset({"up", "scrape_duration_seconds", "scrape_samples_scraped"})

# Labels every series may carry besides its own: the scrape's, and a histogram bucket's bound.
COMMON_LABELS: frozenset[str] = frozenset({"job", "instance", "le"})

HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")


def scraped_names() -> frozenset[str]:
    """Every series name a scrape exposes: the catalogue with each histogram as its three series."""
    plain = METRICS - HISTOGRAMS
    return plain | {base + suffix for base in HISTOGRAMS for suffix in HISTOGRAM_SUFFIXES}


def catalogue_name(series: str) -> str | None:
    """The catalogue entry a scraped series name belongs to (`x_bucket` → `x` for a histogram), else None."""
    if series in METRICS - HISTOGRAMS:
        return series
    for suffix in HISTOGRAM_SUFFIXES:
        base = series.removesuffix(suffix)
        if base != series and base in HISTOGRAMS:
            return base
    return None
