"""LPR end to end: each vendor's payload stored once with the right plate, time, camera and image; every bad
delivery refused with a reason and nothing stored; search, wildcards, pages, CSV; tenants apart; alerts on the
operators' socket; the writer killed mid-stream loses and doubles nothing."""

from __future__ import annotations

import asyncio
import csv
import hashlib
import hmac
import io
import json
import logging
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
import ray
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from actor_client.names import LPR_WRITER_NAME
from storage.objects import open_object_store_for
from tests.support.secret_scan import assert_no_secrets, log_file_texts, ray_log_dir, record_texts
from tests.support.system import ADMIN_PASSWORD, System, new_city, wait_for

FIXTURES = Path(__file__).parents[1] / "fixtures" / "lpr"
JPEG = (FIXTURES / "plate.jpg").read_bytes()


def _lpr_camera(system: System, manager: dict[str, str]) -> tuple[str, dict[str, Any]]:
    camera = system.client.post("/cameras", headers=manager, json={
        "name": f"lpr {uuid.uuid4().hex[:4]}", "rtsp_url": "rtsp://127.0.0.1:1/lpr", "enabled": False}).json()
    credentials = system.client.post(f"/cameras/{camera['id']}/lpr-credentials", headers=manager)
    assert credentials.status_code == 200, credentials.text
    return camera["id"], credentials.json()


