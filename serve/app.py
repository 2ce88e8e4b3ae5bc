"""The FastAPI application and its Ray Serve deployment.

``create_app`` builds the app from Settings (plain uvicorn can serve it, e.g.
for benchmarks against Serve); ``Api`` is the Serve deployment that builds it
on each replica, reaching the actors through one ActorClient.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from fastapi import APIRouter, FastAPI
from fastapi.middleware.cors import CORSMiddleware
from ray import serve

from actor_client.client import ActorClient
from domain.forwarded import trusted_networks
from domain.purge_rules import is_stalled
from domain.settings import Settings
from serve import errors
from serve.console_files import add_console
from serve.deps import Res, Resources
from serve.event_feeds import EventFeeds
from serve.live_hub import LiveHub
from serve.login_guard import LoginGuard
from serve.metrics import LPR_SPOOLED, RequestMetrics, forget_dead_replicas
from serve.password_work import PasswordWork
from serve.ray_series import RayNodeSeries
from serve.request_context import RequestContext
from serve.route_templates import templates_of
from serve.routes import (
    audit,
    auth,
    camera_alerts,
    camera_map,
    cameras,
    clips,
    edge,
    events,
    evidence,
    holds,
    lgpd,
    live,
    lpr,
    media_access,
    metrics,
    mosaics,
    objects,
    plans,
    plate_images,
    plate_view,
    playback,
    retention,
    tenants,
    users,
    watchlists,
)
from serve.session_check import SessionCheck
from services.lpr_accept import LprAccept
from storage import purges
from storage.bus import open_bus
from storage.db import create_pool
from storage.json_logs import log_json_to_stderr
from storage.lpr_intake import open_intake
from storage.lpr_spool import LprSpool
from storage.objects import open_object_store_for
from storage.ws_tickets import open_tickets

API_PREFIX = "/api/v1"


def create_app(settings: Settings, *, behind_serve: bool = False, metrics_middleware: bool = True) -> FastAPI:
    """The API; ``metrics_middleware=False`` only for the benchmark that measures what the metrics cost."""
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        forget_dead_replicas()
        store = await asyncio.to_thread(open_object_store_for, settings)
        pool = await create_pool(settings.database_url, min_size=1, max_size=10)
        actors = ActorClient(settings.namespace)
        bus = open_bus(settings.bus_url, namespace=settings.namespace)
        intake = open_intake(settings.bus_url, pool)
        lpr = LprAccept(intake, store, LprSpool(Path(settings.spool_dir) / "lpr", settings.lpr_spool_max_bytes),
                        max_backlog=settings.lpr_max_backlog, pool=pool,
                        on_spooled=lambda vendor: LPR_SPOOLED.labels(vendor).inc())
        app.state.ray_series = await asyncio.to_thread(RayNodeSeries.of_this_node)
        app.state.http = httpx.AsyncClient()
        tickets = open_tickets(settings.bus_url, pool)
        feeds = EventFeeds(bus, per_user=settings.event_sockets_per_user, per_city=settings.event_sockets_per_city,
                           per_socket_s=settings.event_messages_per_socket_s)
        live = LiveHub(actors, poll_interval_s=settings.live_send_interval_ms / 1000)
        app.state.resources = Resources(settings, pool, store, actors, live, bus, lpr,
                                        SessionCheck(pool, ttl_s=settings.session_check_ttl_s), tickets, feeds)
        app.state.password_work = PasswordWork.for_this_node(settings.password_checks_at_once)
        app.state.login_guard = LoginGuard.for_settings(settings, app.state.password_work)
        draining = asyncio.create_task(lpr.drain_spool_forever())
        try:
            yield
        finally:
            draining.cancel()
            await asyncio.gather(draining, return_exceptions=True)
            await app.state.http.aclose()
            await app.state.login_guard.close()
            app.state.password_work.close()
            await intake.close()
            await tickets.close()
            await bus.close()
            await pool.close()

    app = FastAPI(title="GT-Vision", version="0.1.0", lifespan=lifespan,
                  docs_url="/docs", openapi_url="/openapi.json")
    errors.install(app)
    app.add_middleware(RequestContext, echo=not behind_serve,  # request id, log context, audit source, access line
                       trusted=trusted_networks(settings.trusted_proxies))
    # Routes are matched in order, one by one (FastAPI ≥ 0.16x makes each candidate costly): the LPR webhooks,
    # the busiest routes by far, go first, and routers are included flat, not nested.
    routers = [module.router for module in (
        lpr, live, playback, media_access, auth, tenants, plans, users, camera_map, cameras, clips, mosaics, holds, retention,
        watchlists, events, audit, objects, metrics, edge, evidence, lgpd, plate_view, plate_images, camera_alerts)]
    for router in routers:
        app.include_router(router, prefix=API_PREFIX)
    api = APIRouter()

    @api.get("/health", tags=["health"])
    async def health(res: Res) -> dict[str, Any]:
        """Up if PostgreSQL answers; "degraded" when retention has not completed a pass in twice its interval."""
        finished, running = await purges.last_finished(res.pool)
        interval = timedelta(seconds=res.settings.retention_interval_s)
        stalled = is_stalled(finished, running, datetime.now(UTC), interval)
        return {"status": "degraded" if stalled else "ok",
                "retention": {"last_pass_finished_at": finished, "running_since": running, "stalled": stalled}}

    routers.append(api)
    app.include_router(api, prefix=API_PREFIX)
    app.state.route_templates = templates_of(routers, API_PREFIX)
    add_console(app, settings)  # the operator console at /, calling the API on the same origin (docs/console.md)
    if metrics_middleware:
        app.add_middleware(RequestMetrics)
    if settings.cors_origins:  # outermost, so preflights are answered before anything else runs
        app.add_middleware(CORSMiddleware, allow_origins=list(settings.cors_origins), allow_credentials=False,
                           allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
                           allow_headers=["Authorization", "Content-Type", "X-Request-ID"], expose_headers=["X-Request-ID"],
                           max_age=600)
    return app


@serve.deployment(
    name="api",
    max_ongoing_requests=1000,  # every open live WebSocket holds one slot (Serve's default of 5 starves the rest)
    ray_actor_options={"num_cpus": 0},
    # Serve's own lines in JSON; its access log stays off: ours (serve/request_context.py) masks tokens.
    logging_config={"enable_access_log": False, "encoding": "JSON"},
)
@serve.ingress()
class Api:
    """Serve deployment: each replica builds the FastAPI app for its Settings."""

    def __init__(self, settings: Settings) -> None:
        log_json_to_stderr()  # the replica's lines as JSON into Ray's log file for it (docs/logging.md)
        self._settings = settings

    def __serve_build_asgi_app__(self) -> FastAPI:
        return create_app(self._settings, behind_serve=True)
