"""Camera alerts in PostgreSQL: each city's delays, the alerts raised, and the transitions the watch reads (0016)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import asyncpg

from domain.alert_book import SeenTransition
from domain.camera_alerts import AlertSettings, CameraAlert
from domain.camera_state import CameraState
from storage.rows import records

_SEEN = ("SELECT h.id, h.tenant_id, h.camera_id, c.name AS camera_name, h.at, h.state, h.reason"
         " FROM camera_status_history h JOIN cameras c ON c.id = h.camera_id")


async def settings_of(pool: asyncpg.Pool, tenant_id: UUID) -> AlertSettings | None:
    """The city's delays; None if there is no such city."""
    row = await pool.fetchrow("SELECT camera_offline_after_s, camera_online_after_s FROM tenants WHERE id = $1",
                              tenant_id)
    return None if row is None else AlertSettings(row[0], row[1])


async def all_settings(pool: asyncpg.Pool) -> dict[UUID, AlertSettings]:
    rows = await pool.fetch("SELECT id, camera_offline_after_s, camera_online_after_s FROM tenants")
    return {r["id"]: AlertSettings(r[1], r[2]) for r in rows}


async def set_settings(pool: asyncpg.Pool, tenant_id: UUID, settings: AlertSettings) -> bool:
    """Whether the city exists (and now has these delays)."""
    done: str = await pool.execute(
        "UPDATE tenants SET camera_offline_after_s = $2, camera_online_after_s = $3 WHERE id = $1",
        tenant_id, settings.offline_after_s, settings.online_after_s)
    return done.endswith(" 1")


async def newest_transition_id(pool: asyncpg.Pool) -> int:
    return int(await pool.fetchval("SELECT coalesce(max(id), 0) FROM camera_status_history"))


async def transitions_after(pool: asyncpg.Pool, after_id: int, *, limit: int) -> list[SeenTransition]:
    """Stored transitions with an id above ``after_id``, oldest first, at most ``limit``."""
    rows = await pool.fetch(_SEEN + " WHERE h.id > $1 ORDER BY h.id LIMIT $2", after_id, limit)
    return records(SeenTransition, rows, state=CameraState)


async def last_transitions(pool: asyncpg.Pool, up_to_id: int) -> list[SeenTransition]:
    """Each live camera's last transition with an id up to ``up_to_id``: the state the watch restarts from."""
    rows = await pool.fetch(
        "SELECT h.id, c.tenant_id, c.id AS camera_id, c.name AS camera_name, h.at, h.state, h.reason FROM cameras c"
        " JOIN LATERAL (SELECT id, at, state, reason FROM camera_status_history h"
        "               WHERE h.camera_id = c.id AND h.id <= $1 ORDER BY at DESC, id DESC LIMIT 1) h ON true"
        " WHERE c.deleted_at IS NULL", up_to_id)
    return records(SeenTransition, rows, state=CameraState)


async def open_offline_alerts(pool: asyncpg.Pool) -> dict[UUID, datetime]:
    """Cameras whose last alert is ``offline`` (no ``online`` since): camera → when its outage began."""
    rows = await pool.fetch(
        "SELECT c.id AS camera_id, a.since FROM cameras c"
        " JOIN LATERAL (SELECT kind, since FROM camera_alerts a WHERE a.camera_id = c.id ORDER BY id DESC LIMIT 1)"
        " a ON true WHERE c.deleted_at IS NULL AND a.kind = 'offline'")
    return {r["camera_id"]: r["since"] for r in rows}


async def insert(pool: asyncpg.Pool, tenant_id: UUID, camera_id: UUID, alert: CameraAlert) -> None:
    await pool.execute(
        "INSERT INTO camera_alerts (tenant_id, camera_id, kind, since, at, reason) VALUES ($1, $2, $3, $4, $5, $6)",
        tenant_id, camera_id, alert.kind.value, alert.since, alert.at, alert.reason)


async def of_camera(pool: asyncpg.Pool, camera_id: UUID, *, limit: int = 100) -> list[tuple[str, datetime]]:
    """The camera's alerts, newest first: (kind, since)."""
    rows = await pool.fetch("SELECT kind, since FROM camera_alerts WHERE camera_id = $1 ORDER BY id DESC LIMIT $2",
                            camera_id, limit)
    return [(str(r["kind"]), r["since"]) for r in rows]


async def of_camera_between(pool: asyncpg.Pool, tenant_id: UUID, camera_id: UUID, start: datetime, end: datetime,
                            *, limit: int = 500) -> list[tuple[str, datetime, str | None]]:
    """The camera's alerts whose instant (``since``) falls in [start, end), oldest first: (kind, since, reason),
    for the timeline's markers. At most ``limit``: a camera flapping for a month is a few marks too many."""
    rows = await pool.fetch(
        "SELECT kind, since, reason FROM camera_alerts WHERE camera_id = $1 AND tenant_id = $2"
        " AND since >= $3 AND since < $4 ORDER BY since LIMIT $5", camera_id, tenant_id, start, end, limit)
    return [(str(r["kind"]), r["since"], r["reason"]) for r in rows]
