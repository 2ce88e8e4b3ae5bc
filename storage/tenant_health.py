"""What a city's dashboard reads: per camera its last transition and newest chunk, storage and user counts."""

from __future__ import annotations

from uuid import UUID

import asyncpg

from domain.tenant import TenantUsage
from domain.tenant_health import CameraHealth
from storage.rows import record, records


async def cameras(pool: asyncpg.Pool, tenant_id: UUID) -> list[CameraHealth]:
    """One index lookup per camera for each (last transition, newest chunk): fast for 1 000 cameras."""
    rows = await pool.fetch(
        """SELECT c.id AS camera_id, c.name, c.enabled, h.state, h.reason, h.at AS since,
                  r.newest_end AS newest_recording_end
           FROM cameras c
           LEFT JOIN LATERAL (SELECT state, reason, at FROM camera_status_history h
                              WHERE h.camera_id = c.id ORDER BY at DESC LIMIT 1) h ON true
           LEFT JOIN LATERAL (SELECT upper(time_range) AS newest_end FROM recordings r
                              WHERE r.camera_id = c.id ORDER BY lower(time_range) DESC LIMIT 1) r ON true
           WHERE c.tenant_id = $1 AND c.deleted_at IS NULL ORDER BY c.name""", tenant_id)
    return records(CameraHealth, rows)


async def usage(pool: asyncpg.Pool, tenant_id: UUID) -> TenantUsage:
    row = await pool.fetchrow(
        """SELECT (SELECT coalesce(sum(bytes), 0)::bigint FROM recordings WHERE tenant_id = $1) AS recorded_bytes,
                  (SELECT count(*) FROM recordings WHERE tenant_id = $1) AS chunks,
                  (SELECT count(*) FROM users WHERE tenant_id = $1 AND role = 'manager' AND deleted_at IS NULL) AS managers,
                  (SELECT count(*) FROM users WHERE tenant_id = $1 AND role = 'viewer' AND deleted_at IS NULL) AS viewers,
                  (SELECT count(*) FROM legal_holds WHERE tenant_id = $1 AND released_at IS NULL) AS active_holds,
                  (SELECT recording_paused FROM tenants WHERE id = $1) AS recording_paused""", tenant_id)
    return record(TenantUsage, row)


async def states(pool: asyncpg.Pool) -> dict[str, int]:
    """Enabled cameras of every city by the state of their last transition (``starting`` if none yet)."""
    rows = await pool.fetch(
        """SELECT coalesce(h.state, 'starting') AS state, count(*) AS cameras FROM cameras c
           LEFT JOIN LATERAL (SELECT state FROM camera_status_history h
                              WHERE h.camera_id = c.id ORDER BY at DESC LIMIT 1) h ON true
           WHERE c.enabled AND c.deleted_at IS NULL GROUP BY 1""")
    return {str(r["state"]): int(r["cameras"]) for r in rows}


async def states_by_city(pool: asyncpg.Pool) -> dict[tuple[str, str], int]:
    """Enabled cameras by (city, state of their last transition), for the metrics."""
    rows = await pool.fetch(
        """SELECT c.tenant_id::text AS tenant_id, coalesce(h.state, 'starting') AS state, count(*) AS cameras
           FROM cameras c
           LEFT JOIN LATERAL (SELECT state FROM camera_status_history h
                              WHERE h.camera_id = c.id ORDER BY at DESC LIMIT 1) h ON true
           WHERE c.enabled AND c.deleted_at IS NULL GROUP BY 1, 2""")
    return {(str(r["tenant_id"]), str(r["state"])): int(r["cameras"]) for r in rows}


async def states_of_city(pool: asyncpg.Pool, tenant_id: UUID) -> dict[str, int]:
    """The city's enabled cameras by the state of their last transition (``starting`` if none yet)."""
    rows = await pool.fetch(
        """SELECT coalesce(h.state, 'starting') AS state, count(*) AS cameras FROM cameras c
           LEFT JOIN LATERAL (SELECT state FROM camera_status_history h
                              WHERE h.camera_id = c.id ORDER BY at DESC LIMIT 1) h ON true
           WHERE c.tenant_id = $1 AND c.enabled AND c.deleted_at IS NULL GROUP BY 1""", tenant_id)
    return {str(r["state"]): int(r["cameras"]) for r in rows}
