"""Deleting a city after a grace period (docs/retention.md "Deleting a city").

``schedule_deletion`` (DELETE /tenants/{id}) records the date, stops the city's cameras (the Fleet's desired
state leaves out a city being deleted, storage/cameras.py) and disables its users; ``restore_city`` cancels it
until it is due. Once due, the retention pass calls ``delete_due_cities``: every object under the city's prefix
in bounded batches (the counts recorded after each, so an interrupted deletion resumes), then every row of the
city in one transaction, then the final report — a row that outlives the city, and a JSON and a signed PDF
under a deployment-level prefix of the store. The audit trail is kept (append-only: the legal record).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
from dataclasses import replace
from datetime import UTC, datetime
from uuid import UUID

import asyncpg

from documents.pdf import render_pdf
from domain.city_deletion import (
    TenantDeletion,
    add_objects,
    city_prefix,
    deletion_report,
    due_at,
    hold_refusal,
    report_keys,
    report_table,
)
from domain.evidence import EvidenceKey, sign_file
from domain.rbac import Action, Principal
from services.refusals import Conflict, NotFound
from services.scope import require
from storage import audit, tenant_deletions, users
from storage.objects import ObjectInfo, ObjectStore

log = logging.getLogger(__name__)

OBJECT_BATCH = 1000
MAX_BATCHES_PER_PASS = 200  # 200 000 objects per city per pass; the next pass goes on where this one stopped
REPORT_TITLE = "Relatório de exclusão de cidade"


async def schedule_deletion(pool: asyncpg.Pool, caller: Principal, tenant_id: UUID, grace_days: float,
                            now: datetime | None = None) -> TenantDeletion:
    """Schedule the city's deletion ``grace_days`` from now; Conflict while a legal hold of the city is active
    or a deletion is already scheduled."""
    require(caller, Action.MANAGE_TENANTS)
    requested_at = now or datetime.now(UTC)
    admin = await users.get(pool, caller.user_id)
    outcome = await tenant_deletions.schedule(pool, tenant_id, requested_by=caller.user_id,
                                              requested_by_name=admin.username if admin else None,
                                              due_at=due_at(requested_at, grace_days))
    if (refusal := hold_refusal(outcome.active_holds)) is not None:
        raise Conflict(refusal)
    if outcome.deletion is None:
        raise NotFound("tenant not found")
    if not outcome.created:
        raise Conflict(f"the city is already scheduled for deletion on {outcome.deletion.due_at.isoformat()}")
    await audit.record(pool, caller.user_id, "tenant.deletion_scheduled", tenant_id=tenant_id, detail={
        "due_at": outcome.deletion.due_at.isoformat(), "grace_days": grace_days,
        "tenant_name": outcome.deletion.tenant_name})
    return outcome.deletion


async def restore_city(pool: asyncpg.Pool, caller: Principal, tenant_id: UUID) -> TenantDeletion:
    """Cancel the city's scheduled deletion (its users may log in again, its cameras record again)."""
    require(caller, Action.MANAGE_TENANTS)
    deletion = await tenant_deletions.cancel(pool, tenant_id, caller.user_id)
    if deletion is None:
        raise NotFound("no deletion of this city is scheduled")
    if deletion.state != "cancelled":
        raise Conflict("the grace period is over and the deletion has begun: it can no longer be cancelled")
    await audit.record(pool, caller.user_id, "tenant.deletion_cancelled", tenant_id=tenant_id,
                       detail={"due_at": deletion.due_at.isoformat(), "tenant_name": deletion.tenant_name})
    return deletion


async def deletion_of(pool: asyncpg.Pool, caller: Principal, tenant_id: UUID) -> TenantDeletion:
    """The city's newest deletion request: its schedule, or the final report (admins)."""
    require(caller, Action.MANAGE_TENANTS)
    deletion = await tenant_deletions.latest(pool, tenant_id)
    if deletion is None:
        raise NotFound("no deletion of this city was requested")
    return deletion


async def deletion_report_file(pool: asyncpg.Pool, store: ObjectStore, caller: Principal, tenant_id: UUID,
                               manifest: bool) -> bytes:
    """The completed deletion's signed PDF report, or (``manifest``) its manifest (admins)."""
    deletion = await deletion_of(pool, caller, tenant_id)
    if deletion.state != "deleted":
        raise Conflict(f"the deletion is {deletion.state}: its report is written when it completes")
    _, pdf_key, manifest_key = report_keys(deletion.tenant_id, deletion.id)
    return await asyncio.to_thread(store.get, manifest_key if manifest else pdf_key)


