"""MediaMTX's external authentication against the real app (FastAPI, PostgreSQL, Redis; no Ray): requests shaped
as MediaMTX documents them (``authMethod: http``), media tokens from the API's own media-token route."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

import asyncpg
import httpx
import pytest

from domain.edge_credential import edge_credential
from domain.sealing import sealer_for
from domain.session import Bearer
from domain.settings import Settings
from domain.stream_url import parse_stream_url
from serve import tokens
from serve.app import create_app
from storage import cameras, tenants, users
from tests.support.sessions import bearer_of
from tests.support.system import REDIS_URL, drop_redis_keys

AUTH = "/api/v1/edge/auth"


@dataclass
class Edge:
    http: httpx.AsyncClient
    settings: Settings
    pool: asyncpg.Pool
    camera: UUID  # in city A
    other_camera: UUID  # in city A too
    viewer: Bearer  # of city A
    outsider: Bearer  # of city B

    async def media_token(self, camera_id: UUID) -> str:
        access = tokens.issue(self.viewer, self.settings.key("jwt"), kind="access", ttl_s=60)
        answer = await self.http.post(f"/api/v1/cameras/{camera_id}/media-token",
                                      headers={"authorization": f"Bearer {access}"})
        assert answer.status_code == 200, answer.text
        token: str = answer.json()["token"]
        return token

    async def ask(self, **fields: Any) -> httpx.Response:
        """POST what MediaMTX POSTs: every documented field, empty unless given."""
        body = {"user": "", "password": "", "token": "", "ip": "192.0.2.10", "action": "read", "path": "",
                "protocol": "webrtc", "id": str(uuid.uuid4()), "query": "", "userAgent": "Mozilla/5.0", **fields}
        return await self.http.post(AUTH, json=body)

    async def looks(self, camera_id: UUID) -> list[asyncpg.Record]:
        return await self.pool.fetch("SELECT user_id, action, detail FROM audit_log WHERE camera_id = $1 ORDER BY id",
                                     camera_id)


@pytest.fixture
async def edge(database_url: str, pool: asyncpg.Pool, tmp_path: Path) -> AsyncIterator[Edge]:
    prefix = f"gtv-edge-{uuid.uuid4().hex[:8]}:"
    settings = Settings(database_url=database_url, object_store_url=(tmp_path / "objects").as_uri(),
                        public_url="http://127.0.0.1:8000", secret=uuid.uuid4().hex,
                        bus_url=f"{REDIS_URL}?prefix={prefix}", spool_dir=str(tmp_path / "spool"))
    city_a, city_b = [await tenants.create(pool, f"edge-{uuid.uuid4().hex[:8]}") for _ in range(2)]
    stream = parse_stream_url("rtsp://u:p@10.0.0.5/s")
    sealer = sealer_for(settings)
    camera = await cameras.create(pool, tenant_id=city_a.id, name="praça", vendor="generic", stream=stream,
                                  sealer=sealer)
    other = await cameras.create(pool, tenant_id=city_a.id, name="feira", vendor="generic", stream=stream,
                                 sealer=sealer)
    viewer, outsider = [await users.create(pool, username=f"v-{uuid.uuid4().hex[:8]}", password_hash="x",
                                           role="viewer", tenant_id=city.id) for city in (city_a, city_b)]
    app = create_app(settings)
    try:
        async with app.router.lifespan_context(app), httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://api") as http:
            yield Edge(http, settings, pool, camera.id, other.id, await bearer_of(pool, viewer.principal),
                       await bearer_of(pool, outsider.principal))
    finally:
        await drop_redis_keys(prefix)


async def test_webrtc_read_with_a_bearer_media_token_is_allowed_and_audited(edge: Edge) -> None:
    token = await edge.media_token(edge.camera)
    answer = await edge.ask(token=token, path=f"cam/{edge.camera}", protocol="webrtc")
    assert answer.status_code == 200, answer.text
    looks = [r for r in await edge.looks(edge.camera) if r["action"] == "live.view"]
    assert len(looks) == 1
    assert looks[0]["user_id"] == edge.viewer.principal.user_id
    assert looks[0]["detail"] == {"transport": "webrtc", "via": "edge", "ip": "192.0.2.10"}


async def test_hls_read_with_the_token_in_the_query_string_is_allowed(edge: Edge) -> None:
    token = await edge.media_token(edge.camera)
    answer = await edge.ask(path=f"cam/{edge.camera}", protocol="hls", query=f"token={token}")
    assert answer.status_code == 200, answer.text


async def test_the_token_typed_as_password_in_a_browser_dialog_is_allowed(edge: Edge) -> None:
    token = await edge.media_token(edge.camera)
    # MediaMTX copies the password into "token" when there is no bearer token
    answer = await edge.ask(user="anything", password=token, token=token, path=f"cam/{edge.camera}", protocol="hls")
    assert answer.status_code == 200, answer.text


async def test_playback_is_audited_as_playback(edge: Edge) -> None:
    token = await edge.media_token(edge.camera)
    answer = await edge.ask(action="playback", token=token, path=f"cam/{edge.camera}", protocol="", id=None)
    assert answer.status_code == 200, answer.text
    assert [r["action"] for r in await edge.looks(edge.camera)][-1] == "playback"


async def test_refusals_are_401_with_a_reason_and_leave_no_look(edge: Edge) -> None:
    token = await edge.media_token(edge.camera)
    before = len(await edge.looks(edge.camera))
    outsider_token = tokens.issue(edge.outsider, edge.settings.key("media"), kind=tokens.MEDIA, ttl_s=60,
                                  camera_id=edge.camera)
    expired = tokens.issue(edge.viewer, edge.settings.key("media"), kind=tokens.MEDIA, ttl_s=-1, camera_id=edge.camera)
    access = tokens.issue(edge.viewer, edge.settings.key("jwt"), kind="access", ttl_s=60)
    cases = {
        "a media token is required": {"path": f"cam/{edge.camera}", "protocol": "rtsp"},  # RTSP's first try
        "the media token is for another camera": {"token": token, "path": f"cam/{edge.other_camera}"},
        "camera not found": {"token": outsider_token, "path": f"cam/{edge.camera}"},  # another city's camera
        "token expired": {"token": expired, "path": f"cam/{edge.camera}"},
        "invalid token": {"token": access, "path": f"cam/{edge.camera}"},  # an access token is not a media token
        "not a camera path": {"token": token, "path": "all_others"},
        "only the platform may publish": {"action": "publish", "token": token, "path": f"cam/{edge.camera}",
                                          "protocol": "rtsp"},
        "only the platform may api": {"action": "api", "token": token, "path": "", "protocol": ""},
        "only the platform may metrics": {"action": "metrics", "user": "gtvision-edge", "password": "guess"},
        "only the platform may pprof": {"action": "pprof"},
        "unknown action": {"action": "delete", "token": token, "path": f"cam/{edge.camera}"},
    }
    for reason, fields in cases.items():
        answer = await edge.ask(**fields)
        assert answer.status_code == 401, (reason, answer.text)
        assert reason in answer.json()["error"]["message"], (reason, answer.text)
    assert len(await edge.looks(edge.camera)) == before


async def test_the_platform_credential_may_do_everything_and_its_reads_are_not_looks(edge: Edge) -> None:
    credential = edge_credential(edge.settings)
    before = len(await edge.looks(edge.camera))
    for action, path, protocol in [("read", f"cam/{edge.camera}", "rtsp"), ("publish", f"cam/{edge.camera}", "rtsp"),
                                   ("api", "", ""), ("metrics", "", ""), ("pprof", "", "")]:
        answer = await edge.ask(user=credential.user, password=credential.password, token=credential.password,
                                action=action, path=path, protocol=protocol)
        assert answer.status_code == 200, (action, answer.text)
    assert len(await edge.looks(edge.camera)) == before  # the recorder reading the restream is not a user's look


async def test_a_media_token_of_an_ended_session_is_refused(edge: Edge) -> None:
    """Logging out ends the session's media tokens at the edge too (they used to stand until they expired)."""
    token = await edge.media_token(edge.camera)
    access = tokens.issue(edge.viewer, edge.settings.key("jwt"), kind="access", ttl_s=60)
    assert (await edge.http.post("/api/v1/auth/logout", headers={"authorization": f"Bearer {access}"})).status_code == 204
    answer = await edge.ask(token=token, path=f"cam/{edge.camera}", protocol="hls")
    assert answer.status_code == 401 and "session revoked" in answer.json()["error"]["message"], answer.text
