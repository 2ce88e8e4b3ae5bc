"""Evidence clips: which bytes of which chunks make a clip of [start, end).

A clip starts at the keyframe at or before ``start`` (a clip that starts
mid-GOP cannot be decoded) and ends with the fragment that covers ``end``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from domain.recording import IndexedChunk, fragments_overlapping, to_epoch_ms


@dataclass(frozen=True)
class ClipJob:
    """An export job as its row holds it: queued → running → done | failed, with the result once done."""

    id: UUID
    tenant_id: UUID
    camera_id: UUID
    requested_by: UUID
    start_at: datetime
    end_at: datetime
    state: str  # queued | running | done | failed
    progress: float
    attempts: int
    object_key: str | None
    bytes: int | None
    sha256: str | None
    first_frame_at: datetime | None
    last_frame_at: datetime | None
    error: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


@dataclass(frozen=True)
class PiecePlan:
    """Read ``init_length`` bytes and then [offset, offset + length) of ``object_key``."""

    object_key: str
    init_length: int
    offset: int
    length: int
    wall_start_ms: int
    duration_ms: int


def plan_clip(chunks: Iterable[IndexedChunk], start: datetime, end: datetime) -> list[PiecePlan]:
    """Pieces of a clip from indexed chunks in time order."""
    plan: list[PiecePlan] = []
    for chunk in chunks:
        fragments = fragments_overlapping(chunk.start, chunk.fragments, start, end)
        if not fragments:
            continue
        first, last = fragments[0], fragments[-1]
        plan.append(PiecePlan(
            chunk.object_key, chunk.init_length, first.offset, last.offset + last.length - first.offset,
            to_epoch_ms(chunk.start + timedelta(milliseconds=first.start_ms)),
            last.start_ms + last.duration_ms - first.start_ms,
        ))
    return plan


def clip_object_key(tenant_id: UUID, clip_id: UUID) -> str:
    return f"t/{tenant_id}/clips/{clip_id}.mp4"
