"""Saved mosaics (1×1 … 4×4 walls of live video): per user, shareable within the city."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import asyncpg
from fastapi import APIRouter, HTTPException, Response
from pydantic import BaseModel, Field

from domain.mosaic import Layout, Mosaic, fill_slots, may_change
from domain.rbac import Principal, Role
from serve.bodies import bodies, body
from serve.deps import Caller, Res, Resources
from services.scope import camera_in_scope, found, found_in_scope, scoped_tenant
from storage import mosaics

router = APIRouter(prefix="/mosaics", tags=["mosaics"])


class MosaicIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    layout: Layout
    cameras: list[UUID | None] = Field(default_factory=list, max_length=16,
                                       description="row-major slots; null leaves a slot empty")
    shared: bool = False
    tenant_id: UUID | None = None  # platform admins name the city


async def _checked_cameras(caller: Principal, res: Resources, tenant_id: UUID, mosaic: MosaicIn) -> list[UUID | None]:
    try:
        slots = fill_slots(mosaic.layout, mosaic.cameras)
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from None
    for camera_id in filter(None, slots):
        camera = await camera_in_scope(res.pool, caller, camera_id)
        if camera.tenant_id != tenant_id:
            raise HTTPException(422, f"camera {camera_id} belongs to another tenant")
    return slots


async def _visible(caller: Principal, res: Resources, mosaic_id: UUID) -> Mosaic:
    return await found_in_scope(res.pool, caller, "mosaic", mosaic_id, lambda tenant: mosaics.get_visible(
        res.pool, tenant, caller.user_id, mosaic_id, any_owner=caller.role == Role.ADMIN))


_NAME_TAKEN = "you already have a mosaic with this name"


@router.post("", status_code=201)
async def create_mosaic(mosaic: MosaicIn, caller: Caller, res: Res) -> dict[str, Any]:
    tenant = scoped_tenant(caller, mosaic.tenant_id)
    slots = await _checked_cameras(caller, res, tenant, mosaic)
    try:
        return body(await mosaics.create(res.pool, tenant, caller.user_id, mosaic.name.strip(), mosaic.layout.value,
                                         slots, mosaic.shared))
    except asyncpg.UniqueViolationError:
        raise HTTPException(409, _NAME_TAKEN) from None


@router.get("")
async def list_mosaics(caller: Caller, res: Res, tenant_id: UUID | None = None) -> list[dict[str, Any]]:
    return bodies(await mosaics.visible(res.pool, scoped_tenant(caller, tenant_id), caller.user_id))


@router.get("/{mosaic_id}")
async def get_mosaic(mosaic_id: UUID, caller: Caller, res: Res) -> dict[str, Any]:
    return body(await _visible(caller, res, mosaic_id))


@router.put("/{mosaic_id}")
async def replace_mosaic(mosaic_id: UUID, mosaic: MosaicIn, caller: Caller, res: Res) -> dict[str, Any]:
    saved = await _visible(caller, res, mosaic_id)
    if mosaic.tenant_id is not None and mosaic.tenant_id != saved.tenant_id:  # named one city, the mosaic is another's
        raise HTTPException(404, "mosaic not found")
    if not may_change(caller, saved.owner_id):
        raise HTTPException(403, "only its owner or a manager may change this mosaic")
    slots = await _checked_cameras(caller, res, saved.tenant_id, mosaic)
    try:
        updated = await mosaics.update(res.pool, mosaic_id, name=mosaic.name.strip(), layout=mosaic.layout.value,
                                       cameras=slots, shared=mosaic.shared)
    except asyncpg.UniqueViolationError:
        raise HTTPException(409, _NAME_TAKEN) from None
    return body(found(updated, "mosaic"))


@router.delete("/{mosaic_id}", status_code=204)
async def delete_mosaic(mosaic_id: UUID, caller: Caller, res: Res) -> Response:
    saved = await _visible(caller, res, mosaic_id)
    if not may_change(caller, saved.owner_id):
        raise HTTPException(403, "only its owner or a manager may delete this mosaic")
    await mosaics.delete(res.pool, mosaic_id)
    return Response(status_code=204)
