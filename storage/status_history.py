"""Camera status history: one row per health transition."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import asyncpg

from domain.camera_health import Transition
from domain.camera_state import CameraState, ErrorReason
from storage.rows import records


async def insert(pool: asyncpg.Pool, tenant_id: UUID, camera_id: UUID, transition: Transition) -> None:
    await pool.execute(
        "INSERT INTO camera_status_history (tenant_id, camera_id, at, previous, state, reason, detail)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7)",
        tenant_id, camera_id, transition.at, transition.previous.value, transition.state.value,
        transition.reason.value if transition.reason else None, (transition.detail or "")[:500] or None,
    )


async def between(
    pool: asyncpg.Pool, tenant_id: UUID, camera_id: UUID, start: datetime, end: datetime, *, limit: int = 10_000
) -> list[Transition]:
    """Transitions in [start, end), plus the last one before ``start`` (the state at ``start``)."""
    rows = await pool.fetch(
        "(SELECT at, previous, state, reason, detail FROM camera_status_history"
        "  WHERE tenant_id = $1 AND camera_id = $2 AND at < $3 ORDER BY at DESC LIMIT 1)"
        " UNION ALL"
        " (SELECT at, previous, state, reason, detail FROM camera_status_history"
        "  WHERE tenant_id = $1 AND camera_id = $2 AND at >= $3 AND at < $4 ORDER BY at LIMIT $5)"
        " ORDER BY at",
        tenant_id, camera_id, start, end, limit,
    )
    return records(Transition, rows, previous=CameraState, state=CameraState, reason=_reason)


def _reason(stored: str | None) -> ErrorReason | None:
    return ErrorReason(stored) if stored else None
