"""Login and token refresh."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, Field

from domain.rbac import Principal
from serve import tokens
from serve.deps import Caller, Res
from serve.login_guard import client_address, login_guard
from storage import users

router = APIRouter(prefix="/auth", tags=["auth"])


class Login(BaseModel):
    username: str = Field(min_length=1, max_length=200)
    password: str = Field(min_length=1, max_length=1024)


class Refresh(BaseModel):
    refresh_token: str = Field(min_length=1, max_length=4096)


def _token_pair(res: Res, who: Principal) -> dict[str, Any]:
    s = res.settings
    return {
        "access_token": tokens.issue(who, s.key("jwt"), kind="access", ttl_s=s.access_token_ttl_s),
        "refresh_token": tokens.issue(who, s.key("jwt"), kind="refresh", ttl_s=s.refresh_token_ttl_s),
        "token_type": "bearer",
        "expires_in": s.access_token_ttl_s,
    }


@router.post("/login")
async def login(body: Login, request: Request, res: Res) -> dict[str, Any]:
    # Failure limits, then a bounded Argon2id check off the event loop (serve/login_guard.py): 401, 429 or 503.
    user = await login_guard(request).authenticate(res.pool, client_address(request), body.username, body.password)
    return _token_pair(res, user.principal)


@router.post("/refresh")
async def refresh(body: Refresh, res: Res) -> dict[str, Any]:
    try:
        who = tokens.verify(body.refresh_token, res.settings.key("jwt"), kind="refresh")
    except tokens.InvalidToken as exc:
        raise HTTPException(401, str(exc)) from None
    user = await users.get(res.pool, who.user_id)
    if user is None:
        raise HTTPException(401, "user no longer exists")
    return _token_pair(res, user.principal)


@router.get("/me")
async def me(caller: Caller) -> dict[str, Any]:
    return {"user_id": caller.user_id, "role": caller.role, "tenant_id": caller.tenant_id}
