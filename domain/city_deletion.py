"""Deleting a city after a grace period: when it is due, what each of its objects is, and the final report.

A deletion is scheduled (the city stops recording, its users cannot log in), may be cancelled until it is due,
and is then carried out by the retention pass (services/city_deletion.py): every object under the city's prefix
and every row of the city, except the audit trail (append-only, the legal record of what happened) and the
deletion's own row, which holds the final report.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

KEPT_TABLES = ("audit_log", "tenant_deletions")  # rows of the city that outlive it (see the module docstring)
OBJECT_KINDS = ("recordings", "thumbnails", "clips", "clip_manifests", "lpr_images", "other")
REPORT_PREFIX = "platform/city-deletions"  # deployment-level: outside every city's prefix


@dataclass(frozen=True)
class TenantDeletion:
    """A scheduled, running, completed or cancelled deletion of one city (a row of ``tenant_deletions``)."""

    id: int
    tenant_id: UUID
    tenant_name: str
    requested_at: datetime
    requested_by: UUID | None
    requested_by_name: str | None
    due_at: datetime
    state: str  # scheduled | deleting | deleted | cancelled
    cancelled_at: datetime | None
    objects: dict[str, dict[str, int]]
    rows_deleted: dict[str, int] | None
    completed_at: datetime | None
    report: dict[str, Any] | None
    report_key: str | None


def due_at(requested_at: datetime, grace_days: float) -> datetime:
    return requested_at + timedelta(days=grace_days)


def hold_refusal(active_holds: int) -> str | None:
    """Why a city with ``active_holds`` may not be deleted (None: it may)."""
    if not active_holds:
        return None
    return (f"the city has {active_holds} active legal hold(s): footage under a legal hold may not be deleted;"
            " release the holds first")


def city_prefix(tenant_id: UUID) -> str:
    """Every object of a city lives under this prefix (recordings, thumbnails, clips, LPR images)."""
    return f"t/{tenant_id}/"


def object_kind(key: str, tenant_id: UUID) -> str:
    """Which kind of the city's objects a key is (for the report's counts)."""
    rest = key.removeprefix(city_prefix(tenant_id))
    if rest.startswith("c/"):
        return "thumbnails" if rest.endswith(".jpg") else "recordings"
    if rest.startswith("clips/"):
        return "clip_manifests" if rest.endswith(".json") else "clips"
    if rest.startswith("lpr/"):
        return "lpr_images"
    return "other"


def add_objects(counts: dict[str, dict[str, int]], tenant_id: UUID,
                deleted: Iterable[tuple[str, int]]) -> dict[str, dict[str, int]]:
    """``counts`` (kind → {objects, bytes}) plus the (key, size) pairs just deleted."""
    total = {kind: dict(value) for kind, value in counts.items()}
    for key, size in deleted:
        entry = total.setdefault(object_kind(key, tenant_id), {"objects": 0, "bytes": 0})
        entry["objects"] += 1
        entry["bytes"] += size
    return total


def deletion_report(deletion: TenantDeletion, rows: dict[str, int], completed_at: datetime,
                    audit_row_hash: str) -> dict[str, Any]:
    """The final report: what was deleted (objects and bytes per kind, rows per table), when it was asked for and
    by whom, when it was done, and what was kept."""
    objects = deletion.objects
    return {
        "city": {"id": str(deletion.tenant_id), "name": deletion.tenant_name},
        "requested_at": deletion.requested_at.isoformat(),
        "requested_by": {"user_id": str(deletion.requested_by) if deletion.requested_by else None,
                         "username": deletion.requested_by_name},
        "due_at": deletion.due_at.isoformat(),
        "completed_at": completed_at.isoformat(),
        "objects": objects,
        "totals": {"objects": sum(v["objects"] for v in objects.values()),
                   "bytes": sum(v["bytes"] for v in objects.values()), "rows": sum(rows.values())},
        "rows": rows,
        "kept": {"audit_log": "the audit trail is append-only and hash-chained: it is kept as the legal record"
                              " of what was done with the city's footage, including this deletion",
                 "tenant_deletions": "this report"},
        "audit_row_hash": audit_row_hash,
    }


def report_table(report: dict[str, Any]) -> tuple[list[tuple[str, str]], list[str], list[list[str]]]:
    """The report as a PDF's header, columns and rows (Portuguese)."""
    header = [
        ("Cidade", f"{report['city']['name']} ({report['city']['id']})"),
        ("Exclusão pedida em", f"{report['requested_at']} por {report['requested_by']['username']}"),
        ("Prazo de carência até", report["due_at"]),
        ("Concluída em", report["completed_at"]),
        ("Total", f"{report['totals']['objects']} objetos, {report['totals']['bytes']} bytes,"
                  f" {report['totals']['rows']} linhas"),
        ("Mantido", "o registro de auditoria (encadeado, somente inclusão) e este relatório"),
        ("Registro de auditoria da exclusão", report["audit_row_hash"]),
    ]
    rows = [["objetos", kind, str(v["objects"]), str(v["bytes"])] for kind, v in sorted(report["objects"].items())]
    rows += [["linhas", table, str(count), "-"] for table, count in sorted(report["rows"].items())]
    return header, ["O que", "Tipo / tabela", "Quantidade", "Bytes"], rows


def report_keys(tenant_id: UUID, deletion_id: int) -> tuple[str, str, str]:
    """Where the report's JSON, PDF and PDF manifest are kept in the store."""
    base = f"{REPORT_PREFIX}/{tenant_id}/{deletion_id}"
    return f"{base}/report.json", f"{base}/report.pdf", f"{base}/report.pdf.manifest.json"
