"""An audit entry: who did what to which camera's footage (or which setting), when, and with what detail."""

from __future__ import annotations

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
