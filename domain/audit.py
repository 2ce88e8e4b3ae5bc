"""An audit entry: who did what to which camera's footage (or which setting), when, from where, with what detail;
and how the trail is searched and exported (docs/audit.md)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: datetime
    user_id: UUID | None
    action: str
    camera_id: UUID | None
    range_start: datetime | None
    range_end: datetime | None
    detail: dict[str, Any]
    tenant_id: UUID | None = None
    source: str | None = None  # the client address of the request that wrote it, if a request did
    row_hash: str = ""  # hex: the row's link in the chain (domain/audit_chain.py)


@dataclass(frozen=True)
class ActionFilter:
    """``action`` as a search asks for it: exact (``user.login``), or every action under a prefix that ends with a
    dot (``lpr.`` matches ``lpr.search`` and ``lpr.watchlist.added``)."""

    exact: str | None = None
    prefix: str | None = None


def action_filter(action: str | None) -> ActionFilter:
    if not action:
        return ActionFilter()
    return ActionFilter(prefix=action) if action.endswith(".") else ActionFilter(exact=action)


CSV_COLUMNS = ("id", "at", "tenant_id", "user_id", "action", "camera_id", "range_start", "range_end", "source",
               "detail", "row_hash")


def csv_row(entry: AuditEntry) -> list[str]:
    """The entry as a CSV line's cells (instants in ISO 8601 UTC, detail as compact JSON, absent as empty)."""
    def cell(value: object) -> str:
        if value is None:
            return ""
        return value.isoformat() if isinstance(value, datetime) else str(value)

    return [cell(entry.id), cell(entry.at), cell(entry.tenant_id), cell(entry.user_id), entry.action,
            cell(entry.camera_id), cell(entry.range_start), cell(entry.range_end), cell(entry.source),
            json.dumps(entry.detail, ensure_ascii=False, sort_keys=True, separators=(",", ":")), entry.row_hash]
