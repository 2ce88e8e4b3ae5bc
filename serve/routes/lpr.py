"""LPR: webhooks for each sender format, and plate search (JSON with keyset pages, CSV streamed).

Each webhook reads the body within its size limit and hands the sender check,
the parsing and the durability to ``LprAccept`` (services/lpr_accept.py): the
answer goes out only once the read is durable; the batched writer actor then
stores it in ``lpr_events``. Refusals are the use case's (serve/errors.py maps
them to 4xx/503).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from ipaddress import IPv4Network, IPv6Network
from typing import Any
from uuid import UUID

from fastapi import APIRouter, HTTPException, Query, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from domain.forwarded import client_address
from domain.keyset import cursor_key, page_cursor
from domain.lpr.export import EXPORT_PAGE_ROWS, MAX_EXPORT_ROWS, MAX_EXPORT_SPAN, csv_header, csv_line
from domain.lpr.masking import masked_read
from domain.lpr.multipart import hikvision_parts
from domain.lpr.plates import BadPlate, search_pattern
from domain.lpr.queued_read import QueuedRead
from domain.lpr.vendors import parse_hikvision, parse_intelbras
from domain.rbac import Action, Role
from serve.bodies import bodies
from serve.deps import Caller, Res, Resources
from serve.time_range import checked_range
from services import lpr_credentials
from services.plate_view import audit_unmasked, plate_view_for
from services.scope import camera_in_scope, require, scoped_tenant
from storage import audit, lpr_dead_letters, lpr_events

log = logging.getLogger(__name__)
router = APIRouter(tags=["lpr"])

MAX_JSON_BYTES = 2 * 1024 * 1024
MAX_MULTIPART_BYTES = 8 * 1024 * 1024


async def _body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise HTTPException(413, f"payload over the {limit} byte limit")
    body = bytearray()
    async for part in request.stream():
        body += part
        if len(body) > limit:
            raise HTTPException(413, f"payload over the {limit} byte limit")
    return bytes(body)


def _accepted(queued: QueuedRead) -> dict[str, Any]:
    return {"id": str(queued.id), "plate": queued.plate}


# --- senders -------------------------------------------------------------------------------------


@router.post("/webhooks/lpr", status_code=202)
async def generic_webhook(request: Request, res: Res) -> dict[str, Any]:
    """Our JSON, signed: ``X-Camera-Id``, ``X-Timestamp`` (Unix s), ``X-Signature`` = hex HMAC-SHA256 of
    ``timestamp + "." + body`` with the camera's secret. Old timestamps and replays are refused."""
    body = await _body(request, MAX_JSON_BYTES)
    headers = request.headers
    read, sender = await res.lpr.generic_read(headers.get("x-camera-id", ""), _address(request, res),
                                              headers.get("x-timestamp", ""), headers.get("x-signature", ""), body,
                                              res.sealer)
    return _accepted(await res.lpr.accept(read, sender, "generic"))


def _address(request: Request, res: Resources) -> str | None:
    """The sender's address for its allow-list: X-Forwarded-For counts only from a trusted proxy."""
    peer = request.client.host if request.client else None
    return client_address(peer, request.headers.getlist("x-forwarded-for"), res.trusted_proxies)


@router.post("/webhooks/intelbras/{token}/NotificationInfo/TollgateInfo")
async def intelbras_tollgate(token: str, request: Request, res: Res) -> dict[str, Any]:
    """Answered 200 with ``Result: true`` (what the device expects) once the read is durable; 503 makes it resend."""
    sender = await res.lpr.vendor_sender(token, _address(request, res))
    read, _device = parse_intelbras(await _body(request, MAX_JSON_BYTES), sender.time_zone,
                                    now=datetime.now(UTC))
    return {"Result": True, "Message": "OK", **_accepted(await res.lpr.accept(read, sender, "intelbras"))}


@router.post("/webhooks/intelbras/{token}/NotificationInfo/KeepAlive")
async def intelbras_keepalive(token: str, request: Request, res: Res) -> dict[str, Any]:
    await res.lpr.vendor_sender(token, _address(request, res))
    return {"Result": True, "Message": "OK"}


