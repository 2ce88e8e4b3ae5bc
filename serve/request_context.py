"""Every API request gets an id, echoed in ``X-Request-ID`` and carried by each log line written for it.

An incoming ``X-Request-ID`` is kept when it is well formed (a proxy or a
client tracing its own calls), else replaced by a fresh one, so a header
cannot inject text into log lines. Behind Ray Serve every request arrives with
one: Serve's proxy keeps the client's or makes its own, and echoes it in the
answer, so Serve's lines and ours name a request alike. The id, and once the caller is known its
user and city (serve/deps.py), live in the log context (storage/log_context.py)
for the request's duration; actor_client passes the id on to actors. The client's address (the peer, or
what a trusted proxy forwarded for it) is the request's audit source (storage/request_source.py).

A pure ASGI middleware, not Starlette's BaseHTTPMiddleware: the route runs in
this very context, so what the route learns (the caller) is in the access line.
The access line names the route's template (``/api/v1/cameras/{camera_id}/status``),
never the query string or the raw path: media tokens travel in ``?token=`` and
LPR push tokens in webhook paths. Successful fast requests log at DEBUG (live
video and webhooks are many); errors and slow ones at INFO.
"""

from __future__ import annotations

import logging
import re
import time
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from domain.forwarded import Network, client_address
from serve.route_templates import template_of
from storage.log_context import fresh_log_context, log_context
from storage.request_source import request_source

log = logging.getLogger("gtvision.access")

REQUEST_ID_HEADER = "X-Request-ID"
_WELL_FORMED = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")
_SLOW_S = 1.0


def request_id_from(header: str | None) -> str:
    """The incoming id if well formed (letters, digits, ``. _ : -``, up to 128), else a new one."""
    if header is not None and _WELL_FORMED.fullmatch(header):
        return header
    return uuid.uuid4().hex


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return str(value.decode("latin-1"))
    return None


def _client(scope: Scope, trusted: tuple[Network, ...]) -> str | None:
    """Where the request came from: the peer, or behind a trusted proxy the address it forwarded."""
    peer = scope.get("client")
    forwarded = [str(v.decode("latin-1")) for k, v in scope.get("headers", []) if k.lower() == b"x-forwarded-for"]
    return client_address(peer[0] if peer else None, forwarded, trusted)


class RequestContext:
    """Gives each HTTP request and WebSocket an id, a log context and (HTTP) an access line."""

    def __init__(self, app: ASGIApp, *, echo: bool = True, trusted: tuple[Network, ...] = ()) -> None:
        self.app = app
        self._echo = echo  # False behind Serve's proxy, which sets the header on requests and echoes it itself
        self._trusted = trusted  # our reverse proxies: only their X-Forwarded-For names the client

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        request_id = request_id_from(_header(scope, b"x-request-id"))
        status: list[int] = []

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                status.append(message["status"])
                if self._echo:
                    message["headers"] = [*message.get("headers", []),
                                          (REQUEST_ID_HEADER.lower().encode(), request_id.encode())]
            await send(message)

        with fresh_log_context(request_id=request_id), request_source(_client(scope, self._trusted)):
            started = time.monotonic()
            try:
                await self.app(scope, receive, send_with_id)
            finally:
                if scope["type"] == "http":
                    _access_line(scope, status[0] if status else 500, time.monotonic() - started)


def _access_line(scope: Scope, status: int, elapsed_s: float) -> None:
    level = logging.INFO if status >= 400 or elapsed_s >= _SLOW_S else logging.DEBUG
    if not log.isEnabledFor(level):
        return
    path = template_of(scope)
    camera_id = (scope.get("path_params") or {}).get("camera_id")
    with log_context(camera_id=camera_id):
        log.log(level, "%s %s %d %.1f ms", scope.get("method", "?"), path, status, elapsed_s * 1000)
