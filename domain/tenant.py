"""A tenant: one city, with its plan and the time zone its reports are cut in (storage stays UTC)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID


@dataclass(frozen=True)
class Tenant:
    id: UUID
    name: str
    plan_id: UUID
    time_zone: str
    created_at: datetime


@dataclass(frozen=True)
class TenantUsage:
    """What a city's dashboard counts: recorded bytes and chunks, users, active holds, and a pause if any."""

    recorded_bytes: int
    chunks: int
    managers: int
    viewers: int
    active_holds: int
    recording_paused: str | None
