"""The MediaMTX edge's authentication endpoint (``authMethod: http``, ``authHTTPAddress``; docs/edge.md).

MediaMTX POSTs, for every client and action, ``{user, password, token, ip, action, path, protocol, id, query,
userAgent}`` and allows the action on a 2xx answer. Here:

- the platform's edge credential (``domain/edge_credential.py``: the Fleet, the recorders, Prometheus) may do
  anything;
- anyone else may only ``read`` or ``playback`` a camera path ``cam/{camera_id}``, with a GT-Vision media token
  bound to that camera (``POST /cameras/{id}/media-token``), for a camera in the token holder's city; each
  allowed look is audited like the API's own live view and playback;
- everything else is refused with 401 and a short reason (MediaMTX asks an RTSP client for credentials on 401).
"""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel

from domain.edge_auth import AUDIT_ACTION, VIEWING, EdgeAction, token_candidates
from domain.edge_credential import edge_credential
from domain.edge_paths import camera_of_path
from domain.rbac import Principal
from serve import tokens
from serve.deps import Res, Resources
from serve.session_check import SESSION_REVOKED
from services.media_access import open_footage
from services.refusals import Refusal

router = APIRouter(prefix="/edge", tags=["edge"])

_ALLOWED = {"status": "ok"}


class EdgeAuthRequest(BaseModel):
    """MediaMTX's request body, as its authentication documentation gives it (``userAgent`` and unknown fields are
    ignored)."""

    user: str = ""
    password: str = ""
    token: str = ""
    ip: str = ""
    action: str
    path: str = ""
    protocol: str = ""
    id: str | None = None  # the session's id, null when there is none
    query: str = ""


@router.post("/auth")
async def edge_auth(body: EdgeAuthRequest, res: Res) -> dict[str, str]:
    """2xx: MediaMTX allows the action; 401 with a reason: it refuses."""
    if edge_credential(res.settings).matches(body.user, body.password):
        return _ALLOWED
    try:
        action = EdgeAction(body.action)
    except ValueError:
        raise _refused(f"unknown action {body.action!r}") from None
    if action not in VIEWING:
        raise _refused(f"only the platform may {action.value}")
    camera_id = camera_of_path(body.path)
    if camera_id is None:
        raise _refused("not a camera path (cam/{camera_id})")
    who = await _viewer(res, body, camera_id)
    try:
        await open_footage(res.pool, who, camera_id, AUDIT_ACTION[action],
                           detail={"transport": body.protocol, "via": "edge", "ip": body.ip})
    except Refusal:  # another city's camera, or none: the same answer
        raise _refused("camera not found") from None
    return _ALLOWED


async def _viewer(res: Resources, body: EdgeAuthRequest, camera_id: UUID) -> Principal:
    """The holder of a valid media token for ``camera_id`` among those the request carries, while its session
    stands."""
    reason = "a media token is required (Authorization: Bearer, ?token= or as password)"
    for token in token_candidates(body.token, body.password, body.query):
        try:
            who, bound_to = tokens.verify_media(token, res.settings.key("media"))
        except tokens.InvalidToken as exc:
            reason = f"media token: {exc}"
            continue
        if not await res.sessions.holds(who):
            reason = f"media token: {SESSION_REVOKED}"
        elif bound_to == camera_id:
            return who.principal
        else:
            reason = "the media token is for another camera"
    raise _refused(reason)


def _refused(reason: str) -> HTTPException:
    return HTTPException(401, reason)
