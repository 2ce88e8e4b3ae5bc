"""Users of a tenant: managers add viewers; admins add anyone."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel, Field

from domain.rbac import Action, Role
from domain.retention import Quota
from serve.deps import Caller, Res, require, scoped_tenant
from serve.passwords import MIN_PASSWORD_LENGTH, hash_password
from storage import plans, users

router = APIRouter(prefix="/users", tags=["users"])


class UserIn(BaseModel):
    username: str = Field(min_length=1, max_length=200)
    password: str = Field(min_length=MIN_PASSWORD_LENGTH, max_length=1024)
    role: Role
    tenant_id: UUID | None = None


@router.post("", status_code=201)
async def create_user(body: UserIn, caller: Caller, res: Res) -> dict[str, Any]:
    if body.role == Role.ADMIN:
        require(caller, Action.MANAGE_TENANTS)
        tenant = None
    else:
        tenant = scoped_tenant(caller, body.tenant_id)
        require(caller, Action.WRITE, tenant)
        if caller.role == Role.MANAGER and body.role != Role.VIEWER:
            raise HTTPException(403, "managers may create viewers only")
    password_hash = hash_password(body.password)
    if tenant is None:
        return await users.create(res.pool, username=body.username, password_hash=password_hash,
                                  role=body.role.value, tenant_id=None)
    quota = Quota.MANAGERS if body.role == Role.MANAGER else Quota.VIEWERS
    async with plans.within_quota(res.pool, tenant, quota) as conn:
        return await users.create(conn, username=body.username, password_hash=password_hash,
                                  role=body.role.value, tenant_id=tenant)


@router.get("")
async def list_users(caller: Caller, res: Res, tenant_id: UUID | None = Query(None)) -> list[dict[str, Any]]:
    tenant = scoped_tenant(caller, tenant_id)
    require(caller, Action.WRITE, tenant)  # user lists are for managers and admins
    return await users.list_for_tenant(res.pool, tenant)
