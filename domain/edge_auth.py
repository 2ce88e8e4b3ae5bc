"""What MediaMTX asks GT-Vision's auth endpoint (``authMethod: http``) and who may do what at the edge.

MediaMTX POSTs ``{user, password, token, ip, action, path, protocol, id, query, userAgent}`` for every client
and action, and allows the action when the answer is 2xx (docs/edge.md). Browsers read and play back a camera's
path with a GT-Vision media token; everything else (publishing, the Control API, metrics, pprof) belongs to the
platform's edge credential alone.
"""

from __future__ import annotations

from enum import StrEnum
from urllib.parse import parse_qs


class EdgeAction(StrEnum):
    PUBLISH = "publish"
    READ = "read"
    PLAYBACK = "playback"
    API = "api"
    METRICS = "metrics"
    PPROF = "pprof"


VIEWING = frozenset({EdgeAction.READ, EdgeAction.PLAYBACK})  # a media token may grant these, nothing else

AUDIT_ACTION = {EdgeAction.READ: "live.view", EdgeAction.PLAYBACK: "playback"}  # the audit trail's names for a look


def token_candidates(token: str, password: str, query: str) -> tuple[str, ...]:
    """Where a viewer's media token may be, in order: ``token`` (MediaMTX's ``Authorization: Bearer``, or the
    password, or RTSP's ``?token=``), the password (a browser's credential dialog: any user, the token as password),
    then the ``token`` parameter of the query string (``.../index.m3u8?token=...``). Empty ones and repeats
    dropped."""
    found = [token, password, *parse_qs(query, keep_blank_values=False).get("token", [])]
    return tuple(dict.fromkeys(t for t in found if t))
