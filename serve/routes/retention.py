"""Retention passes and their purge reports ("proof of automatic purge"), as JSON and CSV."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, HTTPException, Query, Response

from domain.purge_rules import ReportRow, report_csv
from domain.rbac import Action, Role
from serve.bodies import bodies, body
from serve.deps import Caller, Res, Resources
from services.audit_anchoring import anchor_of_day
from services.scope import require, scoped_tenant
from storage import orphans, purges

router = APIRouter(prefix="/retention", tags=["retention"])

_RUN_TIMEOUT_S = 1800.0


@router.post("/run")
async def run_pass(caller: Caller, res: Res) -> dict[str, Any]:
    """Run a pass now and wait for it (platform admins)."""
    require(caller, Action.MANAGE_TENANTS)
    try:
        result = await res.actors.run_retention("api", _RUN_TIMEOUT_S)
    except TimeoutError:
        raise HTTPException(504, "the pass is still running; see GET /retention/passes") from None
    return result


@router.get("/status")
async def status(caller: Caller, res: Res) -> dict[str, Any]:
    require(caller, Action.MANAGE_TENANTS)
    return await res.actors.retention_health()


@router.get("/passes")
async def passes(caller: Caller, res: Res, limit: int = Query(50, ge=1, le=1000)) -> list[dict[str, Any]]:
    """Admins see every pass with the platform's totals; a manager sees the passes with their city's totals only
    (what they deleted of it), like the reports; viewers may not (403)."""
    if caller.role == Role.ADMIN:
        return bodies(await purges.passes(res.pool, limit=limit))
    tenant = scoped_tenant(caller, None)
    require(caller, Action.WRITE, tenant)
    return bodies(await purges.passes_of_tenant(res.pool, tenant, limit=limit))


async def _report(caller: Caller, res: Resources, pass_id: int, tenant_id: UUID | None) -> list[ReportRow]:
    """Admins see every tenant's lines (or one's); a manager sees their city's."""
    tenant = tenant_id if caller.role == Role.ADMIN else scoped_tenant(caller, tenant_id)
    require(caller, Action.WRITE, tenant)
    if await purges.get_pass(res.pool, pass_id) is None:
        raise HTTPException(404, "retention pass not found")
    return await purges.report(res.pool, pass_id, tenant)


@router.get("/passes/{pass_id}/report.json")
async def report_json(pass_id: int, caller: Caller, res: Res,
                      tenant_id: UUID | None = Query(None)) -> dict[str, Any]:
    """What the pass deleted, per tenant, camera and tenant-local day, and the expired chunks holds kept; with the
    audit chain's anchor of the pass's (UTC) day — ``last_id`` and ``row_hash`` — once written (docs/audit.md)."""
    lines = await _report(caller, res, pass_id, tenant_id)
    retention_pass = await purges.get_pass(res.pool, pass_id)
    anchor = await anchor_of_day(res.store, retention_pass.started_at) if retention_pass else None
    return {"pass": body(retention_pass) if retention_pass else None, "lines": bodies(lines),
            "totals": {"chunks": sum(r.chunks for r in lines), "bytes": sum(r.bytes for r in lines),
                       "held_chunks": sum(r.held_chunks for r in lines)},
            "audit_anchor": anchor.to_json() if anchor else None}


@router.get("/passes/{pass_id}/report.csv")
async def report_as_csv(pass_id: int, caller: Caller, res: Res, tenant_id: UUID | None = Query(None)) -> Response:
    lines = await _report(caller, res, pass_id, tenant_id)
    return Response(report_csv(lines), media_type="text/csv",
                    headers={"content-disposition": f'attachment; filename="purge-report-{pass_id}.csv"'})


@router.get("/orphans")
async def orphan_findings(caller: Caller, res: Res, tenant_id: UUID | None = Query(None),
                          limit: int = Query(1000, ge=1, le=10_000)) -> list[dict[str, Any]]:
    """What the orphan sweep found: objects without index rows, rows without objects (and what was done)."""
    tenant = tenant_id if caller.role == Role.ADMIN else scoped_tenant(caller, tenant_id)
    require(caller, Action.WRITE, tenant)
    return bodies(await orphans.findings(res.pool, tenant, limit=limit))
