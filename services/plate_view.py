"""Who sees full plates: a city's masking policy applied to a caller, and the full-view grants managers give.

The rule is domain/lpr/masking.py; this reads what it needs (one query) and records the grants.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import asyncpg

from domain.lpr.masking import PlateView, plate_view
from domain.rbac import Principal, Role
from services.refusals import Invalid, NotFound
from services.user_admin import manageable
from storage import audit, plate_masking


async def plate_view_for(pool: asyncpg.Pool, caller: Principal, tenant_id: UUID) -> PlateView:
    """How ``caller`` sees the plates of ``tenant_id`` (a city the caller may read: checked by the route)."""
    policy_on, granted = await plate_masking.settings_of(pool, tenant_id, caller.user_id)
    return plate_view(caller.role, policy_on, granted)


async def audit_unmasked(pool: asyncpg.Pool, caller: Principal, tenant_id: UUID, view: PlateView, via: str,
                         **detail: Any) -> None:
    """One ``lpr.unmasked_view`` row for a request that showed full plates while the city masks them."""
    if view.audited:
        await audit.record(pool, caller.user_id, "lpr.unmasked_view", tenant_id=tenant_id,
                           detail={"via": via, "role": caller.role.value, **detail})


async def set_full_view(pool: asyncpg.Pool, caller: Principal, user_id: UUID, on: bool) -> dict[str, Any]:
    """Grant (``on``) or revoke a viewer's full view of plates; managers of the viewer's city and admins only."""
    target = await manageable(pool, caller, user_id)
    if target.role != Role.VIEWER:
        raise Invalid(f"a {target.role.value} always sees full plates; full view is granted to viewers only")
    await plate_masking.set_full_view(pool, target.id, on)
    await audit.record(pool, caller.user_id, "user.plate_view_granted" if on else "user.plate_view_revoked",
                       tenant_id=target.tenant_id, detail={"user_id": str(target.id), "username": target.username})
    return {"user_id": target.id, "username": target.username, "plate_full_view": on}


async def set_masking_policy(pool: asyncpg.Pool, caller: Principal, tenant_id: UUID, on: bool) -> None:
    """Turn the city's plate masking on or off (the tenants PATCH, admins); audited ``tenant.plate_masking``."""
    if not await plate_masking.set_policy(pool, tenant_id, on):
        raise NotFound("tenant not found")
    await audit.record(pool, caller.user_id, "tenant.plate_masking", tenant_id=tenant_id, detail={"plate_masking": on})


async def masking_policy(pool: asyncpg.Pool, tenant_id: UUID) -> dict[str, Any]:
    """The city's policy as the tenants API shows it."""
    return {"plate_masking": bool(await plate_masking.policy(pool, tenant_id))}
