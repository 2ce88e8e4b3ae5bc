"""A plate's data-subject rights (LGPD art. 18): its report, its export, its anonymization, and the requests
that ask for them — each step audited with exactly one row that names the plate by its pseudonym only (the audit
log is append-only: a clear plate written there would outlive the subject's anonymization).

Who may (managers of the city, platform admins) is checked here; the route only maps inputs and formats.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg

from domain.lgpd_requests import LgpdRequest, RequestKind, Step, due_at, refusal_to_complete
from domain.lpr.plates import BadPlate, normalize
from domain.lpr.pseudonym import pseudonym
from domain.lpr.subject_report import MAX_REPORT_LOOKUPS, MAX_REPORT_READS, SubjectReport
from domain.rbac import Action, Principal
from services.purging import PURGE_BATCH, drain_purge_queue
from services.refusals import Conflict, Invalid, NotFound
from services.scope import require
from storage import audit, lgpd_requests, plate_subjects
from storage.objects import ObjectStore

IMAGE_URL_TTL = timedelta(minutes=15)
RECEIVED_SKEW = timedelta(minutes=5)  # clocks of the desk that logs a request may run a little ahead


@dataclass(frozen=True)
class Subject:
    """A plate as the LGPD routes work on it: canonical, with its pseudonym, in one city."""

    tenant_id: UUID
    plate: str
    pseudonym: str


def subject(caller: Principal, tenant_id: UUID, raw_plate: str, pseudonym_key: bytes) -> Subject:
    """The caller may act on the city's plates (managers, admins), and ``raw_plate`` is a plate."""
    require(caller, Action.LGPD, tenant_id)
    try:
        plate = normalize(raw_plate)
    except BadPlate as exc:
        raise Invalid(str(exc)) from None
    return Subject(tenant_id, plate, pseudonym(pseudonym_key, plate))


async def _request_to_complete(pool: asyncpg.Pool, who: Subject, request_id: UUID | None,
                               step: Step) -> LgpdRequest | None:
    """The open request ``step`` will complete, checked before the step runs (so a wrong id changes nothing)."""
    if request_id is None:
        return None
    request = await lgpd_requests.get(pool, who.tenant_id, request_id)
    if request is None:
        raise NotFound("LGPD request not found")
    refusal = refusal_to_complete(request, step, who.pseudonym)
    if refusal is not None:
        raise Conflict(refusal)
    return request


async def _complete(pool: asyncpg.Pool, who: Subject, request: LgpdRequest | None,
                    caller: Principal) -> LgpdRequest | None:
    if request is None:
        return None
    done = await lgpd_requests.complete(pool, who.tenant_id, request.id, caller.user_id)
    if done is None:
        raise Conflict(f"request {request.id} was completed meanwhile")
    return done


async def report(pool: asyncpg.Pool, caller: Principal, who: Subject, *, now: datetime, request_id: UUID | None,
                 export_format: str | None) -> tuple[SubjectReport, LgpdRequest | None]:
    """Every read of the plate in the city and every search or export that looked for it; audited as a report
    (``lgpd.plate_report``) or, with ``export_format``, as an export (``lgpd.plate_export``)."""
    step = Step.REPORT if export_format is None else Step.EXPORT
    request = await _request_to_complete(pool, who, request_id, step)
    reads = await plate_subjects.reads_of_plate(pool, who.tenant_id, who.plate, MAX_REPORT_READS + 1)
    lookups = await plate_subjects.lookups_of_plate(pool, who.tenant_id, who.plate, MAX_REPORT_LOOKUPS + 1)
    found = SubjectReport(who.tenant_id, who.plate, now, reads[:MAX_REPORT_READS], lookups[:MAX_REPORT_LOOKUPS],
                          len(reads) > MAX_REPORT_READS, len(lookups) > MAX_REPORT_LOOKUPS)
    completed = await _complete(pool, who, request, caller)
    detail: dict[str, Any] = {"plate_pseudonym": who.pseudonym, "reads": len(found.reads),
                              "lookups": len(found.lookups), "request_id": str(request.id) if request else None}
    if export_format is None:
        await audit.record(pool, caller.user_id, "lgpd.plate_report", tenant_id=who.tenant_id, detail=detail)
    else:
        await audit.record(pool, caller.user_id, "lgpd.plate_export", tenant_id=who.tenant_id,
                           detail={**detail, "format": export_format})
    return found, completed


