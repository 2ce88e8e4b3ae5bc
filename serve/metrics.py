"""The API's own Prometheus metrics (prometheus-client), and the ASGI middleware that measures every request.

In a Serve replica the series live in prometheus-client's multiprocess mode:
the launcher gives every replica ``PROMETHEUS_MULTIPROC_DIR``, one directory
per node, so that all replicas of a node add up to one set of series and any
of them can answer the node's scrape. Under plain uvicorn (benchmarks, tests)
they live in the process. Labels are bounded: a route *template*, never a raw
path; a camera label only on the live-viewer gauge (docs/metrics.md).
"""

from __future__ import annotations

import os
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from uuid import UUID

from prometheus_client import REGISTRY as PROCESS_REGISTRY
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest, multiprocess
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from serve.route_templates import template_of

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_WEBHOOKS = "/api/v1/webhooks/"
_NOT_READS = ("KeepAlive", "DeviceInfo")  # Intelbras housekeeping calls on the webhook prefix

if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):  # each series opens its file there as it is created
    Path(os.environ["PROMETHEUS_MULTIPROC_DIR"]).mkdir(parents=True, exist_ok=True)

REQUESTS = Counter("gtvision_http_requests", "HTTP requests answered, by route template and status code",
                   ["method", "route", "status"])
LATENCY = Histogram("gtvision_http_request_duration_seconds", "time to answer an HTTP request (until the last byte)",
                    ["method", "route"], buckets=_LATENCY_BUCKETS)
WEBSOCKETS = Gauge("gtvision_websockets_open", "WebSockets open, by kind (events, live)", ["kind"],
                   multiprocess_mode="livesum")
LIVE_VIEWERS = Gauge("gtvision_live_viewers", "live viewers (WebSocket) of a city", ["tenant_id"],
                     multiprocess_mode="livesum")
CAMERA_VIEWERS = Gauge("gtvision_camera_live_viewers", "live viewers (WebSocket) of a camera",
                       ["tenant_id", "camera_id"], multiprocess_mode="livesum")
LPR_ACCEPTED = Counter("gtvision_lpr_reads_accepted", "plate reads made durable and answered 2xx", ["vendor"])
LPR_REFUSED = Counter("gtvision_lpr_reads_refused", "plate-read pushes refused, by why", ["vendor", "reason"])
LPR_SPOOLED = Counter("gtvision_lpr_reads_spooled", "plate reads kept on this node's spool (stores down)",
                      ["vendor"])

# Series that exist from the start at 0, so that a dashboard or a rate() has something before the first event.
for _vendor in ("generic", "intelbras", "hikvision"):
    LPR_ACCEPTED.labels(_vendor)
    LPR_SPOOLED.labels(_vendor)
for _kind in ("events", "live"):
    WEBSOCKETS.labels(_kind)

# Why a webhook was refused, from its status (the routes' refusals map one reason to one status).
_REFUSAL_REASONS = {400: "bad_payload", 401: "bad_signature", 403: "source_refused", 404: "unknown_sender",
                    409: "replayed", 413: "too_large", 422: "bad_payload", 429: "rate_limited", 503: "unavailable"}


def webhook_vendor(path: str) -> str | None:
    """The vendor of a plate-read push route template, or None for other routes and housekeeping calls."""
    if not path.startswith(_WEBHOOKS) or path.endswith(_NOT_READS):
        return None
    name = path[len(_WEBHOOKS):].split("/", 1)[0]
    return "generic" if name == "lpr" else name


def refusal_reason(status: int) -> str:
    return _REFUSAL_REASONS.get(status, "error" if status >= 500 else "refused")


def socket_kind(path: str) -> str:
    return "live" if path.endswith("/live") else "events" if path.endswith("/events") else "other"


class RequestMetrics:
    """ASGI middleware: counts and times every request by its route template, and counts open WebSockets.

    Plain ASGI (not Starlette's BaseHTTPMiddleware) so that it adds microseconds, not a task per request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await self._http(scope, receive, send)
        elif scope["type"] == "websocket":
            await self._websocket(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        status = 500  # what the server answers if the app raises before starting a response

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            route = template_of(scope)
            method = scope["method"]
            REQUESTS.labels(method, route, str(status)).inc()
            LATENCY.labels(method, route).observe(time.perf_counter() - started)
            vendor = webhook_vendor(route)
            if vendor is not None:
                if status < 300:
                    LPR_ACCEPTED.labels(vendor).inc()
                else:
                    LPR_REFUSED.labels(vendor, refusal_reason(status)).inc()

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        opened: Gauge | None = None

        async def sending(message: Message) -> None:
            nonlocal opened
            if message["type"] == "websocket.accept" and opened is None:
                opened = WEBSOCKETS.labels(socket_kind(template_of(scope)))
                opened.inc()
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            if opened is not None:
                opened.dec()


@asynccontextmanager
async def counted_viewer(tenant_id: UUID, camera_id: UUID) -> AsyncIterator[None]:
    """Count one live viewer of the camera and of its city while the block runs."""
    city, camera = LIVE_VIEWERS.labels(str(tenant_id)), CAMERA_VIEWERS.labels(str(tenant_id), str(camera_id))
    city.inc()
    camera.inc()
    try:
        yield
    finally:
        city.dec()
        camera.dec()




def forget_dead_replicas() -> None:
    """At a replica's start: drop every series file of replicas of this node that are gone (an earlier run's,
    or one that crashed), so that counters start from what the living replicas counted."""
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not directory:
        return
    for file in Path(directory).glob("*_*.db"):
        if not _alive(int(file.stem.rsplit("_", 1)[1])):
            file.unlink(missing_ok=True)


def exposition() -> bytes:
    """This node's API series in Prometheus text format: every replica's (multiprocess), else this process's."""
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not directory:
        return generate_latest(PROCESS_REGISTRY)
    _forget_dead_processes(Path(directory))
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=directory)
    return generate_latest(registry)


def _forget_dead_processes(directory: Path) -> None:
    """Drop the live gauges of replicas that died (their open sockets closed with them); counters stay summed."""
    for file in directory.glob("gauge_live*_*.db"):
        pid = int(file.stem.rsplit("_", 1)[1])
        if not _alive(pid):
            multiprocess.mark_process_dead(pid, str(directory))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, someone else's
        return True
    return True
