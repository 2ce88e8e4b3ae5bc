"""The API's metrics: route labels, webhook outcomes, and Ray's series merged into ours."""

from __future__ import annotations

import asyncio

import httpx
from fastapi import FastAPI, HTTPException, WebSocket
from prometheus_client.parser import text_string_to_metric_families

from serve import metrics
from serve.metrics import RequestMetrics, refusal_reason, socket_kind, webhook_vendor
from serve.ray_series import ours, render

# Two worker processes exported the same counter and gauge (a camera host restarted): Ray's own labels differ.
RAY_EXPOSITION = """\
# HELP ray_gtvision_x_total d
# TYPE ray_gtvision_x_total counter
ray_gtvision_x_total{Component="core_worker",SessionName="s",Version="2.60.0",WorkerId="a",kind="k",otel_scope_name="r"} 2.0
ray_gtvision_x_total{Component="core_worker",SessionName="s",Version="2.60.0",WorkerId="b",kind="k",otel_scope_name="r"} 3.0
# HELP ray_gtvision_x_gauge d
# TYPE ray_gtvision_x_gauge gauge
ray_gtvision_x_gauge{WorkerId="a",tenant_id="t"} 3.0
ray_gtvision_x_gauge{WorkerId="b",tenant_id="t"} 5.0
# HELP ray_gtvision_x_seconds d
# TYPE ray_gtvision_x_seconds histogram
ray_gtvision_x_seconds_bucket{WorkerId="a",kind="k",le="0.1"} 0.0
ray_gtvision_x_seconds_bucket{WorkerId="a",kind="k",le="1.0"} 1.0
ray_gtvision_x_seconds_bucket{WorkerId="a",kind="k",le="+Inf"} 1.0
ray_gtvision_x_seconds_count{WorkerId="a",kind="k"} 1.0
ray_gtvision_x_seconds_sum{WorkerId="a",kind="k"} 0.55
# HELP ray_gtvision_y_total d
# TYPE ray_gtvision_y_total gauge
ray_gtvision_y_total{WorkerId="a",host="h"} 4.0
# HELP ray_gtvision_y_seconds_bucket d
# TYPE ray_gtvision_y_seconds_bucket gauge
ray_gtvision_y_seconds_bucket{WorkerId="a",le="1.0"} 2.0
ray_gtvision_y_seconds_bucket{WorkerId="a",le="+Inf"} 3.0
# HELP ray_gtvision_y_seconds_sum d
# TYPE ray_gtvision_y_seconds_sum gauge
ray_gtvision_y_seconds_sum{WorkerId="a"} 7.5
# HELP ray_gtvision_y_seconds_count d
# TYPE ray_gtvision_y_seconds_count gauge
ray_gtvision_y_seconds_count{WorkerId="a"} 3.0
# HELP ray_tasks Ray's own
# TYPE ray_tasks gauge
ray_tasks{State="RUNNING"} 4.0
"""


def test_kept_totals_sent_as_gauges_come_back_as_counters_and_histograms() -> None:
    text = render(ours(RAY_EXPOSITION)).decode()
    types = {family.name: family.type for family in text_string_to_metric_families(text)}
    assert types["gtvision_y"] == "counter" and types["gtvision_y_seconds"] == "histogram"
    assert types["gtvision_x_gauge"] == "gauge"
    samples = _samples(text)
    assert samples[("gtvision_y_total", (("host", "h"),))] == 4.0
    assert samples[("gtvision_y_seconds_bucket", (("le", "+Inf"),))] == 3.0
    assert samples[("gtvision_y_seconds_count", ())] == 3.0


