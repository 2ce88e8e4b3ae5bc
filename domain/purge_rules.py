"""Purge rules: what a retention pass may delete, when retention is stalled, and how the report is cut into days.

Storage is UTC; only the report's day boundaries use the tenant's time zone
(America/Sao_Paulo by default), so a DST change elsewhere neither loses nor
doubles an hour of footage in the report: a chunk belongs to exactly one local
day, the day its start falls in.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo


def retention_cutoff(now: datetime, days: int) -> datetime:
    """Chunks that ended before this instant are expired (unless held)."""
    return now - timedelta(days=days)


@dataclass(frozen=True)
class PurgedChunk:
    camera_id: UUID
    start: datetime
    end: datetime
    bytes: int


@dataclass
class ReportLine:
    """What one pass deleted of one camera on one tenant-local day."""

    camera_id: UUID
    local_day: date
    chunks: int
    bytes: int
    first_start: datetime
    last_end: datetime


def local_day(instant: datetime, time_zone: str) -> date:
    return instant.astimezone(ZoneInfo(time_zone)).date()


def report_lines(chunks: Iterable[PurgedChunk], time_zone: str) -> list[ReportLine]:
    """Group deleted chunks by camera and the local day their start falls in."""
    lines: dict[tuple[UUID, date], ReportLine] = {}
    for chunk in chunks:
        key = (chunk.camera_id, local_day(chunk.start, time_zone))
        line = lines.get(key)
        if line is None:
            lines[key] = ReportLine(chunk.camera_id, key[1], 1, chunk.bytes, chunk.start, chunk.end)
        else:
            line.chunks += 1
            line.bytes += chunk.bytes
            line.first_start = min(line.first_start, chunk.start)
            line.last_end = max(line.last_end, chunk.end)
    return sorted(lines.values(), key=lambda line: (str(line.camera_id), line.local_day))


@dataclass(frozen=True)
class ReportRow:
    """A stored line of a pass's report: what it deleted of one camera on one local day, and what holds kept."""

    tenant_id: UUID
    camera_id: UUID
    local_day: date
    chunks: int
    bytes: int
    first_start: datetime | None
    last_end: datetime | None
    held_chunks: int


@dataclass(frozen=True)
class RetentionPass:
    id: int
    trigger: str
    started_at: datetime
    finished_at: datetime | None
    state: str  # running | done | interrupted | failed
    error: str | None
    chunks: int
    bytes: int


REPORT_COLUMNS = tuple(f.name for f in fields(ReportRow))


def report_csv(rows: Iterable[ReportRow]) -> str:
    """The purge report as CSV (UTC instants in ISO 8601 with ms; days are tenant-local)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(REPORT_COLUMNS)
    for row in rows:
        writer.writerow([_cell(getattr(row, c)) for c in REPORT_COLUMNS])
    return out.getvalue()


def _cell(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat(timespec="milliseconds")
    return "" if value is None else str(value)


def is_stalled(last_finished: datetime | None, running_since: datetime | None, now: datetime,
               interval: timedelta) -> bool:
    """A pass is overdue: none finished within 2× the interval (a pass running that long counts as stalled)."""
    if running_since is not None and now - running_since > 2 * interval:
        return True
    return last_finished is None or now - last_finished > 2 * interval
