"""``GET /cameras.geojson``: the city's cameras as map markers coloured by health (domain/camera_map.py)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from domain.camera_map import camera_features
from serve.deps import Caller, Res
from services.scope import scoped_tenant
from storage import cameras
from storage import tenant_health as tenant_health_store

router = APIRouter(tags=["cameras"])


@router.get("/cameras.geojson", response_class=JSONResponse)
async def cameras_geojson(caller: Caller, res: Res, tenant_id: UUID | None = Query(None)) -> Any:
    tenant = scoped_tenant(caller, tenant_id)
    found = await cameras.list_for_tenant(res.pool, tenant, limit=10_000, offset=0)
    health = await tenant_health_store.cameras(res.pool, tenant)
    return JSONResponse(camera_features(found, health), media_type="application/geo+json")
