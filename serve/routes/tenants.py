"""Tenants (cities): platform admins create and manage them."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, HTTPException, Query, Response
from pydantic import BaseModel, Field

from domain.rbac import Action
from serve.bodies import bodies, body
from serve.deps import Caller, Res
from services.scope import found, require, scoped_tenant
from storage import tenants

router = APIRouter(prefix="/tenants", tags=["tenants"])


class TenantIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)


@router.post("", status_code=201)
async def create_tenant(tenant: TenantIn, caller: Caller, res: Res) -> dict[str, Any]:
    require(caller, Action.MANAGE_TENANTS)
    return body(await tenants.create(res.pool, tenant.name.strip()))


@router.get("")
async def list_tenants(
    caller: Caller, res: Res, limit: int = Query(100, ge=1, le=1000), offset: int = Query(0, ge=0)
) -> list[dict[str, Any]]:
    if caller.tenant_id is not None:
        own = await tenants.get(res.pool, caller.tenant_id)
        return [body(own)] if own else []
    return bodies(await tenants.list_all(res.pool, limit=limit, offset=offset))


@router.get("/{tenant_id}")
async def get_tenant(tenant_id: UUID, caller: Caller, res: Res) -> dict[str, Any]:
    return body(found(await tenants.get(res.pool, scoped_tenant(caller, tenant_id)), "tenant"))


@router.patch("/{tenant_id}")
async def rename_tenant(tenant_id: UUID, tenant: TenantIn, caller: Caller, res: Res) -> dict[str, Any]:
    require(caller, Action.MANAGE_TENANTS)
    return body(found(await tenants.rename(res.pool, tenant_id, tenant.name.strip()), "tenant"))


@router.delete("/{tenant_id}", status_code=204)
async def delete_tenant(tenant_id: UUID, caller: Caller, res: Res) -> Response:
    require(caller, Action.MANAGE_TENANTS)
    if not await tenants.delete(res.pool, tenant_id):
        raise HTTPException(404, "tenant not found")
    return Response(status_code=204)
