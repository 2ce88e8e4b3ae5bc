"""Legal holds: a range of one camera's footage that retention must keep until the hold is released."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID


@dataclass(frozen=True)
class Hold:
    id: UUID
    tenant_id: UUID
    camera_id: UUID
    start: datetime
    end: datetime
    reason: str
    case_number: str
    created_by: UUID
    created_at: datetime
    released_at: datetime | None
    released_by: UUID | None
    release_reason: str | None
