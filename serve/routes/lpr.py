"""LPR: webhooks for each sender format, and plate search (JSON with keyset pages, CSV streamed).

A read is acknowledged only once it is durable: images in the object store,
then the row in PostgreSQL (idempotent on the read's dedupe key), then 2xx.
If either store is down the sender gets 503 and nothing is half-stored.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import secrets
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from fastapi import APIRouter, HTTPException, Query, Request, Response
from fastapi.responses import JSONResponse, StreamingResponse

from domain.events import tenant_stream
from domain.lpr import (
    SIGNATURE_WINDOW_S,
    BadEvent,
    BadSignature,
    PlateRead,
    parse_generic,
    parse_hikvision,
    parse_intelbras,
    verify_signature,
)
from domain.plates import BadPlate, search_pattern
from domain.rbac import Action
from domain.watchlist import hits, lpr_alert_event
from serve.deps import Caller, Res, Resources, require, scoped_tenant
from serve.ranges import checked_range
from serve.routes.cameras import camera_in_scope
from storage import audit, lpr_events

log = logging.getLogger(__name__)
router = APIRouter(tags=["lpr"])

MAX_JSON_BYTES = 2 * 1024 * 1024
MAX_MULTIPART_BYTES = 8 * 1024 * 1024
CSV_COLUMNS = ("id", "camera_id", "plate", "captured_at", "confidence", "direction", "vehicle_color", "vehicle_type",
               "sender")


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


async def _store(res: Resources, camera: dict[str, Any], read: PlateRead, sender: str) -> JSONResponse:
    """Images first, then the row: 202 only when both are durable."""
    event_id = uuid4()
    day = read.captured_at
    keys = [f"t/{camera['tenant_id']}/lpr/{day:%Y/%m/%d}/{event_id}-{i}.jpg" for i in range(len(read.images))]
    try:
        for key, image in zip(keys, read.images, strict=True):
            await asyncio.to_thread(res.store.put, key, image, "image/jpeg")
        stored, new = await lpr_events.insert(res.pool, tenant_id=camera["tenant_id"], camera_id=camera["id"],
                                              read=read, sender=sender, image_keys=keys, event_id=event_id)
    except Exception as exc:  # a store is down: the sender must retry (nothing acknowledged)
        log.warning("LPR event not stored: %s", exc)
        raise HTTPException(503, "the event could not be stored right now; retry",
                            headers={"Retry-After": "5"}) from None
    if not new and keys:
        await asyncio.to_thread(res.store.delete_many, keys)  # a duplicate: the first delivery's images stay
    if new:
        await _alert_watchers(res, camera, read, stored)
    return JSONResponse({"id": str(stored), "duplicate": not new, "plate": read.plate}, status_code=202)


async def _alert_watchers(res: Resources, camera: dict[str, Any], read: PlateRead, event_id: UUID) -> None:
    """A read of a watched plate alerts the city's operators (WS /events), right after it is stored."""
    tenant = camera["tenant_id"]
    try:
        matched = hits(read.plate, await res.watchlists.entries(tenant))
        for entry in matched:
            await res.bus.publish(tenant_stream(tenant), lpr_alert_event(tenant, entry, {
                "event_id": str(event_id), "camera_id": str(camera["id"]), "plate": read.plate,
                "captured_at": read.captured_at.isoformat(timespec="milliseconds"),
                "received_at": datetime.now(UTC).isoformat(timespec="milliseconds")}))
    except Exception as exc:  # the read is stored; the alert is best effort (logged)
        log.error("watchlist alert for %s not published: %s", read.plate, exc)


def _refuse(exc: BadEvent) -> HTTPException:
    return HTTPException(401 if isinstance(exc, BadSignature) else 422, str(exc))


# --- senders -------------------------------------------------------------------------------------