async def image_urls(store: ObjectStore, found: SubjectReport) -> dict[str, str]:
    """Short-lived signed URLs of the report's images (the store signs them; no image passes through the API)."""
    keys = [key for read in found.reads for key in read.image_keys]
    return await asyncio.to_thread(lambda: {key: store.presigned_get(key, IMAGE_URL_TTL) for key in keys})


@dataclass(frozen=True)
class Anonymized:
    pseudonym: str
    reads: int
    images: int
    images_deleted: int
    watch_entries: int
    request: LgpdRequest | None


async def anonymize(pool: asyncpg.Pool, store: ObjectStore, caller: Principal, who: Subject, *, legal_basis: str,
                    request_reference: str | None, note: str | None, request_id: UUID | None,
                    batch: int = PURGE_BATCH) -> Anonymized:
    """Replace the plate by its pseudonym in every read of the city (rows kept: counts stay true), delete its
    images, remove the city's watchlist entries for it, and keep only the pseudonym in its requests."""
    if not legal_basis.strip():
        raise Invalid("legal_basis must not be blank")
    request = await _request_to_complete(pool, who, request_id, Step.ANONYMIZE)
    reads = images = deleted = 0
    while True:  # each batch rewrites the reads it takes, so none is taken twice and the loop ends
        done, queued = await plate_subjects.anonymize_batch(pool, who.tenant_id, who.plate, who.pseudonym, batch)
        reads, images = reads + done, images + queued
        if queued:
            deleted += await drain_purge_queue(pool, store, batch)
        if done < batch:
            break
    watch_entries = await plate_subjects.remove_watch_entries(pool, who.tenant_id, who.plate)
    await lgpd_requests.forget_plate(pool, who.tenant_id, who.pseudonym)
    completed = await _complete(pool, who, request, caller)
    await audit.record(pool, caller.user_id, "lgpd.plate_anonymized", tenant_id=who.tenant_id, detail={
        "plate_pseudonym": who.pseudonym, "reads": reads, "images": images, "watch_entries": watch_entries,
        "legal_basis": legal_basis, "request_reference": request_reference, "note": note,
        "request_id": str(request.id) if request else None})
    return Anonymized(who.pseudonym, reads, images, deleted, watch_entries, completed)


async def open_request(pool: asyncpg.Pool, caller: Principal, who: Subject, *, kind: RequestKind, legal_basis: str,
                       request_reference: str | None, note: str | None, received_at: datetime) -> LgpdRequest:
    """A subject's request, due ``FULL_DECLARATION_DAYS`` after it was received (LGPD art. 19, II)."""
    if not legal_basis.strip():
        raise Invalid("legal_basis must not be blank")
    if received_at.tzinfo is None:
        raise Invalid("received_at needs a time zone (ISO 8601 with an offset)")
    if received_at > datetime.now(UTC) + RECEIVED_SKEW:
        raise Invalid("received_at is in the future")
    opened = await lgpd_requests.create(
        pool, tenant_id=who.tenant_id, plate=who.plate, pseudonym=who.pseudonym, kind=kind, legal_basis=legal_basis,
        request_reference=request_reference, note=note, requested_by=caller.user_id, received_at=received_at,
        due_at=due_at(received_at))
    await audit.record(pool, caller.user_id, "lgpd.request_opened", tenant_id=who.tenant_id, detail={
        "request_id": str(opened.id), "kind": kind.value, "plate_pseudonym": who.pseudonym,
        "due_at": opened.due_at.isoformat(), "request_reference": request_reference})
    return opened


async def requests_of_city(pool: asyncpg.Pool, caller: Principal, tenant_id: UUID, *, open_only: bool,
                           limit: int) -> list[LgpdRequest]:
    require(caller, Action.LGPD, tenant_id)
    return await lgpd_requests.list_for_tenant(pool, tenant_id, open_only=open_only, limit=limit)
