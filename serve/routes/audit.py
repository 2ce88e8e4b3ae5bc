"""The audit trail of a city: who watched, exported and downloaded what (managers and admins)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Query

from domain.rbac import Action
from serve.bodies import bodies
from serve.deps import Caller, Res
from serve.time_range import checked_range
from services.scope import require, scoped_tenant
from storage import audit

router = APIRouter(prefix="/audit", tags=["audit"])


@router.get("")
async def audit_log(caller: Caller, res: Res, start: datetime = Query(...), end: datetime = Query(...),
                    tenant_id: UUID | None = Query(None), camera_id: UUID | None = Query(None),
                    action: str | None = Query(None, max_length=100),
                    limit: int = Query(1000, ge=1, le=10_000)) -> list[dict[str, Any]]:
    tenant = scoped_tenant(caller, tenant_id)
    require(caller, Action.WRITE, tenant)  # viewers do not read the trail of others
    checked_range(start, end, timedelta(days=366))
    return bodies(await audit.between(res.pool, tenant, start, end, camera_id=camera_id, action=action, limit=limit))
