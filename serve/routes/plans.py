"""Plans (retention days and quotas), which city has which (admins decide, audited), and a city's health."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, Field, field_validator

from domain.rbac import Action, Role
from domain.tenant_health import rollup
from domain.viewer_admission import live_viewer_limit
from serve.bodies import bodies, body
from serve.deps import Caller, Res, Resources
from services import tenant_admin, viewer_admission
from services.scope import found, require, scoped_tenant
from storage import audit, city_storage, plans
from storage import tenant_health as tenant_health_store

router = APIRouter(tags=["plans"])
_COORDINATOR_TIMEOUT_S = 2.0


class PlanIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    retention_days: int = Field(ge=1, le=3650)
    camera_quota: int = Field(ge=0, le=1000)
    manager_quota: int = Field(1, ge=0, le=1000)
    viewer_quota: int = Field(5, ge=0, le=100_000)
    storage_quota_bytes: int | None = Field(None, gt=0)
    lpr_retention_days: int | None = Field(
        None, ge=1, le=3650, description="days plate reads keep their plate and images (then anonymized);"
                                         " null: retention_days")
    clip_jobs_max: int = Field(20, ge=1, le=10_000, description="clip exports a city may have queued or running;"
                                                                 " past it POST /clips answers 429")
    clip_jobs_running_max: int = Field(1, ge=1, le=100, description="of those, how many export at once")
    clip_retention_days: int | None = Field(
        None, ge=1, le=3650, description="days a finished clip is kept (then deleted unless a legal hold covers it);"
                                         " null: until someone deletes it")
    live_viewers_max: int | None = Field(
        None, ge=1, le=100_000, description="live streams the city may watch at once (past it a live socket is"
                                            " closed with 4429); null: 16 per user of the city, at least 16")


class PlanChoice(BaseModel):
    plan_id: UUID


class TimeZoneIn(BaseModel):
    time_zone: str = Field(min_length=1, max_length=100, description="IANA zone, e.g. America/Sao_Paulo")

    @field_validator("time_zone")
    @classmethod
    def _known(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (use an IANA name such as America/Sao_Paulo)") from None
        return value


@router.get("/plans")
async def list_plans(caller: Caller, res: Res) -> list[dict[str, Any]]:
    """Admins see every plan; anyone else only their city's (plans an admin made for other cities name them and
    their quotas)."""
    if caller.role == Role.ADMIN:
        return bodies(await plans.list_all(res.pool))
    return [body(found(await plans.of_tenant(res.pool, scoped_tenant(caller, None)), "tenant"))]


@router.post("/plans", status_code=201)
async def create_plan(plan_in: PlanIn, caller: Caller, res: Res) -> dict[str, Any]:
    require(caller, Action.MANAGE_TENANTS)
    plan = await plans.create(res.pool, **plan_in.model_dump())
    await audit.record(res.pool, caller.user_id, "plan.created", tenant_id=None, detail=body(plan))
    return body(plan)


@router.get("/tenants/{tenant_id}/plan")
async def tenant_plan(tenant_id: UUID, caller: Caller, res: Res) -> dict[str, Any]:
    return body(found(await plans.of_tenant(res.pool, scoped_tenant(caller, tenant_id)), "tenant"))


@router.put("/tenants/{tenant_id}/plan")
async def assign_plan(tenant_id: UUID, choice: PlanChoice, caller: Caller, res: Res) -> dict[str, Any]:
    """Takes effect on the next retention pass (and for quotas at once)."""
    require(caller, Action.MANAGE_TENANTS)
    before = found(await plans.of_tenant(res.pool, tenant_id), "tenant")
    if choice.plan_id not in {p.id for p in await plans.list_all(res.pool)}:
        raise HTTPException(422, "no such plan")
    await plans.assign(res.pool, tenant_id, choice.plan_id)
    after = await plans.of_tenant(res.pool, tenant_id)
    assert after is not None
    await audit.record(res.pool, caller.user_id, "plan.assigned", tenant_id=tenant_id,
                       detail={"from": body(before), "to": body(after)})
    return body(after)


@router.get("/tenants/{tenant_id}/health")
async def tenant_health(tenant_id: UUID, caller: Caller, res: Res) -> dict[str, Any]:
    """The city's dashboard: cameras online/offline/error, recording lag, storage and quota use."""
    tenant = scoped_tenant(caller, tenant_id)
    plan = found(await plans.of_tenant(res.pool, tenant), "tenant")
    cameras = await tenant_health_store.cameras(res.pool, tenant)
    usage = await tenant_health_store.usage(res.pool, tenant)
    stored = await city_storage.of_city(res.pool, tenant)
    live = await viewer_admission.watching(res.pool, tenant)
    return {
        "tenant_id": tenant, "at": datetime.now(UTC), "plan": body(plan),
        **rollup(cameras, datetime.now(UTC)),
        # What the quota counts: everything the city stores, kept current as it is written and deleted.
        "storage": {"recorded_bytes": stored.recordings, "chunks": usage.chunks, "bytes": stored.by_kind(),
                    "total_bytes": stored.total, "quota_bytes": plan.storage_quota_bytes,
                    "used_ratio": round(stored.total / plan.storage_quota_bytes, 4)
                    if plan.storage_quota_bytes else None},
        "quotas": {"cameras": {"used": len(cameras), "limit": plan.camera_quota},
                   "managers": {"used": usage.managers, "limit": plan.manager_quota},
                   "viewers": {"used": usage.viewers, "limit": plan.viewer_quota}},
        "active_holds": usage.active_holds, "recording_paused": usage.recording_paused,
        # Every replica's live viewers, and how many the city may have at once.
        "live": {"viewers": sum(live.values()), "by_camera": {str(c): n for c, n in live.items()},
                 "limit": live_viewer_limit(plan.live_viewers_max, usage.managers + usage.viewers)},
        "coordinator": await _coordinator(res, tenant),
    }


async def _coordinator(res: Resources, tenant_id: UUID) -> dict[str, Any]:
    """What the city's coordinator holds (its host, its fair share of the store and what the city stores beyond
    it), or why there is nothing to show: the rest of the health never waits on it for more than a moment."""
    try:
        state = await res.actors.city_state(tenant_id, _COORDINATOR_TIMEOUT_S)
    except Exception as exc:  # the Fleet or the city host restarting, or this app not on Ray
        return {"available": False, "reason": f"coordinator not reachable: {type(exc).__name__}"}
    if state is None:
        return {"available": False, "reason": "coordinator not placed yet"}
    return {"available": True, "host": state["host"], "share_bytes": state["share_bytes"],
            "excess_bytes": state["excess_bytes"], "clip_jobs": state["clip_jobs"]}


@router.put("/tenants/{tenant_id}/time-zone")
async def set_time_zone(tenant_id: UUID, zone: TimeZoneIn, caller: Caller, res: Res) -> dict[str, Any]:
    """The zone of the city's report days (storage stays UTC)."""
    require(caller, Action.MANAGE_TENANTS)
    return body(await tenant_admin.set_time_zone(res.pool, caller, tenant_id, zone.time_zone))
