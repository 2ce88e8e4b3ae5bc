"""What a clip's manifest says about it: camera, city, the range asked for and the range exported (in UTC and in
the city's local time), the file, who exported it and when, and the audit row of the export.

Pure: the exporter gathers the facts (services/clip_export.py) and signs the document (domain/evidence.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from domain.clips import ClipJob
from domain.evidence import document


@dataclass(frozen=True)
class ClipLabels:
    """The names a manifest gives next to the ids (read when the clip is exported: they may change later)."""

    camera_name: str
    city_name: str
    time_zone: str
    username: str | None


def clip_file_name(clip_id: UUID) -> str:
    return f"clip-{clip_id}.mp4"


def clip_manifest_key(clip_object_key: str) -> str:
    """The manifest sits beside the clip: ``….mp4`` → ``….manifest.json``."""
    return clip_object_key.removesuffix(".mp4") + ".manifest.json"


def instants(start: datetime, end: datetime, time_zone: str) -> dict[str, str]:
    """A range in UTC and in local time, ISO 8601 with the offset."""
    zone = ZoneInfo(time_zone)
    return {"start_utc": start.astimezone(UTC).isoformat(), "end_utc": end.astimezone(UTC).isoformat(),
            "start_local": start.astimezone(zone).isoformat(), "end_local": end.astimezone(zone).isoformat()}


def clip_document(job: ClipJob, labels: ClipLabels, *, first_frame_at: datetime, last_frame_at: datetime,
                  size: int, sha256: str, exported_at: datetime, audit_row_hash: str) -> dict[str, Any]:
    """The ``document`` of a clip's manifest."""
    return document(
        "clip", file_name=clip_file_name(job.id), media_type="video/mp4", size=size, sha256=sha256,
        clip_id=str(job.id),
        camera={"id": str(job.camera_id), "name": labels.camera_name},
        city={"id": str(job.tenant_id), "name": labels.city_name, "time_zone": labels.time_zone},
        requested_range=instants(job.start_at, job.end_at, labels.time_zone),
        actual_range=instants(first_frame_at, last_frame_at, labels.time_zone),
        exported_by={"user_id": str(job.requested_by), "username": labels.username},
        exported_at=exported_at.astimezone(UTC).isoformat(),
        audit_row_hash=audit_row_hash,
    )
