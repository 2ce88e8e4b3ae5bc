"""Uptime of a camera over a period, from its status history (pure)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from domain.camera_state import CameraState

UNKNOWN = "unknown"  # before the first transition we know of (camera not yet created, or history lost)


@dataclass(frozen=True)
class Uptime:
    seconds_by_state: dict[str, float]
    uptime_ratio: float | None  # streaming / time with a known state; None when nothing is known


def uptime(history: Sequence[tuple[datetime, str]], start: datetime, end: datetime) -> Uptime:
    """Seconds spent in each state over [start, end).

    ``history`` is (instant, state entered) in time order and may begin before
    ``start`` (the state in force at ``start``).
    """
    if end <= start:
        raise ValueError("end must be after start")
    seconds: dict[str, float] = {}
    state, since = UNKNOWN, start
    for at, entered in history:
        if at >= end:
            break
        if at > since:
            seconds[state] = seconds.get(state, 0.0) + (at - since).total_seconds()
            since = at
        state = entered
    seconds[state] = seconds.get(state, 0.0) + (end - since).total_seconds()
    known = sum(v for k, v in seconds.items() if k != UNKNOWN)
    streaming = seconds.get(CameraState.STREAMING.value, 0.0)
    return Uptime({k: round(v, 3) for k, v in seconds.items()}, round(streaming / known, 6) if known else None)
