"""Evidence clips: which bytes of which chunks make a clip of [start, end).

A clip starts at the keyframe at or before ``start`` (a clip that starts
mid-GOP cannot be decoded) and ends with the fragment that covers ``end``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from domain.recording import FragmentEntry, fragments_overlapping, to_epoch_ms


@dataclass(frozen=True)
class PiecePlan:
    """Read ``init_length`` bytes and then [offset, offset + length) of ``object_key``."""

    object_key: str
    init_length: int
    offset: int
    length: int
    wall_start_ms: int
    duration_ms: int


def plan_clip(chunks: Iterable[Mapping[str, Any]], start: datetime, end: datetime) -> list[PiecePlan]:
    """Pieces of a clip from index rows (``start``, ``object_key``, ``init_length``, ``fragments``) in time order."""
    plan: list[PiecePlan] = []
    for chunk in chunks:
        fragments = fragments_overlapping(chunk["start"], [FragmentEntry.from_row(f) for f in chunk["fragments"]],
                                          start, end)
        if not fragments:
            continue
        first, last = fragments[0], fragments[-1]
        plan.append(PiecePlan(
            chunk["object_key"], chunk["init_length"], first.offset, last.offset + last.length - first.offset,
            to_epoch_ms(chunk["start"] + timedelta(milliseconds=first.start_ms)),
            last.start_ms + last.duration_ms - first.start_ms,
        ))
    return plan


def clip_object_key(tenant_id: object, clip_id: object) -> str:
    return f"t/{tenant_id}/clips/{clip_id}.mp4"
