"""Operations: a real Prometheus scrapes the running platform through the API's /metrics (one target per node)
and finds the series ops rely on, with values that match what the test did."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import ray
from prometheus_client.parser import text_string_to_metric_families
from websockets.sync.client import connect

from tests.support.metric_catalogue import COMMON_LABELS, LABELS, catalogue_name, scraped_names
from tests.support.prometheus_server import PrometheusServer
from tests.support.system import ADMIN_PASSWORD, NAMESPACE, System, new_city, wait_for

READS = 7


def _signed(secret: str, body: bytes, camera_id: str) -> dict[str, str]:
    stamp = str(int(time.time()))
    signature = hmac.new(secret.encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return {"x-camera-id": camera_id, "x-timestamp": stamp, "x-signature": signature,
            "content-type": "application/json"}


def _lpr_sender(system: System, manager: dict[str, str]) -> tuple[str, dict[str, Any]]:
    camera = system.client.post("/cameras", headers=manager, json={
        "name": f"lpr {uuid.uuid4().hex[:4]}", "rtsp_url": "rtsp://127.0.0.1:1/lpr", "enabled": False}).json()
    credentials = system.client.post(f"/cameras/{camera['id']}/lpr-credentials", headers=manager)
    assert credentials.status_code == 200, credentials.text
    return camera["id"], credentials.json()


@pytest.mark.parametrize("system", ["dir"], indirect=True)  # the embedded default: the scrape path is the same on both
def test_a_real_prometheus_scrapes_cameras_lpr_alerts_clips_retention_and_host_restarts(
    system: System, tmp_path: Path
) -> None:
    admin = system.login("admin", ADMIN_PASSWORD)
    city, manager, _ = new_city(system, admin)
    camera = system.client.post("/cameras", headers=manager, json={
        "name": "scraped", "rtsp_url": "test://pattern?w=160&h=90&fps=10"}).json()
    sender, credentials = _lpr_sender(system, manager)
    assert system.client.post("/lpr/watchlist", headers=manager,
                              json={"plate": "MET1A11", "reason": "teste"}).status_code == 201
    base = system.settings.public_url
    accepted = 'sum(gtvision_lpr_reads_accepted_total{vendor="generic"})'
    refused = 'sum(gtvision_lpr_reads_refused_total{vendor="generic",reason="bad_signature"}) or vector(0)'

    with PrometheusServer(f"{base}/api/v1/metrics", tmp_path) as prometheus:
        prometheus.wait_value('up{job="gtvision"}', lambda up: up == 1, 30)
        # Cameras: the city's streaming count and the camera's own frame rate, through Ray and the API.
        prometheus.wait_value(f'gtvision_cameras{{tenant_id="{city}",state="streaming"}}', lambda n: n == 1, 90)
        fps = prometheus.wait_value(f'gtvision_camera_fps{{camera_id="{camera["id"]}"}}', lambda v: v > 0, 60)
        assert abs(fps - 10) <= 1.5, fps

        # LPR: counters rise by exactly what was sent; the watched plate's alert is counted.
        accepted_before = prometheus.value(accepted) or 0.0
        refused_before = prometheus.value(refused) or 0.0
        for i in range(READS):
            plate = "MET1A11" if i == 0 else f"MET{i}B22"
            body = json.dumps({"plate": plate, "captured_at": datetime.now(UTC).isoformat()}).encode()
            response = httpx.post(base + credentials["generic"], content=body, headers=_signed(
                credentials["secret"], body, sender))
            assert response.status_code == 202, response.text
        for _ in range(2):
            body = b'{"plate": "BAD0A00", "captured_at": "2026-11-30T12:00:00Z"}'
            response = httpx.post(base + credentials["generic"], content=body, headers=_signed("wrong", body, sender))
            assert response.status_code == 401, response.text
        prometheus.wait_value(accepted, lambda n: n == accepted_before + READS, 30)
        prometheus.wait_value(refused, lambda n: n == refused_before + 2, 30)
        prometheus.wait_value("gtvision_lpr_reads_written_total", lambda n: n >= READS, 60)
        prometheus.wait_value('sum(gtvision_alerts_sent_total{kind="lpr"})', lambda n: n >= 1, 60)
        prometheus.wait_value('sum(gtvision_alert_latency_seconds_count{kind="lpr"})', lambda n: n >= 1, 60)
        prometheus.wait_value("gtvision_lpr_backlog", lambda n: n == 0, 60)

        # A clip of what the camera recorded: its job and its duration are measured.
        now = datetime.now(UTC)
        clip = system.client.post("/clips", headers=manager, json={
            "camera_id": camera["id"], "start": (now - timedelta(seconds=20)).isoformat(),
            "end": (now - timedelta(seconds=15)).isoformat()})
        assert clip.status_code == 202, clip.text
        prometheus.wait_value('gtvision_clip_job_duration_seconds_count{outcome="done"}', lambda n: n >= 1, 60)
        prometheus.wait_value('gtvision_clip_jobs{state="done"}', lambda n: n >= 1, 60)

        # Retention ran at start; its health and the storage gauges are there.
        prometheus.wait_value('sum(gtvision_retention_passes_total{outcome="done"})', lambda n: n >= 1, 60)
        prometheus.wait_value("gtvision_retention_stalled", lambda n: n == 0, 60)
        prometheus.wait_value("gtvision_storage_watermark", lambda n: n in (0, 1, 2), 60)
        prometheus.wait_value(f'gtvision_storage_bytes{{tenant_id="{city}",kind="recordings"}}', lambda n: n > 0, 90)

        # The API measures itself by route template.
        prometheus.wait_value('sum(gtvision_http_requests_total{route="/api/v1/cameras",method="POST"})',
                              lambda n: n >= 2, 30)

        # A live viewer is counted for the camera and its city while watching.
        token = system.client.post(f"/cameras/{camera['id']}/media-token", headers=manager).json()["token"]
        live_url = f"{base.replace('http://', 'ws://')}/api/v1/cameras/{camera['id']}/live?token={token}"
        with connect(live_url, open_timeout=10) as live:
            live.recv(timeout=10)
            prometheus.wait_value(f'gtvision_live_viewers{{tenant_id="{city}"}}', lambda n: n == 1, 30)
            prometheus.wait_value(f'gtvision_camera_live_viewers{{camera_id="{camera["id"]}"}}', lambda n: n == 1, 30)
            prometheus.wait_value('sum(gtvision_websockets_open{kind="live"})', lambda n: n >= 1, 30)
        prometheus.wait_value(f'gtvision_live_viewers{{tenant_id="{city}"}}', lambda n: n == 0, 30)

        # A camera host that crashes is counted as a restart (the alert rule's input).
        status = wait_for(lambda: (s := system.client.get(f"/cameras/{camera['id']}/status", headers=manager).json())
                          .get("host") and s, 30)
        ray.kill(ray.get_actor(status["host"], namespace=NAMESPACE), no_restart=False)
        prometheus.wait_value(f'sum(gtvision_camera_host_restarts_total{{host="{status["host"]}"}})',
                              lambda n: n >= 1, 90)
        _scrape_matches_the_catalogue(system, store_capacity_known=system.settings.object_store_url.startswith("file:"))
    assert system.client.delete(f"/cameras/{camera['id']}", headers=manager).status_code == 204


def _scrape_matches_the_catalogue(system: System, *, store_capacity_known: bool) -> None:
    """Every catalogued series is scraped (what rules and dashboards use exists), with the catalogued labels, and
    nothing is scraped that the catalogue does not list."""
    text = httpx.get(f"{system.settings.public_url}/api/v1/metrics", timeout=10).text
    labels_of: dict[str, set[str]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels_of.setdefault(sample.name, set()).update(sample.labels)
    expected = set(scraped_names())
    if not store_capacity_known:  # an S3 bucket without a configured capacity has no used ratio
        expected.discard("gtvision_storage_used_ratio")
    missing = sorted(expected - labels_of.keys())
    assert not missing, f"catalogued but not scraped: {missing}"
    unknown = {name for name in labels_of if catalogue_name(name) is None}
    assert not unknown, f"scraped but not catalogued: {sorted(unknown)}"
    for name, labels in labels_of.items():
        allowed = LABELS[catalogue_name(name) or name] | COMMON_LABELS
        assert labels <= allowed, (name, labels - allowed)
