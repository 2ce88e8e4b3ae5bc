"""The API app (plain ASGI, no Ray) on real PostgreSQL and Redis: every malformed or out-of-bounds push on each
vendor route gets a 4xx naming what is wrong (never a 5xx) and nothing reaches the intake; the dead-letter list
is for admins (every city) and managers (their own), never viewers."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from domain.rbac import Role
from domain.sealing import sealer_for
from domain.settings import Settings
from services import lpr_credentials
from storage import lpr_dead_letters, tenants
from storage.lpr_dead_letters import NewDeadLetter
from storage.lpr_intake import RedisIntake
from tests.support.asgi_api import running_api
from tests.support.sessions import access_headers, new_bearer
from tests.support.system import REDIS_URL, drop_redis_keys

FIXTURES = Path(__file__).parents[1] / "fixtures" / "lpr"
JPEG = (FIXTURES / "plate.jpg").read_bytes()
GENERIC = json.loads((FIXTURES / "generic.json").read_text())
INTELBRAS = json.loads((FIXTURES / "intelbras_tollgate.json").read_text())
HIKVISION = (FIXTURES / "hikvision_anpr.xml").read_text()
HIK_TIME = "2026-11-23T10:15:32.120-03:00"
HUGE = "x" * 5000
NOW = datetime.now(UTC)


class Api:
    def __init__(self, client: httpx.AsyncClient, settings: Settings, camera_id: uuid.UUID, token: str,
                 secret: str, prefix: str, pool: asyncpg.Pool) -> None:
        self.client, self.settings, self.camera_id, self.token, self.secret = client, settings, camera_id, token, secret
        self.prefix, self.pool = prefix, pool

    async def bearer(self, role: Role, tenant_id: uuid.UUID | None) -> dict[str, str]:
        """Headers of a new user of that role with a live session (tokens of made-up users are refused)."""
        return access_headers(self.settings, await new_bearer(self.pool, role, tenant_id))

    async def generic(self, body: bytes) -> httpx.Response:
        stamp = str(int(time.time()))
        signature = hmac.new(self.secret.encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
        return await self.client.post("/api/v1/webhooks/lpr", content=body, headers={
            "x-camera-id": str(self.camera_id), "x-timestamp": stamp, "x-signature": signature,
            "content-type": "application/json"})

    async def intelbras(self, body: bytes) -> httpx.Response:
        return await self.client.post(f"/api/v1/webhooks/intelbras/{self.token}/NotificationInfo/TollgateInfo",
                                      content=body, headers={"content-type": "application/json"})

    async def hikvision(self, xml: str | None, images: list[bytes] = (), **kwargs: Any) -> httpx.Response:
        if xml is None:
            return await self.client.post(f"/api/v1/webhooks/hikvision/{self.token}", **kwargs)
        files = [("anpr.xml", ("anpr.xml", xml.encode("utf-8", "surrogatepass"), "application/xml"))]
        files += [(f"p{n}.jpg", (f"p{n}.jpg", image, "image/jpeg")) for n, image in enumerate(images)]
        return await self.client.post(f"/api/v1/webhooks/hikvision/{self.token}", files=files)


@pytest.fixture
async def api(database_url: str, pool: asyncpg.Pool, tmp_path: Path) -> AsyncIterator[Api]:
    prefix = f"gtv-refusals-{uuid.uuid4().hex[:8]}:"
    settings = Settings(database_url=database_url, object_store_url=(tmp_path / "objects").as_uri(),
                        public_url="http://127.0.0.1:1", secret=uuid.uuid4().hex, bus_url=f"{REDIS_URL}?prefix={prefix}",
                        spool_dir=str(tmp_path / "spool"))
    city = await tenants.create(pool, f"refusals {uuid.uuid4().hex[:6]}")
    camera_id = uuid.uuid4()
    await pool.execute("INSERT INTO cameras (id, tenant_id, name, rtsp_url, enabled) VALUES ($1, $2, $3, $4, false)",
                       camera_id, city.id, f"lpr {camera_id.hex[:6]}", "rtsp://127.0.0.1:1/lpr")
    issued = await lpr_credentials.issue(pool, sealer_for(settings), camera_id, None)
    token, secret = issued.token, issued.secret
    async with running_api(settings) as client:
        yield Api(client, settings, camera_id, token, secret, prefix, pool)
    intake = RedisIntake(REDIS_URL, prefix=prefix)
    assert await intake.backlog() == 0, "no refused push reached the intake"
    await intake.close()
    await drop_redis_keys(prefix)


def _generic(**changes: Any) -> bytes:
    return json.dumps({**GENERIC, **changes}).encode()


def _intelbras(**picture: Any) -> bytes:
    return json.dumps({**INTELBRAS, "Picture": {**INTELBRAS["Picture"], **picture}}).encode()


def _snap(**changes: Any) -> dict[str, Any]:
    return {**INTELBRAS["Picture"]["SnapInfo"], **changes}


def _ago(delta: timedelta) -> str:
    return (NOW - delta).isoformat()


GENERIC_REFUSALS: list[tuple[str, bytes, str]] = [
    ("plate too long", _generic(plate="ABCDEFGHIJK"), "licence plate"),
    ("plate with NUL", _generic(plate="ABC\x001234"), "licence plate"),
    ("plate not a string", _generic(plate={"n": 1}), "no plate"),
    ("capture in year 9999", _generic(captured_at="9999-12-31T23:59:59-03:00"), "captured_at"),
    ("capture two days ahead", _generic(captured_at=_ago(-timedelta(days=2))), "captured_at"),
    ("capture 500 days old", _generic(captured_at=_ago(timedelta(days=500))), "captured_at"),
    ("capture not a string", _generic(captured_at=17), "captured_at"),
    ("event id of 5 KB", _generic(event_id=HUGE), "event_id"),
    ("event id with NUL", _generic(event_id="a\x00b"), "event_id"),
    ("colour with a lone surrogate", _generic(vehicle={"color": "\ud800"}), "vehicle.color"),
    ("vehicle type a list", _generic(vehicle={"type": ["car"]}), "vehicle.type"),
    ("vehicle not an object", _generic(vehicle="red"), "vehicle"),
    ("confidence infinite", _generic(confidence=1e400), "confidence"),
    ("confidence not a number", _generic(confidence=[1]), "confidence"),
    ("confidence of 5000 digits", _generic(confidence=0).replace(b'"confidence": 0', b'"confidence": ' + b"9" * 5000), "JSON"),
    ("five images", _generic(images=[base64.b64encode(JPEG).decode()] * 5), "images"),
    ("an image of one byte", _generic(images=["eA=="]), "images[0]"),
    ("an image not a string", _generic(images=[1]), "images[0]"),
    ("nested JSON", b'{"a":' * 100_000 + b"1" + b"}" * 100_000, "nested"),
    ("a JSON array", b"[" * 100_000, "JSON"),
    ("not UTF-8", b'{"plate": "\xff"}', "JSON"),
]

INTELBRAS_REFUSALS: list[tuple[str, bytes, str]] = [
    ("Plate not an object", _intelbras(Plate="ABC1D23"), "Picture.Plate"),
    ("SnapInfo a list", _intelbras(SnapInfo=[1, 2]), "Picture.SnapInfo"),
    ("capture in year 9999", _intelbras(SnapInfo=_snap(AccurateTime="9999-12-31 23:59:59")), "AccurateTime"),
    ("capture in year 1", _intelbras(SnapInfo=_snap(AccurateTime="0001-01-01 00:00:00")), "AccurateTime"),
    ("capture a number", _intelbras(SnapInfo=_snap(AccurateTime=20261123)), "AccurateTime"),
    ("event id of 5 KB", _intelbras(SnapInfo=_snap(EventID=HUGE)), "EventID"),
    ("device id with a control character", _intelbras(SnapInfo=_snap(DeviceID="cam\x07")), "DeviceID"),
    ("picture content not base64", _intelbras(NormalPic={"Content": "***"}), "base64"),
    ("Picture not an object", json.dumps({"Picture": "x"}).encode(), "Picture"),
    ("nested JSON", b'{"Picture":' * 100_000 + b"1" + b"}" * 100_000, "nested"),
]

HIKVISION_REFUSALS: list[tuple[str, str | None, list[bytes], str]] = [
    ("capture in year 9999", HIKVISION.replace(HIK_TIME, "9999-12-31T23:59:59-03:00"), [], "dateTime"),
    ("capture in year 1", HIKVISION.replace(HIK_TIME, "0001-01-01T00:00:00+05:00"), [], "dateTime"),
    ("capture two days ahead", HIKVISION.replace(HIK_TIME, _ago(-timedelta(days=2))), [], "dateTime"),
    ("UUID of 5 KB", HIKVISION.replace("8f0e6b2a-1c3d-4e5f-9a8b-7c6d5e4f3a2b", HUGE), [], "UUID"),
    ("colour too long", HIKVISION.replace(">black<", f">{HUGE}<"), [], "vehicleInfo.color"),
    ("a picture of 3 bytes", HIKVISION, [b"\xff\xd8x"], "images[0]"),
    ("malformed XML", HIKVISION[:200], [], "anpr.xml"),
    ("not multipart", None, [], "multipart/form-data"),
]


@pytest.mark.parametrize(("case", "body", "names"), GENERIC_REFUSALS, ids=[c[0] for c in GENERIC_REFUSALS])
async def test_generic_json_refusals_name_the_field(api: Api, case: str, body: bytes, names: str) -> None:
    answer = await api.generic(body)
    assert answer.status_code == 422 and names in answer.json()["error"]["message"], (case, answer.text)


@pytest.mark.parametrize(("case", "body", "names"), INTELBRAS_REFUSALS, ids=[c[0] for c in INTELBRAS_REFUSALS])
async def test_intelbras_refusals_name_the_field(api: Api, case: str, body: bytes, names: str) -> None:
    answer = await api.intelbras(body)
    assert answer.status_code == 422 and names in answer.json()["error"]["message"], (case, answer.text)


@pytest.mark.parametrize(("case", "xml", "images", "names"), HIKVISION_REFUSALS,
                         ids=[c[0] for c in HIKVISION_REFUSALS])
async def test_hikvision_refusals_name_the_field(api: Api, case: str, xml: str | None, images: list[bytes],
                                                 names: str) -> None:
    answer = await api.hikvision(xml, images, content=b'{"not": "multipart"}',
                                 headers={"content-type": "application/json"})
    assert answer.status_code == 422 and names in answer.json()["error"]["message"], (case, answer.text)


async def test_a_valid_push_on_each_route_is_still_accepted(api: Api) -> None:
    assert (await api.generic(_generic())).status_code == 202
    assert (await api.intelbras(_intelbras())).status_code == 200
    answer = await api.hikvision(HIKVISION, [JPEG])
    assert answer.status_code == 200, answer.text
    intake = RedisIntake(REDIS_URL, prefix=api.prefix)
    accepted = await intake.take(10, 0.1)
    assert len(accepted) == 3
    await intake.confirm([i for i, _ in accepted])
    await intake.close()


async def test_dead_letters_are_listed_for_admins_and_managers_of_the_city_never_viewers(
    api: Api, pool: asyncpg.Pool
) -> None:
    city = await tenants.create(pool, f"dead {uuid.uuid4().hex[:6]}")
    other = await tenants.create(pool, f"dead {uuid.uuid4().hex[:6]}")
    for tenant, count in ((city.id, 3), (other.id, 1)):
        await lpr_dead_letters.add(pool, [NewDeadLetter(read='{"plate": "ABC1234"}', error="DataError: \x00 bad",
                                                        read_id=uuid.uuid4(), tenant_id=tenant,
                                                        camera_id=api.camera_id) for _ in range(count)])
    manager = await api.bearer(Role.MANAGER, city.id)
    pages: list[dict[str, Any]] = []
    params: dict[str, Any] = {"limit": 2}
    while True:
        answer = await api.client.get("/api/v1/lpr/dead-letters", headers=manager, params=params)
        assert answer.status_code == 200, answer.text
        pages.append(answer.json())
        if pages[-1]["next_before"] is None:
            break
        params["before"] = pages[-1]["next_before"]
    letters = [letter for page in pages for letter in page["dead_letters"]]
    assert len(letters) == 3 and pages[0]["total"] == 3 and {letter["tenant_id"] for letter in letters} == {str(city.id)}
    assert [letter["id"] for letter in letters] == sorted((letter["id"] for letter in letters), reverse=True)
    assert letters[0]["error"] == "DataError: \\x00 bad" and letters[0]["read"] == '{"plate": "ABC1234"}'

    admin = await api.bearer(Role.ADMIN, None)
    everything = (await api.client.get("/api/v1/lpr/dead-letters", headers=admin, params={"limit": 200})).json()
    assert {str(city.id), str(other.id)} <= {letter["tenant_id"] for letter in everything["dead_letters"]}
    assert everything["total"] == await lpr_dead_letters.count(pool) >= 4
    one_city = (await api.client.get("/api/v1/lpr/dead-letters", headers=admin, params={"tenant_id": str(other.id)}))
    assert one_city.json()["total"] == 1
    viewer = await api.client.get("/api/v1/lpr/dead-letters", headers=await api.bearer(Role.VIEWER, city.id))
    assert viewer.status_code == 403
    elsewhere = await api.client.get("/api/v1/lpr/dead-letters", headers=manager, params={"tenant_id": str(other.id)})
    assert elsewhere.status_code == 404
    too_many = await api.client.get("/api/v1/lpr/dead-letters", headers=admin, params={"limit": 10_000})
    assert too_many.status_code == 422
