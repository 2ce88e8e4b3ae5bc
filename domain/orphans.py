"""The orphan sweep's rules: which hours of a camera to look at next, and what is an orphan.

Chunk objects live under hour prefixes (``t/{tenant}/c/{camera}/YYYY/MM/DD/HH/``).
The sweep walks each camera's hours once, from where it stopped, up to hours
old enough that no upload can still be in flight — so it never lists the
whole bucket, and each pass does a bounded amount of listing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID

SETTLE = timedelta(hours=2)  # an hour is swept only once nothing can still be uploading into it
OBJECT_WITHOUT_ROW = "object_without_row"
ROW_WITHOUT_OBJECT = "row_without_object"


@dataclass(frozen=True)
class SweepCursor:
    """Where the sweep stands for one camera (deleted cameras too: their objects count)."""

    id: UUID
    tenant_id: UUID
    created_at: datetime
    swept_until: datetime | None


@dataclass(frozen=True)
class OrphanFinding:
    object_key: str
    kind: str  # OBJECT_WITHOUT_ROW | ROW_WITHOUT_OBJECT
    tenant_id: UUID
    camera_id: UUID
    found_at: datetime
    resolved_at: datetime | None = None
    action: str | None = None  # object_deleted | row_deleted | healed


def hour_floor(instant: datetime) -> datetime:
    return instant.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def hours_to_sweep(swept_until: datetime | None, camera_created: datetime, now: datetime, limit: int) -> list[datetime]:
    """The next hours (their starts) of one camera to sweep, oldest first, at most ``limit``."""
    start = hour_floor(swept_until or camera_created)
    settled = hour_floor(now - SETTLE)
    hours: list[datetime] = []
    while start < settled and len(hours) < limit:
        hours.append(start)
        start += timedelta(hours=1)
    return hours


@dataclass(frozen=True)
class HourFindings:
    objects_without_rows: list[str]
    rows_without_objects: list[str]


def compare(objects: Iterable[str], row_keys: Iterable[str], also_expected: Iterable[str] = ()) -> HourFindings:
    """Objects nobody indexes (nor is about to delete), and index rows whose object is missing."""
    listed = set(objects)
    rows = set(row_keys)
    known = rows | set(also_expected)
    return HourFindings(sorted(listed - known), sorted(k for k in rows if k.endswith(".mp4") and k not in listed))
