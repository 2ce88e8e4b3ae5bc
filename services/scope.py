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
from storage import cameras, owners
from storage.owners import Owned

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


async def found_in_scope(pool: asyncpg.Pool, caller: Principal, what: Owned, thing_id: UUID,
                         get: Callable[[UUID], Awaitable[T | None]]) -> T:
    """The thing as ``get(tenant)`` finds it in the caller's city (for platform admins, in the thing's own city),
    or NotFound "{what} not found" — for another city's thing too."""
    tenant = await owners.tenant_of(pool, what, thing_id) if caller.role == Role.ADMIN else caller.tenant_id
    found = await get(tenant) if tenant else None
    if found is None:
        raise NotFound(f"{what} not found")
    return found


def found(thing: T | None, what: str) -> T:
    """``thing``, or NotFound "{what} not found"."""
    if thing is None:
        raise NotFound(f"{what} not found")
    return thing


async def camera_in_scope(pool: asyncpg.Pool, caller: Principal, camera_id: UUID) -> Camera:
    return await found_in_scope(pool, caller, "camera", camera_id, lambda tenant: cameras.get(pool, tenant, camera_id))