@router.post("/webhooks/lpr", status_code=202)
async def generic_webhook(request: Request, res: Res) -> JSONResponse:
    """Our JSON, signed: ``X-Camera-Id``, ``X-Timestamp`` (Unix s), ``X-Signature`` = hex HMAC-SHA256 of
    ``timestamp + "." + body`` with the camera's secret. Old timestamps and replays are refused."""
    body = await _body(request, MAX_JSON_BYTES)
    try:
        camera_id = UUID(request.headers.get("x-camera-id", ""))
    except ValueError:
        raise HTTPException(401, "X-Camera-Id must be a camera id") from None
    camera = await lpr_events.camera_by_id(res.pool, camera_id)
    if camera is None:
        raise HTTPException(401, "unknown camera, or no LPR credentials issued for it")
    signature = request.headers.get("x-signature", "")
    try:
        verify_signature(camera["lpr_secret"].encode(), request.headers.get("x-timestamp", ""), body, signature,
                         time.time())
        read = parse_generic(body)
    except BadEvent as exc:
        raise _refuse(exc) from None
    if await lpr_events.seen_signature(res.pool, signature.lower(), SIGNATURE_WINDOW_S):
        raise HTTPException(409, "replayed signature: this delivery was already received")
    return await _store(res, camera, read, "generic")


async def _vendor_camera(res: Resources, token: str) -> dict[str, Any]:
    camera = await lpr_events.camera_by_token(res.pool, token) if len(token) <= 100 else None
    if camera is None:
        raise HTTPException(401, "unknown camera token")
    return camera


@router.post("/webhooks/intelbras/{token}/NotificationInfo/TollgateInfo", status_code=202)
async def intelbras_tollgate(token: str, request: Request, res: Res) -> JSONResponse:
    camera = await _vendor_camera(res, token)
    body = await _body(request, MAX_JSON_BYTES)
    try:
        read, _device = parse_intelbras(body, camera["time_zone"])
    except BadEvent as exc:
        raise _refuse(exc) from None
    return await _store(res, camera, read, "intelbras")


@router.post("/webhooks/intelbras/{token}/NotificationInfo/KeepAlive")
async def intelbras_keepalive(token: str, res: Res) -> dict[str, Any]:
    await _vendor_camera(res, token)
    return {"Result": True, "Message": "OK"}


@router.post("/webhooks/intelbras/{token}/NotificationInfo/DeviceInfo")
async def intelbras_device_info(token: str, request: Request, res: Res) -> dict[str, Any]:
    await _vendor_camera(res, token)
    await _body(request, MAX_JSON_BYTES)
    return {"Result": True, "Message": "OK"}


@router.post("/webhooks/hikvision/{token}", status_code=202)
async def hikvision_anpr(token: str, request: Request, res: Res) -> JSONResponse:
    """ANPR push: ``multipart/form-data`` with an ``anpr.xml`` part and JPEG parts."""
    camera = await _vendor_camera(res, token)
    request._body = await _body(request, MAX_MULTIPART_BYTES)  # size-checked; form() parses these bytes
    try:
        form = await request.form(max_files=8, max_fields=16)
    except Exception as exc:
        raise HTTPException(422, f"malformed multipart body: {exc}") from None
    xml: bytes | None = None
    images: list[bytes] = []
    for name, value in form.multi_items():
        data = await value.read() if hasattr(value, "read") else str(value).encode()
        filename = getattr(value, "filename", None) or name
        if filename.lower().endswith(".xml") or name.lower() in ("anpr.xml", "anpr"):
            xml = data
        elif data[:2] == b"\xff\xd8":
            images.append(data)
    if xml is None:
        raise HTTPException(422, "no anpr.xml part")
    try:
        read = parse_hikvision(xml, images)
    except BadEvent as exc:
        raise _refuse(exc) from None
    return await _store(res, camera, read, "hikvision")


# --- credentials and search -------------------------------------------------------------------------