def test_kept_series_accumulate_counters_and_histograms_and_zero_what_is_gone() -> None:
    from actors.metrics import KeptSeries

    kept = KeptSeries()
    kept.counter("gtvision_k", "k", ("kind",))
    kept.histogram("gtvision_k_seconds", "k", (1.0, 5.0))
    kept.gauge("gtvision_k_gauge", "k", ("city",))
    kept.add("gtvision_k", 1.0, "a")
    kept.add("gtvision_k", 2.0, "a")
    for value in (0.5, 3.0, 9.0):
        kept.observe("gtvision_k_seconds", value)
    kept.set_all("gtvision_k_gauge", {("x",): 2.0, ("y",): 1.0})
    kept.set_all("gtvision_k_gauge", {("x",): 3.0})
    values = kept._values
    assert values[("gtvision_k_total", ("a",))] == 3.0
    assert [values[("gtvision_k_seconds_bucket", (le,))] for le in ("1.0", "5.0", "+Inf")] == [1.0, 2.0, 3.0]
    assert values[("gtvision_k_seconds_sum", ())] == 12.5 and values[("gtvision_k_seconds_count", ())] == 3.0
    assert values[("gtvision_k_gauge", ("y",))] == 0.0 and values[("gtvision_k_gauge", ("x",))] == 3.0
    kept.flush()  # Ray's gauges take every value (outside Ray they are recorded and dropped)


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def test_ray_series_are_renamed_stripped_of_ray_labels_and_merged_across_processes() -> None:
    samples = _samples(render(ours(RAY_EXPOSITION)).decode())
    assert samples[("gtvision_x_total", (("kind", "k"),))] == 5.0  # counters add up
    assert samples[("gtvision_x_gauge", (("tenant_id", "t"),))] == 5.0  # gauges keep the largest
    assert samples[("gtvision_x_seconds_sum", (("kind", "k"),))] == 0.55
    assert samples[("gtvision_x_seconds_bucket", (("kind", "k"), ("le", "1.0")))] == 1.0
    assert not [name for name, _ in samples if not name.startswith("gtvision_")], "Ray's own series stay out"


def test_ours_of_an_exposition_without_our_series_is_empty() -> None:
    assert ours("# TYPE ray_tasks gauge\nray_tasks 1.0\n") == []
    assert render([]) == b""


def test_webhook_routes_name_their_vendor_and_refusals_their_reason() -> None:
    assert webhook_vendor("/api/v1/webhooks/lpr") == "generic"
    assert webhook_vendor("/api/v1/webhooks/hikvision/{token}") == "hikvision"
    assert webhook_vendor("/api/v1/webhooks/intelbras/{token}/NotificationInfo/TollgateInfo") == "intelbras"
    assert webhook_vendor("/api/v1/webhooks/intelbras/{token}/NotificationInfo/KeepAlive") is None
    assert webhook_vendor("/api/v1/cameras") is None
    assert [refusal_reason(s) for s in (401, 409, 413, 422, 503, 500, 418)] == [
        "bad_signature", "replayed", "too_large", "bad_payload", "unavailable", "error", "refused"]
    assert (socket_kind("/api/v1/cameras/{camera_id}/live"), socket_kind("/api/v1/events")) == ("live", "events")


def _value(name: str, **labels: str) -> float:
    text = metrics.exposition().decode()
    return _samples(text).get((name, tuple(sorted(labels.items()))), 0.0)


def test_requests_are_counted_by_route_template_and_unknown_paths_share_one_label() -> None:
    app = FastAPI()

    @app.get("/api/v1/things/{thing_id}")
    async def thing(thing_id: int) -> dict[str, int]:
        if thing_id == 0:
            raise HTTPException(404, "no such thing")
        return {"id": thing_id}

    @app.post("/api/v1/webhooks/lpr")
    async def push() -> dict[str, str]:
        raise HTTPException(409, "replayed")

    app.add_middleware(RequestMetrics)
    route = "/api/v1/things/{thing_id}"
    before = (_value("gtvision_http_requests_total", method="GET", route=route, status="200"),
              _value("gtvision_http_requests_total", method="GET", route="unmatched", status="404"),
              _value("gtvision_lpr_reads_refused_total", vendor="generic", reason="replayed"),
              _value("gtvision_http_request_duration_seconds_count", method="GET", route=route))

    async def calls() -> None:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            for path in ("/api/v1/things/1", "/api/v1/things/2", "/nothing/here", "/other/path"):
                await client.get(path)
            await client.post("/api/v1/webhooks/lpr")

    asyncio.run(calls())
    after = (_value("gtvision_http_requests_total", method="GET", route=route, status="200"),
             _value("gtvision_http_requests_total", method="GET", route="unmatched", status="404"),
             _value("gtvision_lpr_reads_refused_total", vendor="generic", reason="replayed"),
             _value("gtvision_http_request_duration_seconds_count", method="GET", route=route))
    assert [a - b for a, b in zip(after, before, strict=True)] == [2, 2, 1, 2]
    assert "/api/v1/things/1" not in metrics.exposition().decode(), "raw paths never become labels"


def test_open_websockets_are_counted_while_open() -> None:
    from starlette.testclient import TestClient

    app = FastAPI()

    @app.websocket("/api/v1/events")
    async def events(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.receive_text()

    app.add_middleware(RequestMetrics)
    before = _value("gtvision_websockets_open", kind="events")
    with TestClient(app) as client, client.websocket_connect("/api/v1/events") as socket:
        assert _value("gtvision_websockets_open", kind="events") == before + 1
        socket.send_text("bye")
    assert _value("gtvision_websockets_open", kind="events") == before
