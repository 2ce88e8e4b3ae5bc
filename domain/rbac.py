"""Who may do what: roles, actions and the one decision function.

Admins run the platform (all tenants); managers run one city; viewers watch one
city. Tenant isolation is decided here and enforced again in every query.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from uuid import UUID


class Role(StrEnum):
    ADMIN = "admin"
    MANAGER = "manager"
    VIEWER = "viewer"


class Action(StrEnum):
    READ = "read"
    WRITE = "write"
    MANAGE_TENANTS = "manage_tenants"
    LGPD = "lgpd"  # data-subject requests about plates: reports, exports, anonymization (docs/lpr.md)


@dataclass(frozen=True)
class Principal:
    """An authenticated user as the API sees it."""

    user_id: UUID
    role: Role
    tenant_id: UUID | None  # None only for platform admins


_ALLOWED: dict[Role, frozenset[Action]] = {
    Role.ADMIN: frozenset(Action),
    Role.MANAGER: frozenset({Action.READ, Action.WRITE, Action.LGPD}),
    Role.VIEWER: frozenset({Action.READ}),
}


def may(principal: Principal, action: Action, tenant_id: UUID | None = None) -> bool:
    """Whether ``principal`` may do ``action`` on data of ``tenant_id``."""
    if action not in _ALLOWED[principal.role]:
        return False
    if principal.role == Role.ADMIN:
        return True
    return tenant_id is not None and tenant_id == principal.tenant_id


def visible_tenant(principal: Principal, requested: UUID | None) -> UUID | None:
    """The tenant whose data a request may touch, or None if it may touch none.

    Admins name the tenant; everyone else is pinned to their own, whatever they ask.
    """
    if principal.role == Role.ADMIN:
        return requested
    if requested is not None and requested != principal.tenant_id:
        return None
    return principal.tenant_id
