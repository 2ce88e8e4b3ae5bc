"""A city's LPR watchlist: plates (exact or with ? and *) whose reads alert the operators."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, HTTPException, Query, Response
from pydantic import BaseModel, Field

from domain.lpr.plates import BadPlate, search_pattern
from domain.rbac import Action
from serve.bodies import bodies, body
from serve.deps import Caller, Res
from services.scope import require, scoped_tenant
from storage import audit, watchlists

router = APIRouter(prefix="/lpr/watchlist", tags=["lpr"])


class WatchIn(BaseModel):
    plate: str = Field(min_length=1, max_length=20, description="exact, or with ? (one character) and * (any run)")
    reason: str = Field(min_length=1, max_length=2000)
    tenant_id: UUID | None = None


@router.post("", status_code=201)
async def add_plate(watch: WatchIn, caller: Caller, res: Res) -> dict[str, Any]:
    tenant = scoped_tenant(caller, watch.tenant_id)
    require(caller, Action.WRITE, tenant)
    try:
        search_pattern(watch.plate)  # validates; the stored form keeps ? and *
    except BadPlate as exc:
        raise HTTPException(422, str(exc)) from None
    pattern = "".join(c for c in watch.plate.upper() if c.isalnum() or c in "?*")
    entry = await watchlists.create(res.pool, tenant, pattern, watch.reason, caller.user_id)
    await audit.record(res.pool, caller.user_id, "lpr.watchlist.added", tenant_id=tenant,
                       detail={"pattern": pattern, "reason": watch.reason})
    return body(entry)


@router.get("")
async def list_plates(caller: Caller, res: Res, tenant_id: UUID | None = Query(None)) -> list[dict[str, Any]]:
    return bodies(await watchlists.list_for_tenant(res.pool, scoped_tenant(caller, tenant_id)))


@router.delete("/{entry_id}", status_code=204)
async def remove_plate(entry_id: UUID, caller: Caller, res: Res, tenant_id: UUID | None = Query(None)) -> Response:
    tenant = scoped_tenant(caller, tenant_id)
    require(caller, Action.WRITE, tenant)
    if not await watchlists.delete(res.pool, tenant, entry_id):
        raise HTTPException(404, "watchlist entry not found")
    await audit.record(res.pool, caller.user_id, "lpr.watchlist.removed", tenant_id=tenant,
                       detail={"entry_id": str(entry_id)})
    return Response(status_code=204)
