"""The city-scope check: which city a request works in, and finding a city's thing for a caller.

Another city's thing is "not found" (never "forbidden"), so ids cannot be
probed across cities; platform admins reach every city's things.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar
from uuid import UUID

import asyncpg

from domain.camera import Camera
from domain.rbac import Action, Principal, Role, may, visible_tenant
from services.refusals import Invalid, NotAllowed, NotFound
from storage import cameras

T = TypeVar("T")


def require(caller: Principal, action: Action, tenant_id: UUID | None = None) -> None:
    if not may(caller, action, tenant_id):
        raise NotAllowed(f"role {caller.role.value} may not {action.value} here")


def scoped_tenant(caller: Principal, requested: UUID | None) -> UUID:
    """The tenant a request works in. Another tenant's data is simply not found."""
    tenant = visible_tenant(caller, requested)
    if tenant is None:
        if requested is None:
            raise Invalid("tenant_id is required for platform admins")
        raise NotFound("tenant not found")
    return tenant


async def owning_tenant(caller: Principal, lookup: Callable[[], Awaitable[UUID | None]]) -> UUID | None:
    """Where to look for a tenant-owned thing: the caller's own tenant; for platform admins, the thing's."""
    return await lookup() if caller.role == Role.ADMIN else caller.tenant_id


async def found_in_scope(caller: Principal, what: str, tenant_of: Callable[[], Awaitable[UUID | None]],
                         get: Callable[[UUID], Awaitable[T | None]]) -> T:
    """The caller's tenant's thing, or NotFound "{what} not found" — for another tenant's thing too."""
    tenant = await owning_tenant(caller, tenant_of)
    found = await get(tenant) if tenant else None
    if found is None:
        raise NotFound(f"{what} not found")
    return found


async def camera_in_scope(pool: asyncpg.Pool, caller: Principal, camera_id: UUID) -> Camera:
    return await found_in_scope(caller, "camera", lambda: cameras.tenant_of(pool, camera_id),
                                lambda tenant: cameras.get(pool, tenant, camera_id))