def _signed(secret: str, body: bytes, camera_id: str, at: int | None = None) -> dict[str, str]:
    stamp = str(at if at is not None else int(time.time()))
    signature = hmac.new(secret.encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return {"x-camera-id": camera_id, "x-timestamp": stamp, "x-signature": signature,
            "content-type": "application/json"}


def _search(system: System, headers: dict[str, str], **params: Any) -> list[dict[str, Any]]:
    response = system.client.get("/lpr/events", headers=headers, params=params)
    assert response.status_code == 200, response.text
    events: list[dict[str, Any]] = response.json()["events"]
    return events


def _stored(system: System, headers: dict[str, str], count: int, **params: Any) -> list[dict[str, Any]]:
    """The search once the writer has stored ``count`` matching reads (it writes in batches, just after the 2xx)."""
    events: list[dict[str, Any]] = wait_for(
        lambda: (found := _search(system, headers, **params)) and len(found) >= count and found, 30)
    return events


@pytest.fixture
def city(system: System) -> tuple[str, dict[str, str], dict[str, str]]:
    return new_city(system, system.login("admin", ADMIN_PASSWORD))


def test_each_vendor_payload_is_stored_once_with_plate_time_camera_and_image(
    system: System, city: Any, caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    started = time.time()
    tenant, manager, viewer = city
    camera_id, creds = _lpr_camera(system, manager)
    base = system.settings.public_url  # credential paths are absolute (/api/v1/webhooks/…)

    intelbras = (FIXTURES / "intelbras_tollgate.json").read_bytes()
    first = httpx.post(base + creds["intelbras"], content=intelbras, headers={"content-type": "application/json"})
    again = httpx.post(base + creds["intelbras"], content=intelbras, headers={"content-type": "application/json"})
    assert first.status_code == again.status_code == 200, first.text
    assert first.json()["Result"] is True and first.json()["plate"] == "ABC1D23"
    keepalive = httpx.post(base + creds["intelbras"].replace("TollgateInfo", "KeepAlive"), json={})
    assert keepalive.status_code == 200 and keepalive.json()["Result"] is True

    xml = (FIXTURES / "hikvision_anpr.xml").read_bytes()
    hik = httpx.post(base + creds["hikvision"], files=[
        ("anpr.xml", ("anpr.xml", xml, "application/xml")),
        ("licensePlatePicture.jpg", ("licensePlatePicture.jpg", JPEG, "image/jpeg"))])
    assert hik.status_code == 200, hik.text

    generic = (FIXTURES / "generic.json").read_bytes()
    signed = httpx.post(base + creds["generic"], content=generic, headers=_signed(creds["secret"], generic, camera_id))
    assert signed.status_code == 202, signed.text

    _stored(system, viewer, 3)
    time.sleep(0.5)  # a redelivery stored twice would show up by now
    stored = _search(system, viewer)
    events = {e["plate"]: e for e in stored}
    assert set(events) == {"ABC1D23", "DEF4567", "XYZ9876"} and len(stored) == 3, "the redelivery is stored once"
    assert events["ABC1D23"]["captured_at"].startswith("2026-11-23T13:15:30.25")  # 10:15:30.25 in São Paulo
    assert events["DEF4567"]["captured_at"].startswith("2026-11-23T13:15:32.12")
    assert all(e["camera_id"] == camera_id for e in events.values())
    assert (events["DEF4567"]["direction"], events["DEF4567"]["vehicle_color"]) == ("leaving", "black")
    store = open_object_store_for(system.settings)
    for plate in ("ABC1D23", "DEF4567", "XYZ9876"):
        (key,) = events[plate]["image_keys"]
        assert key == f"t/{tenant}/lpr/2026/11/23/{events[plate]['id']}.jpg" and store.get(key) == JPEG
    listed = [o.key for o in store.list_prefix(f"t/{tenant}/lpr/")]
    assert len(listed) == 3, f"the redelivery's image is not kept: {listed}"
    # Neither the push token (in the webhook paths), the HMAC secret, passwords nor any JWT reached a log line.
    time.sleep(1)  # Serve's and the actors' log files are written a moment after the request
    assert_no_secrets([*record_texts(caplog.records), *log_file_texts(ray_log_dir(), since=started)],
                      [creds["token"], creds["secret"], ADMIN_PASSWORD, system.settings.secret])


def test_bad_deliveries_are_refused_with_a_reason_and_nothing_is_stored(system: System, city: Any) -> None:
    _, manager, viewer = city
    camera_id, creds = _lpr_camera(system, manager)
    base = system.settings.public_url  # credential paths are absolute (/api/v1/webhooks/…)
    generic = (FIXTURES / "generic.json").read_bytes()
    headers = _signed(creds["secret"], generic, camera_id)
    refusals = {
        "bad signature": httpx.post(base + creds["generic"], content=generic,
                                    headers={**headers, "x-signature": "0" * 64}),
        "old timestamp": httpx.post(base + creds["generic"], content=generic,
                                    headers=_signed(creds["secret"], generic, camera_id, int(time.time()) - 600)),
        "unknown camera token": httpx.post(base + "/api/v1/webhooks/hikvision/not-a-token", files={"anpr.xml": b"<x/>"}),
        "over the size limit": httpx.post(base + creds["intelbras"], content=b"{" + b" " * (3 * 1024 * 1024) + b"}"),
        "malformed JSON": httpx.post(base + creds["intelbras"], content=b"{nope"),
        "malformed XML": httpx.post(base + creds["hikvision"], files={"anpr.xml": ("anpr.xml", b"<Event", "text/xml")}),
        "missing plate": httpx.post(base + creds["generic"], content=(body := json.dumps(
            {**json.loads(generic), "plate": ""}).encode()), headers=_signed(creds["secret"], body, camera_id)),
    }
    codes = {reason: (r.status_code, r.json()["error"]["message"]) for reason, r in refusals.items()}
    assert codes["bad signature"][0] == 401 and "signature" in codes["bad signature"][1]
    assert codes["old timestamp"][0] == 401 and "clock" in codes["old timestamp"][1]
    assert codes["unknown camera token"][0] == 401
    assert codes["over the size limit"][0] == 413
    assert codes["malformed JSON"][0] == 422 and "malformed JSON" in codes["malformed JSON"][1]
    assert codes["malformed XML"][0] == 422 and "anpr.xml" in codes["malformed XML"][1]
    assert codes["missing plate"][0] == 422 and "no plate" in codes["missing plate"][1]
    fenced = system.client.post(f"/cameras/{camera_id}/lpr-credentials", headers=manager,
                                json={"allowed_sources": ["10.9.9.0/24"]}).json()
    refused = httpx.post(base + fenced["hikvision"], files={"anpr.xml": ("anpr.xml", b"<x/>", "text/xml")})
    assert refused.status_code == 403 and "not allowed" in refused.json()["error"]["message"]
    bad_list = system.client.post(f"/cameras/{camera_id}/lpr-credentials", headers=manager,
                                  json={"allowed_sources": ["not-a-network"]})
    assert bad_list.status_code == 422
    creds = system.client.post(f"/cameras/{camera_id}/lpr-credentials", headers=manager,
                               json={"allowed_sources": ["127.0.0.0/8"]}).json()
    assert creds["allowed_sources"] == ["127.0.0.0/8"]
    headers = _signed(creds["secret"], generic, camera_id)
    accepted = httpx.post(base + creds["generic"], content=generic, headers=headers)
    replayed = httpx.post(base + creds["generic"], content=generic, headers=headers)
    assert accepted.status_code == 202 and replayed.status_code == 409
    assert "replayed" in replayed.json()["error"]["message"]
    assert [e["id"] for e in _stored(system, viewer, 1)] == [accepted.json()["id"]], "nothing else stored"


def test_search_normalizes_wildcards_pages_exports_and_keeps_tenants_apart(system: System, city: Any) -> None:
    tenant, manager, viewer = city
    camera_id, creds = _lpr_camera(system, manager)
    base = system.settings.public_url  # credential paths are absolute (/api/v1/webhooks/…)
    plates = ["ABC1D23", "ABC1E23", "ABC1234", "QRS9Z99"] + [f"PAG{i:04d}" for i in range(25)]
    for i, plate in enumerate(plates):
        body = json.dumps({"plate": plate, "captured_at": f"2026-11-20T10:{i // 60:02d}:{i % 60:02d}Z"}).encode()
        assert httpx.post(base + creds["generic"], content=body,
                          headers=_signed(creds["secret"], body, camera_id)).status_code == 202
    _stored(system, viewer, len(plates), limit=1000)
    assert [e["plate"] for e in _search(system, viewer, plate="abc-1d23")] == ["ABC1D23"]
    assert sorted(e["plate"] for e in _search(system, viewer, plate="ABC1?23")) == ["ABC1D23", "ABC1E23"]
    assert len(_search(system, viewer, plate="ABC*")) == 3
    bad = system.client.get("/lpr/events", headers=viewer, params={"plate": "ABC%"})
    assert bad.status_code == 422 and "plate search" in bad.json()["error"]["message"]

    seen: list[str] = []
    cursor = None
    for _ in range(10):
        page = system.client.get("/lpr/events", headers=viewer, params={
            "plate": "PAG*", "limit": 10, **({"cursor": cursor} if cursor else {})}).json()
        seen += [e["plate"] for e in page["events"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [f"PAG{i:04d}" for i in reversed(range(25))], "newest first, no repeats, none missing"

    stats = system.client.get("/lpr/stats", headers=viewer, params={
        "start": "2026-11-20T00:00:00Z", "end": "2026-11-21T00:00:00Z"}).json()
    assert stats["total"] == len(plates) and stats["per_hour"][0]["hour"].startswith("2026-11-20T10:00")
    assert stats["per_camera_hour"] == [{"hour": stats["per_hour"][0]["hour"], "camera_id": camera_id,
                                         "events": len(plates)}]
    too_long = system.client.get("/lpr/stats", headers=viewer, params={
        "start": "2026-01-01T00:00:00Z", "end": "2026-11-21T00:00:00Z"})
    assert too_long.status_code == 422

    exported = list(csv.DictReader(io.StringIO(system.client.get(
        "/lpr/events.csv", headers=viewer, params={"plate": "ABC*", "start": "2026-11-01T00:00:00Z",
                                                  "end": "2026-12-01T00:00:00Z"}).text)))
    assert sorted(r["plate"] for r in exported) == ["ABC1234", "ABC1D23", "ABC1E23"]

    admin = system.login("admin", ADMIN_PASSWORD)
    _, other_manager, other_viewer = new_city(system, admin)
    assert _search(system, other_viewer, plate="ABC*") == []
    assert system.client.get("/lpr/events", headers=other_viewer, params={"camera": camera_id}).status_code == 404
    assert system.client.get("/lpr/events", headers=other_viewer, params={"tenant_id": tenant}).status_code == 404
    assert system.client.post(f"/cameras/{camera_id}/lpr-credentials", headers=other_manager).status_code == 404
    audit = system.client.get("/audit", headers=manager, params={
        "start": "2026-01-01T00:00:00Z", "end": "2027-01-01T00:00:00Z", "action": "lpr.search"}).json()
    assert {e["detail"]["plate"] for e in audit} >= {"abc-1d23", "ABC1?23", "ABC*"}, "plate searches are audited"


def _events_url(system: System, headers: dict[str, str], last_id: str | None = None) -> str:
    """The socket's URL with a single-use ticket (API tokens never ride in URLs); bad headers get a made-up one."""
    answer = system.client.post("/events/ticket", headers=headers)
    ticket = answer.json()["ticket"] if answer.status_code == 200 else "no-such-ticket"
    base = system.settings.public_url.replace("http://", "ws://")
    return f"{base}/api/v1/events?ticket={ticket}" + (f"&last_id={last_id}" if last_id else "")


def _ready(ws: Any) -> None:
    """The socket's first message: from now on the city's events are delivered (no sleep needed)."""
    assert json.loads(ws.recv(timeout=10))["type"] == "ready"


def test_a_watchlist_hit_reaches_the_operators_socket_and_a_reconnect_gets_what_it_missed(
    system: System, city: Any
) -> None:
    _, manager, viewer = city
    camera_id, creds = _lpr_camera(system, manager)
    base = system.settings.public_url
    watched = system.client.post("/lpr/watchlist", headers=manager, json={"plate": "abc?d23", "reason": "roubo"})
    assert watched.status_code == 201 and watched.json()["pattern"] == "ABC?D23"
    assert system.client.post("/lpr/watchlist", headers=viewer, json={"plate": "X", "reason": "y"}).status_code == 403

    def post(plate: str, second: int) -> None:
        body = json.dumps({"plate": plate, "captured_at": f"2026-11-21T08:00:{second:02d}Z"}).encode()
        assert httpx.post(base + creds["generic"], content=body,
                          headers=_signed(creds["secret"], body, camera_id)).status_code == 202

    with connect(_events_url(system, viewer), open_timeout=10) as ws:
        _ready(ws)
        sent = time.monotonic()
        post("ABC1D23", 1)
        message = json.loads(ws.recv(timeout=10))
        latency = time.monotonic() - sent
        alert = message["event"]
        assert alert["type"] == "lpr.alert" and alert["plate"] == "ABC1D23" and alert["reason"] == "roubo"
        assert alert["camera_id"] == camera_id and latency < 2.0, latency
        last_id = message["id"]
    post("ABC2D23", 2)  # while nobody is connected
    post("ZZZ9999", 3)  # not watched
    post("ABC3D23", 4)
    with connect(_events_url(system, viewer, last_id), open_timeout=10) as ws:
        _ready(ws)
        missed = [json.loads(ws.recv(timeout=10))["event"]["plate"] for _ in range(2)]
        assert missed == ["ABC2D23", "ABC3D23"]
        with pytest.raises(TimeoutError):
            ws.recv(timeout=1.0)  # nothing twice, nothing else

    admin = system.login("admin", ADMIN_PASSWORD)
    _, _, other_viewer = new_city(system, admin)
    assert system.client.get("/lpr/watchlist", headers=other_viewer).json() == []
    with connect(_events_url(system, other_viewer), open_timeout=10) as ws:
        _ready(ws)
        post("ABC4D23", 5)
        with pytest.raises(TimeoutError):
            ws.recv(timeout=1.5)  # another city's alert never arrives here
    with pytest.raises(ConnectionClosed) as closed, connect(
            _events_url(system, {"authorization": "Bearer nope"}), open_timeout=10) as ws:
        ws.recv(timeout=10)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401


def test_killing_the_writer_while_5000_reads_are_in_flight_stores_each_exactly_once(system: System, city: Any) -> None:
    _, manager, viewer = city
    camera_id, creds = _lpr_camera(system, manager)
    url = system.settings.public_url + creds["generic"]
    plates = [f"KIL{n:04d}" for n in range(5000)]
    hour = {"start": "2026-11-22T09:00:00Z", "end": "2026-11-22T10:00:00Z", "camera": camera_id}
    answers: list[int] = []

    async def send_all() -> None:
        limit = asyncio.Semaphore(32)
        async with httpx.AsyncClient(timeout=60) as client:
            async def send(n: int, plate: str) -> None:
                at = f"2026-11-22T09:{n // 600:02d}:{n % 600 // 10:02d}.{n % 10}00Z"
                body = json.dumps({"plate": plate, "captured_at": at}).encode()
                async with limit:
                    answers.append((await client.post(url, content=body, headers=_signed(
                        creds["secret"], body, camera_id))).status_code)
            await asyncio.gather(*(send(n, p) for n, p in enumerate(plates)))

    def stored() -> int:
        total: int = system.client.get("/lpr/stats", headers=viewer, params=hour).json()["total"]
        return total

    sender = threading.Thread(target=lambda: asyncio.run(send_all()))
    sender.start()
    try:
        for at_least in (300, 2500):  # kill it twice, mid-stream, with reads waiting in the intake
            wait_for(lambda n=at_least: stored() >= n, 120, interval_s=0.05)
            ray.kill(ray.get_actor(LPR_WRITER_NAME, namespace=system.settings.namespace), no_restart=False)
    finally:
        sender.join(timeout=300)
    assert len(answers) == 5000 and set(answers) == {202}, "every read was acknowledged"
    wait_for(lambda: stored() >= 5000, 120)
    time.sleep(1.0)
    assert stored() == 5000, "nothing stored twice"
    exported = list(csv.DictReader(io.StringIO(system.client.get(
        "/lpr/events.csv", headers=viewer, params={"camera": camera_id, "plate": "KIL*", "start": hour["start"],
                                                  "end": hour["end"]}).text)))
    assert sorted(r["plate"] for r in exported) == plates, "each read exactly once"