@router.post("/cameras/{camera_id}/lpr-credentials")
async def issue_credentials(camera_id: UUID, caller: Caller, res: Res) -> dict[str, Any]:
    """A new URL token (vendor pushes) and HMAC secret (generic JSON); the previous ones stop working."""
    camera = await camera_in_scope(caller, res, camera_id)
    require(caller, Action.WRITE, camera.tenant_id)
    token, secret = secrets.token_urlsafe(24), secrets.token_hex(32)
    await lpr_events.set_credentials(res.pool, camera_id, token, secret)
    await audit.record(res.pool, caller.user_id, "lpr.credentials", tenant_id=camera.tenant_id, camera_id=camera_id)
    base = "/api/v1/webhooks"
    return {"token": token, "secret": secret, "generic": f"{base}/lpr",
            "intelbras": f"{base}/intelbras/{token}/NotificationInfo/TollgateInfo",
            "hikvision": f"{base}/hikvision/{token}"}


def _cursor(row: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(f"{row['captured_at'].isoformat()}|{row['id']}".encode()).decode()


def _after(cursor: str | None) -> tuple[datetime, UUID] | None:
    if not cursor:
        return None
    try:
        at, _, event_id = base64.urlsafe_b64decode(cursor.encode()).decode().partition("|")
        return datetime.fromisoformat(at), UUID(event_id)
    except (ValueError, UnicodeDecodeError):
        raise HTTPException(422, "bad cursor") from None


async def _search_args(caller: Caller, res: Resources, plate: str | None, camera: UUID | None,
                       tenant_id: UUID | None) -> tuple[UUID, str | None, bool]:
    tenant = scoped_tenant(caller, tenant_id)
    if camera is not None:
        tenant = (await camera_in_scope(caller, res, camera)).tenant_id
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
    rows = await lpr_events.search(res.pool, tenant, plate=term, is_pattern=is_pattern, camera_id=camera,
                                   start=start, end=end, after=_after(cursor), limit=limit)
    await audit.record(res.pool, caller.user_id, "lpr.search", tenant_id=tenant, camera_id=camera, start=start,
                       end=end, detail={"plate": plate, "results": len(rows)})
    return {"events": rows, "next_cursor": _cursor(rows[-1]) if len(rows) == limit else None}


@router.get("/lpr/events.csv")
async def export_events(caller: Caller, res: Res, plate: str | None = Query(None, max_length=20),
                        camera: UUID | None = Query(None), start: datetime | None = Query(None),
                        end: datetime | None = Query(None), tenant_id: UUID | None = Query(None)) -> Response:
    """The same query as CSV, streamed from a server-side cursor."""
    tenant, term, is_pattern = await _search_args(caller, res, plate, camera, tenant_id)
    await audit.record(res.pool, caller.user_id, "lpr.export", tenant_id=tenant, camera_id=camera, start=start,
                       end=end, detail={"plate": plate})

    async def lines() -> AsyncIterator[bytes]:
        yield (",".join(CSV_COLUMNS) + "\n").encode()
        async for row in lpr_events.stream(res.pool, tenant, plate=term, is_pattern=is_pattern, camera_id=camera,
                                           start=start, end=end):
            yield (",".join("" if row[c] is None else str(row[c]).replace(",", " ") for c in CSV_COLUMNS)
                   + "\n").encode()

    return StreamingResponse(lines(), media_type="text/csv",
                             headers={"content-disposition": 'attachment; filename="lpr-events.csv"'})


@router.get("/lpr/stats")
async def hourly_stats(caller: Caller, res: Res, start: datetime = Query(...), end: datetime = Query(...),
                       camera: UUID | None = Query(None), tenant_id: UUID | None = Query(None)) -> dict[str, Any]:
    """Reads per hour (UTC) per camera and for the city, over at most 31 days — for dashboards."""
    checked_range(start, end, timedelta(days=31))
    tenant, _, _ = await _search_args(caller, res, None, camera, tenant_id)
    rows = await lpr_events.hourly_counts(res.pool, tenant, start, end, camera)
    per_hour: dict[datetime, int] = {}
    for row in rows:
        per_hour[row["hour"]] = per_hour.get(row["hour"], 0) + row["events"]
    return {"tenant_id": tenant, "start": start, "end": end, "total": sum(per_hour.values()),
            "per_hour": [{"hour": hour, "events": n} for hour, n in sorted(per_hour.items())],
            "per_camera_hour": rows}
