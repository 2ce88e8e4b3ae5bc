"""MediaMTX's Control API (v3), the calls that provision camera paths: list, add, patch, delete.

Plain HTTP with httpx, one bounded timeout per request, no retries here (services/edge_paths.py retries a
failure of MediaMTX itself, never a refusal). The shapes are those of MediaMTX's ``api/openapi.yaml``:
``PathConfList {itemCount, pageCount, items}``, ``OK {status: ok}``, ``Error {status: error, error}``.
"""

from __future__ import annotations

from types import TracebackType
from typing import Any, cast
from urllib.parse import quote

import httpx

from domain.edge_credential import EdgeCredential
from domain.edge_paths import PathConf

_ITEMS_PER_PAGE = 500
_MAX_PAGES = 100  # 50 000 paths: far beyond a deployment's cameras, and a bound on a misbehaving server


class MediaMtxUnavailable(Exception):
    """MediaMTX did not answer, or failed (5xx): worth trying again."""


class MediaMtxRefused(Exception):
    """MediaMTX answered and said no (4xx: a bad path configuration, an unknown path, a refused credential)."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(f"MediaMTX refused ({status}): {detail}")
        self.status = status


class MediaMtxApi:
    """A client of one MediaMTX's Control API, authenticated with the platform's edge credential (MediaMTX asks
    GT-Vision's auth endpoint about it: action ``api``). Use as ``async with``."""

    def __init__(self, base_url: str, credential: EdgeCredential, *, timeout_s: float = 5.0) -> None:
        self._http = httpx.AsyncClient(base_url=base_url.rstrip("/"), auth=(credential.user, credential.password),
                                       timeout=timeout_s)

    async def __aenter__(self) -> MediaMtxApi:
        return self

    async def __aexit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self._http.aclose()

    async def path_confs(self) -> dict[str, PathConf]:
        """Every configured path, name → configuration (``GET /v3/config/paths/list``, page by page)."""
        found: dict[str, PathConf] = {}
        for page in range(_MAX_PAGES):
            body = await self._json("GET", "/v3/config/paths/list", params={"page": page,
                                                                            "itemsPerPage": _ITEMS_PER_PAGE})
            for item in body.get("items") or []:
                found[str(item["name"])] = item
            if page + 1 >= int(body.get("pageCount") or 0):
                break
        return found

    async def add_path(self, name: str, conf: PathConf) -> None:
        await self._json("POST", f"/v3/config/paths/add/{_quoted(name)}", json=conf)

    async def patch_path(self, name: str, conf: PathConf) -> None:
        await self._json("PATCH", f"/v3/config/paths/patch/{_quoted(name)}", json=conf)

    async def delete_path(self, name: str) -> None:
        await self._json("DELETE", f"/v3/config/paths/delete/{_quoted(name)}")

    async def _json(self, method: str, url: str, **kwargs: Any) -> dict[str, Any]:
        try:
            response = await self._http.request(method, url, **kwargs)
        except httpx.HTTPError as exc:
            raise MediaMtxUnavailable(f"{method} {url}: {exc!r}") from exc
        if response.status_code >= 500:
            raise MediaMtxUnavailable(f"{method} {url}: {response.status_code} {_error(response)}")
        if response.status_code >= 400:
            raise MediaMtxRefused(response.status_code, f"{method} {url}: {_error(response)}")
        try:
            return cast(dict[str, Any], response.json())
        except ValueError as exc:
            raise MediaMtxUnavailable(f"{method} {url}: not JSON") from exc


def _quoted(name: str) -> str:
    """A path name in the URL: its slashes stay (MediaMTX's routes take ``*name``), anything else is escaped."""
    return quote(name, safe="/")


def _error(response: httpx.Response) -> str:
    try:
        return str(response.json().get("error", ""))[:200]
    except ValueError:
        return response.text[:200]
