"""Tenants (cities): platform admins create and manage them."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, HTTPException, Query, Response
from pydantic import BaseModel, Field

from domain.camera_targets import parse_networks
from domain.rbac import Action
from serve.bodies import bodies, body
from serve.deps import Caller, Res, Resources
from services import tenant_admin
from services.scope import found, require, scoped_tenant
from storage import camera_networks, tenants

router = APIRouter(prefix="/tenants", tags=["tenants"])


class TenantIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)


class TenantPatch(BaseModel):
    name: str | None = Field(None, min_length=1, max_length=200)
    camera_networks: list[str] | None = Field(
        None, max_length=256, description="CIDRs the city's camera URLs may point into; null: the deployment's")


@router.post("", status_code=201)
async def create_tenant(tenant: TenantIn, caller: Caller, res: Res) -> dict[str, Any]:
    require(caller, Action.MANAGE_TENANTS)
    return body(await tenant_admin.create(res.pool, caller, tenant.name.strip()))


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
    tenant = found(await tenants.get(res.pool, scoped_tenant(caller, tenant_id)), "tenant")
    return {**body(tenant), **await _networks_json(res, tenant.id)}


@router.patch("/{tenant_id}")
async def update_tenant(tenant_id: UUID, patch: TenantPatch, caller: Caller, res: Res) -> dict[str, Any]:
    """Rename a city, or set its own camera networks (``null``: back to the deployment's); admins only."""
    require(caller, Action.MANAGE_TENANTS)
    if "camera_networks" in patch.model_fields_set:
        networks = None if patch.camera_networks is None else parse_networks(patch.camera_networks)
        await tenant_admin.set_camera_networks(res.pool, caller, tenant_id, networks)
    tenant = (await tenant_admin.rename(res.pool, caller, tenant_id, patch.name.strip()) if patch.name is not None
              else await tenants.get(res.pool, tenant_id))
    return {**body(found(tenant, "tenant")), **await _networks_json(res, tenant_id)}


async def _networks_json(res: Resources, tenant_id: UUID) -> dict[str, Any]:
    own = await camera_networks.get(res.pool, tenant_id)
    return {"camera_networks": None if own is None else [str(n) for n in own]}


@router.delete("/{tenant_id}", status_code=204)
async def delete_tenant(tenant_id: UUID, caller: Caller, res: Res) -> Response:
    require(caller, Action.MANAGE_TENANTS)
    if not await tenants.delete(res.pool, tenant_id):
        raise HTTPException(404, "tenant not found")
    return Response(status_code=204)
