"""Users of a tenant: managers add and manage their city's viewers; admins add and manage anyone.

Disabling, deleting and resetting a password end every session of the user at
once, open sockets included (docs/security/sessions.md).
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, HTTPException, Query, Response
from pydantic import BaseModel, Field

from domain.rbac import Action, Role
from serve.bodies import bodies, body
from serve.deps import Caller, Res
from serve.password_work import Passwords
from serve.passwords import MIN_PASSWORD_LENGTH
from services import user_admin
from services.scope import require, scoped_tenant
from storage import users

router = APIRouter(prefix="/users", tags=["users"])


class UserIn(BaseModel):
    username: str = Field(min_length=1, max_length=200)
    password: str = Field(min_length=MIN_PASSWORD_LENGTH, max_length=1024)
    role: Role
    tenant_id: UUID | None = None


@router.post("", status_code=201)
async def create_user(user: UserIn, caller: Caller, res: Res, passwords: Passwords) -> dict[str, Any]:
    if user.role == Role.ADMIN:
        require(caller, Action.MANAGE_TENANTS)
        tenant = None
    else:
        tenant = scoped_tenant(caller, user.tenant_id)
        require(caller, Action.WRITE, tenant)
        if caller.role == Role.MANAGER and user.role != Role.VIEWER:
            raise HTTPException(403, "managers may create viewers only")
    password_hash = await passwords.hash(user.password)  # off the event loop, in the replica's password slots
    return body(await user_admin.create(res.pool, caller, username=user.username, password_hash=password_hash,
                                        role=user.role, tenant_id=tenant))


@router.get("")
async def list_users(caller: Caller, res: Res, tenant_id: UUID | None = Query(None)) -> list[dict[str, Any]]:
    tenant = scoped_tenant(caller, tenant_id)
    require(caller, Action.WRITE, tenant)  # user lists are for managers and admins
    return bodies(await users.list_for_tenant(res.pool, tenant))


class RoleChange(BaseModel):
    role: Role


class PasswordReset(BaseModel):
    password: str = Field(min_length=MIN_PASSWORD_LENGTH, max_length=1024)


@router.post("/{user_id}/disable")
async def disable_user(user_id: UUID, caller: Caller, res: Res) -> dict[str, Any]:
    """The user can no longer log in, and every session of theirs ends now."""
    disabled = await user_admin.disable(res.pool, caller, user_id)
    res.sessions.forget_all()
    return body(disabled)


@router.post("/{user_id}/enable")
async def enable_user(user_id: UUID, caller: Caller, res: Res) -> dict[str, Any]:
    """The user may log in again (sessions ended by disabling stay ended)."""
    return body(await user_admin.enable(res.pool, caller, user_id))


@router.post("/{user_id}/role")
async def change_role(user_id: UUID, change: RoleChange, caller: Caller, res: Res) -> dict[str, Any]:
    """Make a city's user a manager or a viewer (platform admins; within the plan's quotas); every session of
    theirs ends now (their tokens carry the old role)."""
    changed = await user_admin.change_role(res.pool, caller, user_id, change.role)
    res.sessions.forget_all()
    return body(changed)


@router.delete("/{user_id}", status_code=204)
async def delete_user(user_id: UUID, caller: Caller, res: Res) -> Response:
    """Gone from listings and logins, every session ended; the audit trail keeps naming them."""
    await user_admin.delete(res.pool, caller, user_id)
    res.sessions.forget_all()
    return Response(status_code=204)


@router.post("/{user_id}/password", status_code=204)
async def reset_password(user_id: UUID, reset: PasswordReset, caller: Caller, res: Res,
                         passwords: Passwords) -> Response:
    """Set another user's password (they must log in with it); every session of theirs ends now."""
    await user_admin.reset_password(res.pool, caller, user_id, await passwords.hash(reset.password))
    res.sessions.forget_all()
    return Response(status_code=204)
