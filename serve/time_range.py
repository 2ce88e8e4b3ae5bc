"""Checking a requested time range, the same way on every endpoint that takes one."""

from __future__ import annotations

from datetime import datetime, timedelta

from fastapi import HTTPException


def checked_range(start: datetime, end: datetime, longest: timedelta) -> tuple[datetime, datetime]:
    """``start`` and ``end`` if they make a usable range, else a 422 that says why."""
    if start.tzinfo is None or end.tzinfo is None:
        raise HTTPException(422, "start and end need a time zone (e.g. 2026-01-01T00:00:00Z)")
    if end <= start:
        raise HTTPException(422, "end must be after start")
    if end - start > longest:
        raise HTTPException(422, f"range longer than the maximum of {_human(longest)}")
    return start, end


def _human(span: timedelta) -> str:
    seconds = int(span.total_seconds())
    if seconds % 86400 == 0:
        return f"{seconds // 86400} days"
    if seconds % 3600 == 0:
        return f"{seconds // 3600} hours"
    return f"{seconds} seconds"
