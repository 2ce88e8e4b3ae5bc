"""Whose clip export runs next: a round robin across cities, so one city's flood of jobs never delays another's.

Exporters are shared by every city. The next job is the oldest queued job of
the city that has waited longest since its last job started (a city that never
had one goes first), among the cities with queued jobs and fewer running jobs
than their plan allows. A city queueing 100 jobs thus gets one turn in every
round, and any other city's job starts within one job's time.

storage/clips.py ``claim_next`` applies this rule in one SQL statement; this
is the rule itself, tested without a database.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID

_NEVER = datetime.min.replace(tzinfo=UTC)


@dataclass(frozen=True)
class CityQueue:
    """A city's export jobs as the claim sees them."""

    tenant_id: UUID
    queued: int
    running: int
    running_max: int  # the plan's clip_jobs_running_max
    last_claim: datetime | None  # when its most recent job started; None: never
    oldest_queued: datetime | None


def may_start(city: CityQueue) -> bool:
    return city.queued > 0 and city.running < city.running_max


def turn_order(city: CityQueue) -> tuple[datetime, datetime, str]:
    """Sort key: never-claimed cities first, then the oldest last claim; ties by the oldest queued job, then id."""
    return (city.last_claim or _NEVER, city.oldest_queued or _NEVER, str(city.tenant_id))


def next_city(cities: Iterable[CityQueue]) -> UUID | None:
    """The city whose oldest queued job is claimed next, or None if no city may start a job."""
    ready = [c for c in cities if may_start(c)]
    if not ready:
        return None
    return min(ready, key=turn_order).tenant_id
