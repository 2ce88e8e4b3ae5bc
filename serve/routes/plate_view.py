"""``POST/DELETE /users/{id}/plate-view``: a manager lets one of the city's viewers see full plates while the city
masks them (docs/lpr.md "Plate masking"); audited ``user.plate_view_granted`` / ``user.plate_view_revoked``."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter

from serve.deps import Caller, Res
from services import plate_view

router = APIRouter(prefix="/users", tags=["users"])


@router.post("/{user_id}/plate-view")
async def grant_plate_view(user_id: UUID, caller: Caller, res: Res) -> dict[str, Any]:
    """The viewer sees full plates from their next search or socket on (each such view is audited)."""
    return await plate_view.set_full_view(res.pool, caller, user_id, True)


@router.delete("/{user_id}/plate-view")
async def revoke_plate_view(user_id: UUID, caller: Caller, res: Res) -> dict[str, Any]:
    """The viewer sees masked plates again (when the city masks them)."""
    return await plate_view.set_full_view(res.pool, caller, user_id, False)