async def delete_due_cities(pool: asyncpg.Pool, store: ObjectStore, key: EvidenceKey, *, now: datetime | None = None,
                            batch: int = OBJECT_BATCH, max_batches: int = MAX_BATCHES_PER_PASS) -> list[TenantDeletion]:
    """Carry out the deletions that are due (or were interrupted); returns those it completed. A city that fails
    is logged and left for the next pass, never stopping the others or the pass."""
    completed: list[TenantDeletion] = []
    for deletion in await tenant_deletions.due(pool, now or datetime.now(UTC)):
        try:
            done = await _delete_city(pool, store, key, deletion, batch, max_batches)
        except Exception as exc:
            log.warning("city deletion %s (%s) not finished, the next pass goes on: %s", deletion.id,
                        deletion.tenant_id, exc)
            continue
        if done is not None:
            completed.append(done)
    return completed


async def _delete_city(pool: asyncpg.Pool, store: ObjectStore, key: EvidenceKey, deletion: TenantDeletion,
                       batch: int, max_batches: int) -> TenantDeletion | None:
    began, holds = await tenant_deletions.begin(pool, deletion.id)
    if not began:
        log.warning("city deletion %s waits: %s", deletion.id, hold_refusal(holds))
        return None
    counts, finished = await _delete_objects(pool, store, deletion, deletion.objects, batch, max_batches)
    if not finished:
        return None
    rows = await tenant_deletions.delete_rows(pool, deletion.id, deletion.tenant_id)
    # Anything written under the prefix while the rows went (a plate image in flight) goes too.
    counts, finished = await _delete_objects(pool, store, deletion, counts, batch, max_batches)
    if not finished:
        return None
    completed_at = datetime.now(UTC)
    swept = replace(deletion, objects=counts)
    row_hash = await audit.record(pool, None, "tenant.deleted", tenant_id=deletion.tenant_id, detail={
        "deletion_id": deletion.id, "tenant_name": deletion.tenant_name,
        "objects": sum(v["objects"] for v in counts.values()), "bytes": sum(v["bytes"] for v in counts.values()),
        "rows": sum(rows.values())})
    report = deletion_report(swept, rows, completed_at, row_hash)
    json_key = await _store_report(store, key, deletion, report, completed_at)
    await tenant_deletions.complete(pool, deletion.id, completed_at=completed_at, report=report, report_key=json_key)
    return await tenant_deletions.latest(pool, deletion.tenant_id)


async def _delete_objects(pool: asyncpg.Pool, store: ObjectStore, deletion: TenantDeletion,
                          counts: dict[str, dict[str, int]], batch: int,
                          max_batches: int) -> tuple[dict[str, dict[str, int]], bool]:
    """Delete the city's objects, ``batch`` at a time, at most ``max_batches``; (counts, whether none is left)."""
    prefix = city_prefix(deletion.tenant_id)
    for _ in range(max_batches):
        listed = await asyncio.to_thread(_first, store, prefix, batch)
        if not listed:
            return counts, True
        failed = set(await asyncio.to_thread(store.delete_many, [o.key for o in listed]))
        counts = add_objects(counts, deletion.tenant_id, [(o.key, o.size) for o in listed if o.key not in failed])
        await tenant_deletions.record_objects(pool, deletion.id, counts)
        if failed:
            raise RuntimeError(f"{len(failed)} objects could not be deleted (first: {sorted(failed)[0]})")
    return counts, False


def _first(store: ObjectStore, prefix: str, limit: int) -> list[ObjectInfo]:
    return list(itertools.islice(store.list_prefix(prefix), limit))


async def _store_report(store: ObjectStore, key: EvidenceKey, deletion: TenantDeletion, report: dict[str, object],
                        completed_at: datetime) -> str:
    """The report as JSON and as a signed PDF (with its manifest) under the deployment-level prefix."""
    json_key, pdf_key, manifest_key = report_keys(deletion.tenant_id, deletion.id)
    header, columns, rows = report_table(report)
    pdf = render_pdf(REPORT_TITLE, header, columns, rows, created_at=completed_at)
    manifest = sign_file(key, "deletion_report", pdf, file_name=f"city-deletion-{deletion.tenant_id}.pdf",
                         media_type="application/pdf", issued_at=completed_at.isoformat(),
                         city=report["city"], requested_by=report["requested_by"], completed_at=report["completed_at"],
                         totals=report["totals"])
    await asyncio.to_thread(store.put, json_key, json.dumps(report, indent=2, ensure_ascii=False).encode(),
                            "application/json")
    await asyncio.to_thread(store.put, pdf_key, pdf, "application/pdf")
    await asyncio.to_thread(store.put, manifest_key, json.dumps(manifest, indent=2).encode(), "application/json")
    return json_key
