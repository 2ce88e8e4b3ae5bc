"""The clip queue's pure rules: whose export runs next (round robin across cities) and the per-city job limit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

from domain.clip_turns import CityQueue, next_city
from domain.plans import Plan, clip_jobs_refusal
from serve.errors import status_for
from services.refusals import TooMany

T0 = datetime(2026, 11, 30, 12, tzinfo=UTC)


def _city(queued: int = 1, running: int = 0, running_max: int = 1, last_claim: datetime | None = None,
          oldest: datetime | None = T0) -> CityQueue:
    return CityQueue(uuid4(), queued, running, running_max, last_claim, oldest if queued else None)


def test_the_city_that_waited_longest_since_its_last_job_goes_next() -> None:
    flooding = _city(queued=30, last_claim=T0 + timedelta(minutes=5), oldest=T0)
    patient = _city(queued=1, last_claim=T0 + timedelta(minutes=1), oldest=T0 + timedelta(minutes=9))
    assert next_city([flooding, patient]) == patient.tenant_id


def test_a_city_that_never_had_a_job_goes_before_any_that_had() -> None:
    flooding = _city(queued=30, last_claim=T0, oldest=T0 - timedelta(hours=1))
    newcomer = _city(queued=1, last_claim=None, oldest=T0 + timedelta(minutes=1))
    assert next_city([flooding, newcomer]) == newcomer.tenant_id


def test_ties_go_to_the_oldest_queued_job() -> None:
    later = _city(oldest=T0 + timedelta(seconds=1))
    earlier = _city(oldest=T0)
    assert next_city([later, earlier]) == earlier.tenant_id


def test_a_city_at_its_running_limit_or_with_nothing_queued_waits() -> None:
    busy = _city(queued=5, running=1, running_max=1, last_claim=None)
    empty = _city(queued=0, last_claim=None)
    other = _city(queued=1, last_claim=T0)
    assert next_city([busy, empty, other]) == other.tenant_id
    assert next_city([busy, empty]) is None
    roomy = _city(queued=5, running=1, running_max=2, last_claim=T0)
    assert next_city([busy, roomy]) == roomy.tenant_id


def test_the_queued_limit_refusal_names_the_limit_and_the_count() -> None:
    plan = Plan(uuid4(), "Básico", 30, camera_quota=10, manager_quota=1, viewer_quota=5, storage_quota_bytes=None,
                clip_jobs_max=3)
    assert clip_jobs_refusal(plan, 2) is None
    refusal = clip_jobs_refusal(plan, 3)
    assert refusal is not None and "allows 3 clip exports" in refusal and "has 3" in refusal and "Básico" in refusal


def test_too_many_is_a_429() -> None:
    assert status_for(TooMany("x")) == 429
