"""Admitting a live viewer within its city's limit (domain/viewer_admission.py), over every API replica."""

from __future__ import annotations

from uuid import UUID, uuid4

import asyncpg

from domain.viewer_admission import LEASE_S, admission_refusal, live_viewer_limit
from services.refusals import NotFound, TooMany
from storage import live_viewers


async def admit(pool: asyncpg.Pool, tenant_id: UUID, camera_id: UUID, user_id: UUID | None) -> UUID:
    """The new viewer's lease id; TooMany (429) when the city watches as many live streams as its plan allows."""
    async with live_viewers.admission(pool, tenant_id, LEASE_S) as (conn, standing):
        if standing is None:
            raise NotFound("tenant not found")
        limit = live_viewer_limit(standing.plan_max, standing.users)
        refusal = admission_refusal(standing.watching, limit, standing.plan_name)
        if refusal is not None:
            raise TooMany(refusal)
        viewer_id = uuid4()
        await live_viewers.add(conn, viewer_id, tenant_id, camera_id, user_id)
    return viewer_id


async def watching(pool: asyncpg.Pool, tenant_id: UUID) -> dict[UUID, int]:
    """The city's live viewers now, per camera (every replica's)."""
    return await live_viewers.by_camera(pool, tenant_id, LEASE_S)
