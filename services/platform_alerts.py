"""Platform-wide alerts (retention stalled, storage watermarks): one alert on every city's event stream,
because each city's operators must know when the platform cannot keep its promises."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import asyncpg

from domain.events import platform_alert_event, tenant_stream
from storage import purges
from storage.bus import EventBus

log = logging.getLogger(__name__)


async def alert_every_city(pool: asyncpg.Pool, bus: EventBus, kind: str, severity: str, message: str) -> None:
    at = datetime.now(UTC)
    for tenant in await purges.tenants_to_purge(pool):
        try:
            await bus.publish(tenant_stream(tenant.id), platform_alert_event(tenant.id, kind, severity, message, at))
        except Exception as exc:
            log.warning("%s alert not published: %s", kind, exc)
