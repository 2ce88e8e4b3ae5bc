"""The route template of the request being served (``/api/v1/cameras/{camera_id}``): what metrics and access
lines name, never the raw path (ids without bound, and tokens in webhook paths).

FastAPI names the route it routed to in the scope, but keeps an included router's
prefix apart from it, so the app records each endpoint's full template at build
time (``app.state.route_templates``) and the middlewares look it up here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from fastapi import APIRouter
from fastapi.routing import APIRoute, APIWebSocketRoute
from starlette.types import Scope

UNMATCHED = "unmatched"  # paths no route knows: one label, whatever a scanner tries


def templates_of(routers: Iterable[APIRouter], prefix: str) -> dict[Callable[..., Any], str]:
    """Endpoint → full template, for routers included under ``prefix``."""
    return {route.endpoint: prefix + route.path for router in routers for route in router.routes
            if isinstance(route, APIRoute | APIWebSocketRoute)}


def template_of(scope: Scope) -> str:
    """The template of the route that served ``scope``, else ``unmatched``."""
    app = scope.get("app")
    templates: dict[Any, str] = getattr(getattr(app, "state", None), "route_templates", None) or {}
    template = templates.get(scope.get("endpoint"))
    if template is not None:
        return template
    path = getattr(scope.get("route"), "path", None)
    return path if isinstance(path, str) else UNMATCHED