@router.post("/webhooks/intelbras/{token}/NotificationInfo/DeviceInfo")
async def intelbras_device_info(token: str, request: Request, res: Res) -> dict[str, Any]:
    await res.lpr.vendor_sender(token, _address(request, res))
    await _body(request, MAX_JSON_BYTES)
    return {"Result": True, "Message": "OK"}


@router.post("/webhooks/hikvision/{token}")
async def hikvision_anpr(token: str, request: Request, res: Res) -> dict[str, Any]:
    """ANPR push: ``multipart/form-data`` with an ``anpr.xml`` part and JPEG parts.

    The device never resends, so when the stores are down the read is spooled on local disk and still answered
    200; only a full spool gets 503."""
    sender = await res.lpr.vendor_sender(token, _address(request, res))
    body = await _body(request, MAX_MULTIPART_BYTES)
    xml, images = hikvision_parts(body, request.headers.get("content-type", ""))
    read = parse_hikvision(xml, images, now=datetime.now(UTC))
    return _accepted(await res.lpr.accept(read, sender, "hikvision", never_retries=True))


# --- credentials and search -------------------------------------------------------------------------


class CredentialsIn(BaseModel):
    allowed_sources: list[IPv4Network | IPv6Network] | None = Field(
        None, max_length=64, description="sender addresses (CIDR) accepted for this camera; none: any")


@router.post("/cameras/{camera_id}/lpr-credentials")
async def issue_credentials(camera_id: UUID, caller: Caller, res: Res,
                            body: CredentialsIn | None = None) -> dict[str, Any]:
    """A new URL token (vendor pushes) and HMAC secret (generic JSON); the previous ones stop working."""
    camera = await camera_in_scope(res.pool, caller, camera_id)
    require(caller, Action.WRITE, camera.tenant_id)
    allowed = body.allowed_sources if body else None
    issued = await lpr_credentials.issue(res.pool, res.sealer, camera_id, allowed)
    token, secret = issued.token, issued.secret
    res.lpr.credentials_changed()
    await audit.record(res.pool, caller.user_id, "lpr.credentials", tenant_id=camera.tenant_id, camera_id=camera_id,
                       detail={"allowed_sources": [str(n) for n in allowed or []]})
    base = "/api/v1/webhooks"
    return {"token": token, "secret": secret, "allowed_sources": [str(n) for n in allowed] if allowed else None,
            "generic": f"{base}/lpr",
            "intelbras": f"{base}/intelbras/{token}/NotificationInfo/TollgateInfo",
            "hikvision": f"{base}/hikvision/{token}"}


async def _search_args(caller: Caller, res: Resources, plate: str | None, camera: UUID | None,
                       tenant_id: UUID | None) -> tuple[UUID, str | None, bool]:
    tenant = scoped_tenant(caller, tenant_id)
    if camera is not None:
        found = await camera_in_scope(res.pool, caller, camera)
        if tenant_id is not None and found.tenant_id != tenant_id:  # an admin naming one city, a camera of another
            raise HTTPException(404, "camera not found")
        tenant = found.tenant_id
    if plate is None:
        return tenant, None, False
    try:
        term, is_pattern = search_pattern(plate)
    except BadPlate as exc:
        raise HTTPException(422, str(exc)) from None
    return tenant, term, is_pattern


@router.get("/lpr/events")
async def search_events(caller: Caller, res: Res, plate: str | None = Query(None, max_length=20),
                        camera: UUID | None = Query(None), start: datetime | None = Query(None),
                        end: datetime | None = Query(None), tenant_id: UUID | None = Query(None),
                        cursor: str | None = Query(None, max_length=200),
                        limit: int = Query(100, ge=1, le=1000)) -> dict[str, Any]:
    """Newest first; ``plate`` takes ``?`` and ``*``; pass ``next_cursor`` back as ``cursor`` for the next page."""
    tenant, term, is_pattern = await _search_args(caller, res, plate, camera, tenant_id)
    found = await lpr_events.search(res.pool, tenant, plate=term, is_pattern=is_pattern, camera_id=camera,
                                    start=start, end=end, after=cursor_key(cursor) if cursor else None, limit=limit)
    await audit.record(res.pool, caller.user_id, "lpr.search", tenant_id=tenant, camera_id=camera, start=start,
                       end=end, detail={"plate": plate, "results": len(found)})
    view = await plate_view_for(res.pool, caller, tenant)
    await audit_unmasked(res.pool, caller, tenant, view, "lpr.search", results=len(found))
    last = found[-1] if len(found) == limit else None
    shown = [masked_read(read) for read in found] if view.masked else found
    return {"events": bodies(shown), "next_cursor": page_cursor(last.captured_at, last.id) if last else None,
            "plates_masked": view.masked}


