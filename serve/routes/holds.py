"""Legal holds: footage of an incident that retention must keep, until a manager or admin releases it."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, HTTPException, Query
from pydantic import AwareDatetime, BaseModel, Field

from domain.holds import Hold
from domain.rbac import Action, Principal
from serve.bodies import bodies, body
from serve.deps import Caller, Res, Resources
from services.scope import camera_in_scope, found_in_scope, require, scoped_tenant
from storage import audit, holds

router = APIRouter(prefix="/holds", tags=["holds"])


class HoldIn(BaseModel):
    camera_ids: list[UUID] = Field(min_length=1, max_length=1000)
    start: AwareDatetime
    end: AwareDatetime
    reason: str = Field(min_length=1, max_length=2000)
    case_number: str = Field(min_length=1, max_length=200)


class ReleaseIn(BaseModel):
    reason: str = Field(min_length=1, max_length=2000)


async def _hold_in_scope(caller: Principal, res: Resources, hold_id: UUID) -> Hold:
    return await found_in_scope(res.pool, caller, "hold", hold_id, lambda tenant: holds.get(res.pool, tenant, hold_id))


@router.post("", status_code=201)
async def create_holds(request: HoldIn, caller: Caller, res: Res) -> list[dict[str, Any]]:
    """Hold [start, end) of each camera (one hold per camera, all or none)."""
    if request.end <= request.start:
        raise HTTPException(422, "end must be after start")
    cameras = [await camera_in_scope(res.pool, caller, cid) for cid in dict.fromkeys(request.camera_ids)]
    tenant_ids = {c.tenant_id for c in cameras}
    if len(tenant_ids) > 1:
        raise HTTPException(422, "cameras of one tenant at a time")
    tenant = tenant_ids.pop()
    require(caller, Action.WRITE, tenant)
    created = await holds.create(res.pool, tenant_id=tenant, camera_ids=[c.id for c in cameras], start=request.start,
                                 end=request.end, reason=request.reason, case_number=request.case_number,
                                 created_by=caller.user_id)
    for hold in created:
        await audit.record(res.pool, caller.user_id, "hold.created", tenant_id=tenant, camera_id=hold.camera_id,
                           start=request.start, end=request.end,
                           detail={"hold_id": str(hold.id), "case_number": request.case_number,
                                   "reason": request.reason})
    return bodies(created)


@router.get("")
async def list_holds(caller: Caller, res: Res, tenant_id: UUID | None = Query(None),
                     active: bool = Query(False, description="only holds not released")) -> list[dict[str, Any]]:
    return bodies(await holds.list_for_tenant(res.pool, scoped_tenant(caller, tenant_id), active_only=active))


@router.get("/{hold_id}")
async def get_hold(hold_id: UUID, caller: Caller, res: Res) -> dict[str, Any]:
    return body(await _hold_in_scope(caller, res, hold_id))


@router.post("/{hold_id}/release")
async def release_hold(hold_id: UUID, release: ReleaseIn, caller: Caller, res: Res) -> dict[str, Any]:
    """A separate, audited decision: the held footage becomes subject to retention again."""
    hold = await _hold_in_scope(caller, res, hold_id)
    require(caller, Action.WRITE, hold.tenant_id)
    released = await holds.release(res.pool, hold_id, caller.user_id, release.reason)
    if released is None:
        raise HTTPException(409, "the hold was already released")
    await audit.record(res.pool, caller.user_id, "hold.released", tenant_id=hold.tenant_id,
                       camera_id=hold.camera_id, start=hold.start, end=hold.end,
                       detail={"hold_id": str(hold_id), "case_number": hold.case_number, "reason": release.reason})
    return body(released)
