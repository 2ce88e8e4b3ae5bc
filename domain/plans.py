"""Plans: how long a city keeps footage and how many cameras, users and bytes it may have.

Quotas are enforced in the same transaction as the insert they guard
(storage/plans.py); here are only the rules and the refusal's words.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from uuid import UUID


@dataclass(frozen=True)
class Plan:
    id: UUID
    name: str
    retention_days: int
    camera_quota: int
    manager_quota: int
    viewer_quota: int
    storage_quota_bytes: int | None
    lpr_retention_days: int | None = None  # plate reads in the clear; None: retention_days (domain/lpr/retention.py)
    clip_jobs_max: int = 20  # clip export jobs queued or running per city (services/clip_requests.py)
    clip_jobs_running_max: int = 1  # of those, how many export at once (storage/clips.py claim_next)
    clip_retention_days: int | None = None  # finished clips kept this long; None: until deleted
    live_viewers_max: int | None = None  # live streams open at once; None: 16 per user (domain/viewer_admission.py)


class Quota(StrEnum):
    CAMERAS = "cameras"
    MANAGERS = "managers"
    VIEWERS = "viewers"


def quota_limit(plan: Plan, quota: Quota) -> int:
    return {Quota.CAMERAS: plan.camera_quota, Quota.MANAGERS: plan.manager_quota,
            Quota.VIEWERS: plan.viewer_quota}[quota]


def quota_refusal(plan: Plan, quota: Quota, current: int) -> str | None:
    """Why one more is refused (the message of a 409), or None if it fits."""
    limit = quota_limit(plan, quota)
    if current < limit:
        return None
    return f"the plan '{plan.name}' allows {limit} {quota.value} per city and this city has {current}"


def clip_jobs_refusal(plan: Plan, pending: int) -> str | None:
    """Why one more clip export job is refused (the message of a 429), or None if it fits; ``pending`` is how
    many the city has queued or running."""
    if pending < plan.clip_jobs_max:
        return None
    return (f"the plan '{plan.name}' allows {plan.clip_jobs_max} clip exports queued or running per city and this"
            f" city has {pending}: wait for some to finish")


@dataclass(frozen=True)
class TenantPolicy:
    """What a retention pass needs of a city: its plan's limits, its report zone, and whether it is paused."""

    id: UUID
    time_zone: str
    recording_paused: str | None
    retention_days: int
    storage_quota_bytes: int | None
