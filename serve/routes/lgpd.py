"""LGPD data-subject rights for plates: a plate's report and its export (JSON, CSV, PDF), its anonymization, and
the requests that ask for them. Managers of the city and platform admins only (viewers: 403); the work and its
audit rows are services/plate_subjects.py's.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, Field

from documents.pdf import render_pdf
from domain.lgpd_requests import LgpdRequest, RequestKind, is_overdue
from domain.lpr.pseudonym import KEY_PURPOSE
from domain.lpr.subject_report import SubjectReport, report_csv, report_pdf_table
from serve.bodies import body
from serve.deps import Caller, Res, Resources
from services import plate_subjects
from services.plate_subjects import Subject
from services.scope import scoped_tenant

router = APIRouter(prefix="/lgpd", tags=["lgpd"])


class ExportFormat(StrEnum):
    JSON = "json"
    CSV = "csv"
    PDF = "pdf"


class AnonymizeIn(BaseModel):
    legal_basis: str = Field(min_length=1, max_length=2000, description="why (e.g. LGPD art. 18, IV, and the act)")
    request_reference: str | None = Field(None, max_length=200, description="the protocol number, if any")
    note: str | None = Field(None, max_length=2000)
    request_id: UUID | None = Field(None, description="an open anonymize request this completes")
    tenant_id: UUID | None = None


class RequestIn(BaseModel):
    kind: RequestKind
    plate: str = Field(min_length=1, max_length=20)
    legal_basis: str = Field(min_length=1, max_length=2000)
    request_reference: str | None = Field(None, max_length=200)
    note: str | None = Field(None, max_length=2000)
    received_at: datetime | None = Field(None, description="when the subject asked (default: now); starts the"
                                                           " 15-day deadline")
    tenant_id: UUID | None = None


def _subject(caller: Caller, res: Resources, plate: str, tenant_id: UUID | None) -> Subject:
    return plate_subjects.subject(caller, scoped_tenant(caller, tenant_id), plate, res.settings.key(KEY_PURPOSE))


def _request_body(request: LgpdRequest | None, now: datetime) -> dict[str, Any] | None:
    return None if request is None else {**body(request), "overdue": is_overdue(request, now)}


def _report_body(found: SubjectReport, urls: dict[str, str] | None) -> dict[str, Any]:
    reads = [{**body(read), "images": [{"key": key, "url": urls.get(key)} for key in read.image_keys]}
             if urls is not None else body(read) for read in found.reads]
    return {"tenant_id": found.tenant_id, "plate": found.plate, "generated_at": found.generated_at, "reads": reads,
            "lookups": [body(lookup) for lookup in found.lookups], "reads_truncated": found.reads_truncated,
            "lookups_truncated": found.lookups_truncated}


@router.get("/plates/{plate}", response_model=None)
async def plate_report(plate: str, caller: Caller, res: Res, tenant_id: UUID | None = Query(None),
                       format: ExportFormat | None = Query(None, description="download as json, csv or pdf"),
                       request_id: UUID | None = Query(None, description="an open access/export request this"
                                                                          " completes")) -> dict[str, Any] | Response:
    """Every read of the plate in the city (camera, times, images) and who searched for it or exported it. With
    ``format``, a download (an export, audited as such); without, the report (image URLs valid 15 minutes)."""
    who = _subject(caller, res, plate, tenant_id)
    now = datetime.now(UTC)
    found, completed = await plate_subjects.report(res.pool, caller, who, now=now, request_id=request_id,
                                                   export_format=format.value if format else None)
    if format is None:
        urls = await plate_subjects.image_urls(res.store, found)
        return {**_report_body(found, urls), "request": _request_body(completed, now)}
    name = f"lgpd-{who.plate}-{now:%Y%m%d}"
    if format == ExportFormat.CSV:
        return Response(report_csv(found), media_type="text/csv",
                        headers={"content-disposition": f'attachment; filename="{name}.csv"'})
    if format == ExportFormat.PDF:
        pdf = await asyncio.to_thread(render_pdf, *report_pdf_table(found))
        return Response(pdf, media_type="application/pdf",
                        headers={"content-disposition": f'attachment; filename="{name}.pdf"'})
    document = json.dumps({**_report_body(found, None), "request": _request_body(completed, now)}, default=str,
                          ensure_ascii=False, indent=1)
    return Response(document.encode(), media_type="application/json",
                    headers={"content-disposition": f'attachment; filename="{name}.json"'})


@router.post("/plates/{plate}/anonymize")
async def anonymize_plate(plate: str, anonymize: AnonymizeIn, caller: Caller, res: Res) -> dict[str, Any]:
    """The plate becomes its pseudonym in every read of the city (reads kept for counts), its images are deleted,
    the city's watchlist entries for it removed; the answer and the audit name only the pseudonym."""
    who = _subject(caller, res, plate, anonymize.tenant_id)
    done = await plate_subjects.anonymize(res.pool, res.store, caller, who, legal_basis=anonymize.legal_basis,
                                          request_reference=anonymize.request_reference, note=anonymize.note,
                                          request_id=anonymize.request_id)
    return {"tenant_id": who.tenant_id, "plate_pseudonym": done.pseudonym, "reads": done.reads,
            "images": done.images, "images_deleted": done.images_deleted, "watch_entries": done.watch_entries,
            "request": _request_body(done.request, datetime.now(UTC))}


@router.post("/requests", status_code=201)
async def open_request(request: RequestIn, caller: Caller, res: Res) -> dict[str, Any]:
    """Record a subject's request; it is due 15 days after ``received_at`` (LGPD art. 19, II)."""
    who = _subject(caller, res, request.plate, request.tenant_id)
    now = datetime.now(UTC)
    opened = await plate_subjects.open_request(
        res.pool, caller, who, kind=request.kind, legal_basis=request.legal_basis,
        request_reference=request.request_reference, note=request.note, received_at=request.received_at or now)
    return _request_body(opened, now) or {}


@router.get("/requests")
async def list_requests(caller: Caller, res: Res, tenant_id: UUID | None = Query(None),
                        open_only: bool = Query(False), limit: int = Query(100, ge=1, le=1000)) -> dict[str, Any]:
    """The city's requests, newest first, each with ``overdue`` (open past its deadline)."""
    tenant = scoped_tenant(caller, tenant_id)
    found = await plate_subjects.requests_of_city(res.pool, caller, tenant, open_only=open_only, limit=limit)
    now = datetime.now(UTC)
    return {"requests": [_request_body(r, now) for r in found], "overdue": sum(is_overdue(r, now) for r in found)}
