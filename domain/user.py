"""A user account: who it is, in which city (none for platform admins) and with which role."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from domain.rbac import Principal, Role


@dataclass(frozen=True)
class User:
    id: UUID
    tenant_id: UUID | None
    username: str
    role: Role
    created_at: datetime
    disabled_at: datetime | None = None  # a disabled user cannot log in and has no live session

    @property
    def principal(self) -> Principal:
        return Principal(self.id, self.role, self.tenant_id)
