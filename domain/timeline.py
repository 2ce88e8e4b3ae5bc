"""A camera's timeline: recorded runs and the gaps between them, clipped to a range.

Runs come from the index (storage/timeline.py groups chunks into runs); the
gaps are what the range holds besides them. All instants are UTC.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID


@dataclass(frozen=True)
class Span:
    start: datetime
    end: datetime


@dataclass(frozen=True)
class RecordedRun:
    """A contiguous recording of one camera as the index groups it: its span, chunks and bytes (unclipped)."""

    camera_id: UUID
    start: datetime
    end: datetime
    chunks: int
    bytes: int

    @property
    def span(self) -> Span:
        return Span(self.start, self.end)


def clip(spans: list[Span], start: datetime, end: datetime) -> list[Span]:
    """The parts of ``spans`` (sorted, non-overlapping) inside [start, end)."""
    return [Span(max(s.start, start), min(s.end, end)) for s in spans if s.end > start and s.start < end]


def gaps(runs: list[Span], start: datetime, end: datetime) -> list[Span]:
    """What [start, end) holds besides ``runs`` (sorted, non-overlapping)."""
    holes: list[Span] = []
    cursor = start
    for run in clip(runs, start, end):
        if run.start > cursor:
            holes.append(Span(cursor, run.start))
        cursor = max(cursor, run.end)
    if cursor < end:
        holes.append(Span(cursor, end))
    return holes
