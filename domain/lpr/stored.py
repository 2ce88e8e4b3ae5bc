"""Plate reads as stored and searched: what a search returns, and the hourly counts of dashboards."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID


@dataclass(frozen=True)
class StoredRead:
    """One row of ``lpr_events`` as a search shows it."""

    id: UUID
    camera_id: UUID
    plate: str
    captured_at: datetime
    received_at: datetime
    confidence: float | None
    direction: str | None
    vehicle_color: str | None
    vehicle_type: str | None
    sender: str
    image_keys: list[str]


@dataclass(frozen=True)
class HourlyCount:
    """Reads of one camera in one UTC hour."""

    hour: datetime
    camera_id: UUID
    events: int
