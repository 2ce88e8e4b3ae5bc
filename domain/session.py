"""A login session: what the API checks on every request so that a session can be ended before its tokens expire.

A session is one login. Its refresh tokens rotate within it (each is usable
once); its access and media tokens name it (``sid``) and carry the user's token
generation (``gen``). A token is honoured only while its session is live and the
generation it carries is the user's current one: logging out ends one session,
disabling a user or changing their password bumps the generation and ends all.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from uuid import UUID

from domain.rbac import Principal

MAX_SESSIONS_PER_USER = 100  # a new login past this ends the user's oldest session (rows stay bounded)


@dataclass(frozen=True)
class Session:
    id: UUID
    user_id: UUID
    generation: int


@dataclass(frozen=True)
class Bearer:
    """Who presents a token (or a WebSocket ticket): the user as the API sees them, and the session it belongs to."""

    principal: Principal
    session_id: UUID
    generation: int


def honours(live: Session | None, *, user_id: UUID, generation: int) -> bool:
    """Whether a token naming a session (``live``: as stored now, None when ended) still stands."""
    return live is not None and live.user_id == user_id and live.generation == generation


class RefreshRefused(StrEnum):
    """Why a refresh token was not exchanged (the answer is 401 with this message)."""

    UNKNOWN = "unknown refresh token"
    REUSED = "refresh token already used: its session is ended (a copy of it may have been stolen)"
    ENDED = "session ended"
    EXPIRED = "refresh token expired"