@router.get("/lpr/events.csv")
async def export_events(caller: Caller, res: Res, start: datetime = Query(..., description="ISO 8601 with time zone"),
                        end: datetime = Query(..., description="ISO 8601 with time zone; at most 31 days after start"),
                        plate: str | None = Query(None, max_length=20), camera: UUID | None = Query(None),
                        tenant_id: UUID | None = Query(None)) -> Response:
    """The same query as CSV over at most 31 days and 1 000 000 reads (422 beyond either: narrow the search),
    streamed in keyset pages so a slow download holds no database connection; formula-looking cells are
    neutralized (domain/lpr/export.py)."""
    checked_range(start, end, MAX_EXPORT_SPAN)
    tenant, term, is_pattern = await _search_args(caller, res, plate, camera, tenant_id)
    most = MAX_EXPORT_ROWS
    if await lpr_events.count_up_to(res.pool, tenant, plate=term, is_pattern=is_pattern, camera_id=camera,
                                    start=start, end=end, most=most + 1) > most:
        raise HTTPException(422, f"more than {most} reads match: narrow the range or the search")
    await audit.record(res.pool, caller.user_id, "lpr.export", tenant_id=tenant, camera_id=camera, start=start,
                       end=end, detail={"plate": plate})
    view = await plate_view_for(res.pool, caller, tenant)
    await audit_unmasked(res.pool, caller, tenant, view, "lpr.export")

    async def lines() -> AsyncIterator[bytes]:
        yield csv_header()
        async for page in lpr_events.pages(res.pool, tenant, plate=term, is_pattern=is_pattern, camera_id=camera,
                                           start=start, end=end, page_rows=EXPORT_PAGE_ROWS, most=most):
            yield b"".join(csv_line(masked_read(read) if view.masked else read) for read in page)

    return StreamingResponse(lines(), media_type="text/csv",
                             headers={"content-disposition": 'attachment; filename="lpr-events.csv"'})


@router.get("/lpr/stats")
async def hourly_stats(caller: Caller, res: Res, start: datetime = Query(...), end: datetime = Query(...),
                       camera: UUID | None = Query(None), tenant_id: UUID | None = Query(None)) -> dict[str, Any]:
    """Reads per hour (UTC) per camera and for the city, over at most 31 days — for dashboards."""
    checked_range(start, end, timedelta(days=31))
    tenant, _, _ = await _search_args(caller, res, None, camera, tenant_id)
    counts = await lpr_events.hourly_counts(res.pool, tenant, start, end, camera)
    per_hour: dict[datetime, int] = {}
    for count in counts:
        per_hour[count.hour] = per_hour.get(count.hour, 0) + count.events
    return {"tenant_id": tenant, "start": start, "end": end, "total": sum(per_hour.values()),
            "per_hour": [{"hour": hour, "events": n} for hour, n in sorted(per_hour.items())],
            "per_camera_hour": bodies(counts)}


# --- dead letters ------------------------------------------------------------------------------------


@router.get("/lpr/dead-letters")
async def dead_letters(caller: Caller, res: Res, tenant_id: UUID | None = Query(None),
                       before: int | None = Query(None, ge=1, description="next_before of the previous page"),
                       limit: int = Query(50, ge=1, le=200)) -> dict[str, Any]:
    """Reads the writer could not store (docs/lpr.md), newest first: admins see every city (or ``tenant_id``'s),
    managers their own; viewers may not."""
    tenant = tenant_id if caller.role == Role.ADMIN else scoped_tenant(caller, tenant_id)
    require(caller, Action.WRITE, tenant)
    letters = await lpr_dead_letters.page(res.pool, tenant, before_id=before, limit=limit)
    return {"dead_letters": bodies(letters), "total": await lpr_dead_letters.count(res.pool, tenant),
            "next_before": letters[-1].id if len(letters) == limit else None}
