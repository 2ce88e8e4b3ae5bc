"""Retention passes and their purge reports ("proof of automatic purge"), as JSON, CSV and signed PDF."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from fastapi import APIRouter, HTTPException, Query, Response

from documents.purge_report import purge_report_pdf
from domain.evidence import evidence_key, sign_file
from domain.purge_rules import ReportRow, report_csv
from domain.rbac import Action, Role
from serve.bodies import bodies, body
from serve.deps import Caller, Res, Resources
from services.audit_anchoring import anchor_of_day
from services.scope import require, scoped_tenant
from storage import evidence_labels, orphans, purges

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


async def _report_pdf(pass_id: int, caller: Caller, res: Resources, tenant_id: UUID | None) -> tuple[bytes, str, dict[str, Any]]:
    """The report's PDF, its file name and what its manifest says about it; 409 while the pass runs (the report
    still grows, and the PDF and its manifest must describe the same bytes)."""
    report = await report_json(pass_id, caller, res, tenant_id)
    if report["pass"]["finished_at"] is None:
        raise HTTPException(409, "the pass is still running: its report is signed once it has finished")
    city = tenant_id if caller.role == Role.ADMIN else caller.tenant_id
    lines = report["lines"]
    named_cities = {line["tenant_id"] for line in lines} | ({city} if city else set())
    cities, cameras = await evidence_labels.names(res.pool, sorted(named_cities),
                                                  sorted({line["camera_id"] for line in lines}))
    pdf = purge_report_pdf(report, cities, cameras, city)
    name = f"purge-report-{pass_id}" + (f"-{city}" if city else "") + ".pdf"
    fields = {"pass_id": pass_id, "city": {"id": str(city), "name": cities.get(city)} if city else None,
              "period": {"start": report["pass"]["started_at"].isoformat(), "end": report["pass"]["finished_at"].isoformat()},
              "totals": report["totals"]}
    return pdf, name, fields


@router.get("/passes/{pass_id}/report.pdf")
async def report_as_pdf(pass_id: int, caller: Caller, res: Res, tenant_id: UUID | None = Query(None)) -> Response:
    """The report as a PDF in Portuguese; its signed manifest is at ``report.pdf.manifest`` (docs/evidence.md)."""
    pdf, name, _ = await _report_pdf(pass_id, caller, res, tenant_id)
    return Response(pdf, media_type="application/pdf", headers={
        "content-disposition": f'attachment; filename="{name}"', "x-content-sha256": hashlib.sha256(pdf).hexdigest()})


@router.get("/passes/{pass_id}/report.pdf.manifest")
async def report_pdf_manifest(pass_id: int, caller: Caller, res: Res, tenant_id: UUID | None = Query(None)) -> Any:
    """The signed manifest of ``report.pdf`` (same pass, same city): ``gtvision verify report.pdf manifest.json
    --public-key KEY.pem`` checks the PDF offline."""
    pdf, name, fields = await _report_pdf(pass_id, caller, res, tenant_id)
    return sign_file(evidence_key(res.settings), "purge_report", pdf, file_name=name, media_type="application/pdf",
                     issued_at=datetime.now(UTC).isoformat(), **fields)
