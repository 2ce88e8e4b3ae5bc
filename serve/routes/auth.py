"""Login, token refresh (rotating), logout and changing one's own password (docs/security/sessions.md)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, Field

from domain.rbac import Principal
from domain.session import Bearer, Session
from serve import tokens
from serve.deps import Caller, CallerSession, Res
from serve.login_guard import LoginFailed, client_address, login_guard
from serve.password_work import Passwords
from serve.passwords import MIN_PASSWORD_LENGTH
from services import sessions, user_admin
from services.refusals import NotAuthenticated
from storage import users

router = APIRouter(prefix="/auth", tags=["auth"])


class Login(BaseModel):
    username: str = Field(min_length=1, max_length=200)
    password: str = Field(min_length=1, max_length=1024)
    tenant_id: UUID | None = Field(None, description="the user's city: needed when the name is used in several")


class Refresh(BaseModel):
    refresh_token: str = Field(min_length=1, max_length=4096)


class PasswordChange(BaseModel):
    current_password: str = Field(min_length=1, max_length=1024)
    new_password: str = Field(min_length=MIN_PASSWORD_LENGTH, max_length=1024)


def _token_pair(res: Res, who: Principal, session: Session, refresh_id: Any) -> dict[str, Any]:
    s = res.settings
    bearer = Bearer(who, session.id, session.generation)
    return {
        "access_token": tokens.issue(bearer, s.key("jwt"), kind=tokens.ACCESS, ttl_s=s.access_token_ttl_s),
        "refresh_token": tokens.issue(bearer, s.key("jwt"), kind=tokens.REFRESH, ttl_s=s.refresh_token_ttl_s,
                                      token_id=refresh_id),
        "token_type": "bearer",
        "expires_in": s.access_token_ttl_s,
    }


async def _new_session(res: Res, who: Principal) -> dict[str, Any]:
    session, refresh_id = await sessions.start(res.pool, who.user_id, refresh_ttl_s=res.settings.refresh_token_ttl_s)
    return _token_pair(res, who, session, refresh_id)


@router.post("/login")
async def login(body: Login, request: Request, res: Res) -> dict[str, Any]:
    # Failure limits, then a bounded Argon2id check off the event loop (serve/login_guard.py): 401, 429 or 503.
    # A wrong password is audited (429 and 503 checked no password: they are counted, not audited).
    try:
        user = await login_guard(request).authenticate(res.pool, client_address(request), body.username,
                                                       body.password, tenant_id=body.tenant_id)
    except LoginFailed as failed:
        await sessions.login_failed(res.pool, body.username, failed.user)
        raise
    session, refresh_id = await sessions.log_in(res.pool, user.principal,
                                                refresh_ttl_s=res.settings.refresh_token_ttl_s)
    return _token_pair(res, user.principal, session, refresh_id)


@router.post("/refresh")
async def refresh(body: Refresh, res: Res) -> dict[str, Any]:
    """A new token pair; the refresh token presented is dead from now on. Presenting it again ends the session."""
    try:
        holder, token_id = tokens.verify_refresh(body.refresh_token, res.settings.key("jwt"))
    except tokens.InvalidToken as exc:
        raise HTTPException(401, str(exc)) from None
    try:
        session, next_id = await sessions.refresh(res.pool, holder, token_id,
                                                  refresh_ttl_s=res.settings.refresh_token_ttl_s)
    except NotAuthenticated:
        res.sessions.forget_all()  # a reused token has just ended its session: refuse its access tokens here at once
        raise
    user = await users.get(res.pool, session.user_id)
    if user is None:
        raise HTTPException(401, "user no longer exists")
    return _token_pair(res, user.principal, session, next_id)


@router.post("/logout", status_code=204)
async def logout(caller: CallerSession, res: Res) -> None:
    """End the caller's session: its refresh token, its access and media tokens and its open sockets stop working
    (other sessions of the same user go on)."""
    await sessions.end(res.pool, caller)
    res.sessions.forget_all()


@router.post("/password")
async def change_password(body: PasswordChange, caller: Caller, res: Res, passwords: Passwords) -> dict[str, Any]:
    """Change one's own password: every session of the user ends (other devices too); the answer is a new token
    pair for this client."""
    current = await users.password_hash(res.pool, caller.user_id)
    if not await passwords.verify(current, body.current_password):  # off the loop, in the password slots
        raise HTTPException(403, "the current password is wrong")
    await user_admin.change_own_password(res.pool, caller, await passwords.hash(body.new_password))
    res.sessions.forget_all()
    return await _new_session(res, caller)


@router.get("/me")
async def me(caller: Caller) -> dict[str, Any]:
    return {"user_id": caller.user_id, "role": caller.role, "tenant_id": caller.tenant_id}
