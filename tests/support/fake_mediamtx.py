"""A stand-in for MediaMTX's Control API v3 (path configuration), on 127.0.0.1, for the edge provisioning tests.

It answers as MediaMTX's ``api/openapi.yaml`` and ``internal/api/api_config_paths.go`` (v1.20.1) do:

- ``GET /v3/config/paths/list?page=&itemsPerPage=`` → ``{itemCount, pageCount, items}`` (items sorted by name,
  every key of each path: the defaults too; ``itemsPerPage`` defaults to 100);
- ``GET /v3/config/paths/get/{name}`` → the path, or 404;
- ``POST /v3/config/paths/add/{name}`` → ``{status: ok}``; 400 when it exists or a key is unknown;
- ``PATCH /v3/config/paths/patch/{name}``, ``POST .../replace/{name}`` → ``{status: ok}``; 404 when missing;
- ``DELETE /v3/config/paths/delete/{name}`` → ``{status: ok}``; 404 when missing;
- ``GET /v3/paths/list`` → the runtime paths ``{itemCount, pageCount, items: [{name, confName, ready, ...}]}``;
- errors are ``{status: error, error: message}``.

Every request is recorded (method, path, query, JSON body, Authorization header) for the test to assert on;
``failing`` makes every answer a 500, as a MediaMTX in trouble would; ``unlisted`` paths exist but are not listed
(as if added by someone else after the listing).
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.support.ports import free_port

_KEYS = Path(__file__).resolve().parents[1] / "fixtures" / "mediamtx_keys.txt"
PATH_KEYS = frozenset(line.removeprefix("pathDefaults.") for line in _KEYS.read_text().splitlines()
                      if line.startswith("pathDefaults."))
# A few of MediaMTX's path defaults, listed with every path as the real one lists them all.
_DEFAULTS: dict[str, Any] = {"source": "publisher", "sourceOnDemand": False, "sourceOnDemandStartTimeout": "10s",
                             "sourceOnDemandCloseAfter": "10s", "maxReaders": 0, "rtspTransport": "automatic",
                             "record": False}


@dataclass(frozen=True)
class Seen:
    method: str
    path: str
    query: str
    body: Any
    authorization: str | None


@dataclass
class FakeMediaMtx:
    url: str = ""
    paths: dict[str, dict[str, Any]] = field(default_factory=dict)  # name → what was configured (not defaults)
    requests: list[Seen] = field(default_factory=list)
    failing: bool = False
    unlisted: set[str] = field(default_factory=set)  # paths it has but does not list (as if added after a listing)

    def changes(self) -> list[tuple[str, str, Any]]:
        """(method, path, body) of every request that is not a listing."""
        return [(r.method, r.path, r.body) for r in self.requests if "/list" not in r.path]

    def app(self) -> Starlette:
        return Starlette(routes=[
            Route("/v3/config/paths/list", self._list, methods=["GET"]),
            Route("/v3/config/paths/get/{name:path}", self._get, methods=["GET"]),
            Route("/v3/config/paths/add/{name:path}", self._add, methods=["POST"]),
            Route("/v3/config/paths/patch/{name:path}", self._patch, methods=["PATCH"]),
            Route("/v3/config/paths/replace/{name:path}", self._replace, methods=["POST"]),
            Route("/v3/config/paths/delete/{name:path}", self._delete, methods=["DELETE"]),
            Route("/v3/paths/list", self._runtime_list, methods=["GET"]),
        ])

    async def _seen(self, request: Request) -> Any:
        raw = await request.body()
        body = await request.json() if raw else None
        self.requests.append(Seen(request.method, request.url.path, request.url.query, body,
                                  request.headers.get("authorization")))
        return body

    def _item(self, name: str) -> dict[str, Any]:
        return {"name": name, **_DEFAULTS, **self.paths[name]}

    async def _list(self, request: Request) -> JSONResponse:
        await self._seen(request)
        if self.failing:
            return _error(500, "server error")
        per_page, page = int(request.query_params.get("itemsPerPage", 100)), int(request.query_params.get("page", 0))
        names = sorted(set(self.paths) - self.unlisted)
        items = [self._item(n) for n in names[page * per_page:(page + 1) * per_page]]
        return JSONResponse({"itemCount": len(names), "pageCount": math.ceil(len(names) / per_page), "items": items})

    async def _runtime_list(self, request: Request) -> JSONResponse:
        await self._seen(request)
        items = [{"name": n, "confName": n, "source": None, "ready": False, "readyTime": None, "tracks": [],
                  "readers": [], "bytesReceived": 0, "bytesSent": 0} for n in sorted(self.paths)]
        return JSONResponse({"itemCount": len(items), "pageCount": 1 if items else 0, "items": items})

    async def _get(self, request: Request) -> JSONResponse:
        await self._seen(request)
        name = request.path_params["name"]
        if name not in self.paths:
            return _error(404, "path configuration not found")
        return JSONResponse(self._item(name))

    async def _add(self, request: Request) -> JSONResponse:
        body = await self._seen(request)
        name = request.path_params["name"]
        if self.failing:
            return _error(500, "server error")
        if (unknown := _unknown(body)) is not None:
            return _error(400, unknown)
        if name in self.paths:
            return _error(400, "path already exists")
        self.paths[name] = dict(body)
        return _ok()

    async def _patch(self, request: Request) -> JSONResponse:
        return await self._change(request, replace=False)

    async def _replace(self, request: Request) -> JSONResponse:
        return await self._change(request, replace=True)

    async def _change(self, request: Request, *, replace: bool) -> JSONResponse:
        body = await self._seen(request)
        name = request.path_params["name"]
        if self.failing:
            return _error(500, "server error")
        if (unknown := _unknown(body)) is not None:
            return _error(400, unknown)
        if name not in self.paths:
            return _error(404, "path not found")
        self.paths[name] = dict(body) if replace else {**self.paths[name], **body}
        return _ok()

    async def _delete(self, request: Request) -> JSONResponse:
        await self._seen(request)
        name = request.path_params["name"]
        if self.failing:
            return _error(500, "server error")
        if self.paths.pop(name, None) is None:
            return _error(404, "path not found")
        return _ok()


def _unknown(body: Any) -> str | None:
    if not isinstance(body, dict):
        return "invalid JSON"
    extra = sorted(set(body) - PATH_KEYS)
    return f"json: unknown field {extra[0]!r}" if extra else None


def _ok() -> JSONResponse:
    return JSONResponse({"status": "ok"})


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"status": "error", "error": message}, status_code=status)


@contextlib.asynccontextmanager
async def fake_mediamtx(port: int | None = None, fake: FakeMediaMtx | None = None) -> AsyncIterator[FakeMediaMtx]:
    """The fake serving on 127.0.0.1 (on ``port``, or a free one) until the block ends; ``fake`` carries its
    state across a stop and a start (a MediaMTX that was down)."""
    fake = fake or FakeMediaMtx()
    port = port or free_port()
    fake.url = f"http://127.0.0.1:{port}"
    server = uvicorn.Server(uvicorn.Config(fake.app(), host="127.0.0.1", port=port, log_level="warning",
                                           lifespan="off"))
    task = asyncio.create_task(server.serve())
    try:
        for _ in range(200):  # bounded: 10 s
            if server.started or task.done():
                break
            await asyncio.sleep(0.05)
        if not server.started:
            raise RuntimeError("the fake MediaMTX did not start")
        yield fake
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)
