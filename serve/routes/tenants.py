"""Tenants (cities): platform admins create and manage them."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, Field

from domain.camera_targets import parse_networks
from domain.city_deletion import TenantDeletion
from domain.rbac import Action
from serve.bodies import bodies, body
from serve.deps import Caller, Res, Resources
from services import plate_view, tenant_admin
from services.city_deletion import deletion_of, deletion_report_file, restore_city, schedule_deletion
from services.scope import found, require, scoped_tenant
from storage import camera_networks, tenants

router = APIRouter(prefix="/tenants", tags=["tenants"])


class TenantIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)


class TenantPatch(BaseModel):
    name: str | None = Field(None, min_length=1, max_length=200)
    camera_networks: list[str] | None = Field(
        None, max_length=256, description="CIDRs the city's camera URLs may point into; null: the deployment's")
    plate_masking: bool | None = Field(None, description="viewers see plates masked (ABC1D**); docs/lpr.md")


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
    return {**body(tenant), **await _networks_json(res, tenant.id), **await plate_view.masking_policy(res.pool, tenant.id)}


@router.patch("/{tenant_id}")
async def update_tenant(tenant_id: UUID, patch: TenantPatch, caller: Caller, res: Res) -> dict[str, Any]:
    """Rename a city, or set its own camera networks (``null``: back to the deployment's); admins only."""
    require(caller, Action.MANAGE_TENANTS)
    if "camera_networks" in patch.model_fields_set:
        networks = None if patch.camera_networks is None else parse_networks(patch.camera_networks)
        await tenant_admin.set_camera_networks(res.pool, caller, tenant_id, networks)
    if patch.plate_masking is not None:
        await plate_view.set_masking_policy(res.pool, caller, tenant_id, patch.plate_masking)
    tenant = (await tenant_admin.rename(res.pool, caller, tenant_id, patch.name.strip()) if patch.name is not None
              else await tenants.get(res.pool, tenant_id))
    return {**body(found(tenant, "tenant")), **await _networks_json(res, tenant_id),
            **await plate_view.masking_policy(res.pool, tenant_id)}


async def _networks_json(res: Resources, tenant_id: UUID) -> dict[str, Any]:
    own = await camera_networks.get(res.pool, tenant_id)
    return {"camera_networks": None if own is None else [str(n) for n in own]}


@router.delete("/{tenant_id}", status_code=202)
async def delete_tenant(tenant_id: UUID, caller: Caller, res: Res) -> dict[str, Any]:
    """Schedule the city's deletion after the grace period (docs/retention.md): its cameras stop and its users
    cannot log in at once; ``POST /tenants/{id}/restore`` cancels until then. 409 while a legal hold is active."""
    deletion = await schedule_deletion(res.pool, caller, tenant_id, res.settings.city_deletion_grace_days)
    return deletion_json(deletion)


@router.post("/{tenant_id}/restore")
async def restore_tenant(tenant_id: UUID, caller: Caller, res: Res) -> dict[str, Any]:
    """Cancel the city's scheduled deletion within the grace period."""
    return deletion_json(await restore_city(res.pool, caller, tenant_id))


@router.get("/{tenant_id}/deletion")
async def tenant_deletion(tenant_id: UUID, caller: Caller, res: Res) -> dict[str, Any]:
    """The city's deletion: its schedule, or once done the final report (admins; also after the city is gone)."""
    return deletion_json(await deletion_of(res.pool, caller, tenant_id))


@router.get("/{tenant_id}/deletion/report.pdf")
async def tenant_deletion_pdf(tenant_id: UUID, caller: Caller, res: Res) -> Response:
    """The final deletion report as a PDF; its signed manifest is at ``report.pdf.manifest`` (docs/evidence.md)."""
    pdf = await deletion_report_file(res.pool, res.store, caller, tenant_id, manifest=False)
    return Response(pdf, media_type="application/pdf",
                    headers={"content-disposition": f'attachment; filename="city-deletion-{tenant_id}.pdf"'})


@router.get("/{tenant_id}/deletion/report.pdf.manifest")
async def tenant_deletion_pdf_manifest(tenant_id: UUID, caller: Caller, res: Res) -> Response:
    manifest = await deletion_report_file(res.pool, res.store, caller, tenant_id, manifest=True)
    return Response(manifest, media_type="application/json")


def deletion_json(deletion: TenantDeletion) -> dict[str, Any]:
    return {"tenant_id": deletion.tenant_id, "tenant_name": deletion.tenant_name, "state": deletion.state,
            "requested_at": deletion.requested_at, "requested_by": deletion.requested_by, "due_at": deletion.due_at,
            "cancelled_at": deletion.cancelled_at, "completed_at": deletion.completed_at, "report": deletion.report,
            "report_key": deletion.report_key}
