"""Cities end to end: plan quotas (409 at the limit), plan changes, legal holds and retention through the API."""

from __future__ import annotations

import asyncio
import csv
import io
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from asyncpg import Range

from domain.recording import chunk_object_key
from storage.db import create_pool
from storage.objects import open_object_store_for
from tests.support.system import ADMIN_PASSWORD, System, new_city, wait_for


async def _execute(system: System, query: str, *args: Any) -> None:
    pool = await create_pool(system.settings.database_url, max_size=1)
    try:
        await pool.execute(query, *args)
    finally:
        await pool.close()


def test_quotas_refuse_the_one_past_the_limit_with_409(system: System) -> None:
    admin = system.login("admin", ADMIN_PASSWORD)
    tenant, manager, _ = new_city(system, admin)
    asyncio.run(_execute(system, "INSERT INTO cameras (id, tenant_id, name, rtsp_url, enabled)"
                                 " SELECT gen_random_uuid(), $1, 'cam ' || i, 'rtsp://127.0.0.1:1/x', false"
                                 " FROM generate_series(1, 999) AS i", uuid.UUID(tenant)))
    body = {"rtsp_url": "rtsp://127.0.0.1:1/y", "enabled": False}
    assert system.client.post("/cameras", headers=manager, json={"name": "the 1000th", **body}).status_code == 201
    refused = system.client.post("/cameras", headers=manager, json={"name": "the 1001st", **body})
    assert refused.status_code == 409
    assert refused.json()["error"]["message"] == "the plan '30 days' allows 1000 cameras per city and this city has 1000"

    def user(role: str, headers: dict[str, str]) -> Any:
        return system.client.post("/users", headers=headers, json={
            "username": f"{role}-{uuid.uuid4().hex[:6]}", "password": "a long password", "role": role,
            "tenant_id": tenant})

    second_manager = user("manager", admin)
    assert second_manager.status_code == 409 and "allows 1 managers" in second_manager.json()["error"]["message"]
    assert [user("viewer", manager).status_code for _ in range(5)] == [201, 201, 201, 201, 409]

    bigger = system.client.post("/plans", headers=admin, json={
        "name": f"big {uuid.uuid4().hex[:4]}", "retention_days": 7, "camera_quota": 1000, "manager_quota": 2})
    assert bigger.status_code == 201, bigger.text
    assert system.client.post("/plans", headers=manager, json={"name": "x", "retention_days": 1,
                                                                 "camera_quota": 1}).status_code == 403
    assert system.client.put(f"/tenants/{tenant}/plan", headers=manager,
                             json={"plan_id": bigger.json()["id"]}).status_code == 403
    changed = system.client.put(f"/tenants/{tenant}/plan", headers=admin, json={"plan_id": bigger.json()["id"]})
    assert changed.status_code == 200 and changed.json()["retention_days"] == 7
    assert user("manager", admin).status_code == 201, "the new plan's quota applies at once"
    day = {"start": (datetime.now(UTC) - timedelta(minutes=5)).isoformat(), "end": datetime.now(UTC).isoformat()}
    entries = system.client.get("/audit", headers=admin, params={**day, "tenant_id": tenant}).json()
    assigned = next(e for e in entries if e["action"] == "plan.assigned")
    assert assigned["detail"]["from"]["name"] == "30 days" and assigned["detail"]["to"]["retention_days"] == 7
    assert system.client.delete(f"/tenants/{tenant}", headers=admin).status_code == 202  # scheduled (docs/retention.md)


def test_retention_through_the_api_keeps_held_footage_and_reports_the_rest(system: System) -> None:
    admin = system.login("admin", ADMIN_PASSWORD)
    tenant, manager, viewer = new_city(system, admin)
    camera = system.client.post("/cameras", headers=manager, json={
        "name": "arquivo", "rtsp_url": "rtsp://127.0.0.1:1/z", "enabled": False}).json()
    store = open_object_store_for(system.settings)
    old = datetime.now(UTC).replace(microsecond=0) - timedelta(days=40)
    starts = [old + timedelta(minutes=i) for i in range(10)]
    keys = [chunk_object_key(uuid.UUID(tenant), uuid.UUID(camera["id"]), s) for s in starts]
    for key in keys:
        store.put(key, b"old footage")

    async def index() -> None:
        pool = await create_pool(system.settings.database_url, max_size=1)
        try:
            await pool.executemany(
                "INSERT INTO recordings (tenant_id, camera_id, time_range, object_key, bytes, init_length, codec,"
                " width, height, fragments) VALUES ($1, $2, $3, $4, 11, 5, 'h264', 640, 360, '[[5, 6, 0, 60000]]')",
                [(uuid.UUID(tenant), uuid.UUID(camera["id"]), Range(s, s + timedelta(minutes=1)), k)
                 for s, k in zip(starts, keys, strict=True)])
        finally:
            await pool.close()

    asyncio.run(index())
    hold_body = {"camera_ids": [camera["id"]], "start": starts[2].isoformat(),
                 "end": (starts[4] + timedelta(seconds=30)).isoformat(), "reason": "furto de veículo",
                 "case_number": "BO 4711/2026"}
    assert system.client.post("/holds", headers=viewer, json=hold_body).status_code == 403
    created = system.client.post("/holds", headers=manager, json=hold_body)
    assert created.status_code == 201, created.text
    (hold,) = created.json()

    assert system.client.post("/retention/run", headers=manager).status_code == 403
    result = system.client.post("/retention/run", headers=admin, timeout=300)
    assert result.status_code == 200, result.text
    pass_id = result.json()["pass_id"]
    kept = [k for k in keys if store.stat(k) is not None]
    assert kept == keys[2:5], "only the held minutes (2, 3 and 4) survive"

    report = system.client.get(f"/retention/passes/{pass_id}/report.json", headers=manager)
    assert report.status_code == 200, report.text
    (line,) = [x for x in report.json()["lines"] if x["camera_id"] == camera["id"]]
    assert (line["chunks"], line["bytes"], line["held_chunks"]) == (7, 77, 3)
    assert {x["tenant_id"] for x in report.json()["lines"]} == {tenant}, "a manager sees their city only"
    rows = list(csv.DictReader(io.StringIO(system.client.get(
        f"/retention/passes/{pass_id}/report.csv", headers=manager).text)))
    assert [(r["camera_id"], r["chunks"], r["held_chunks"]) for r in rows] == [(camera["id"], "7", "3")]
    assert system.client.get(f"/retention/passes/{pass_id}/report.json", headers=viewer).status_code == 403

    released = system.client.post(f"/holds/{hold['id']}/release", headers=manager, json={"reason": "caso arquivado"})
    assert released.status_code == 200 and released.json()["released_at"]
    again = system.client.post(f"/holds/{hold['id']}/release", headers=manager, json={"reason": "twice"})
    assert again.status_code == 409
    system.client.post("/retention/run", headers=admin, timeout=300)
    assert all(store.stat(k) is None for k in keys), "released footage goes on the next pass"

    _, other_manager, _ = new_city(system, admin)
    assert system.client.get(f"/holds/{hold['id']}", headers=other_manager).status_code == 404
    assert system.client.post("/holds", headers=other_manager, json=hold_body).status_code == 404
    foreign = system.client.get(f"/retention/passes/{pass_id}/report.json", headers=other_manager)
    assert foreign.status_code == 200 and foreign.json()["lines"] == []
    day = {"start": (datetime.now(UTC) - timedelta(minutes=5)).isoformat(), "end": datetime.now(UTC).isoformat()}
    actions = {e["action"] for e in system.client.get("/audit", headers=manager, params=day).json()}
    assert {"hold.created", "hold.released", "retention.purged"} <= actions
    health = system.client.get("/health").json()
    assert health["retention"]["last_pass_finished_at"] and health["retention"]["stalled"] is False


def test_a_citys_health_rolls_up_its_cameras(system: System) -> None:
    admin = system.login("admin", ADMIN_PASSWORD)
    tenant, manager, viewer = new_city(system, admin)
    bodies: dict[str, dict[str, Any]] = {"live": {"rtsp_url": "test://pattern?w=160&h=90&fps=10"},
                                         "dead": {"rtsp_url": "rtsp://127.0.0.1:1/nothing"},
                                         "off": {"rtsp_url": "rtsp://127.0.0.1:1/x", "enabled": False}}
    cameras = {name: system.client.post("/cameras", headers=manager, json={"name": name, **body}).json()["id"]
               for name, body in bodies.items()}

    def health() -> dict[str, Any]:
        response = system.client.get(f"/tenants/{tenant}/health", headers=viewer)
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result

    deadline = datetime.now(UTC) + timedelta(seconds=60)
    while not ((h := health())["online"] == 1 and h["error"] == 1 and h["recording_lag_s"]):
        assert datetime.now(UTC) < deadline, h
    assert (h["cameras"], h["disabled"]) == (3, 1)
    assert [(t["camera_id"], t["reason"]) for t in h["troubled"]] == [(cameras["dead"], "unreachable")]
    assert h["recording_lag_s"]["max"] < 30 and h["storage"]["recorded_bytes"] > 0
    assert h["quotas"]["cameras"] == {"used": 3, "limit": 1000} and h["quotas"]["viewers"]["used"] == 1
    # The city's coordinator (placed by the Fleet's pass) shows its share and what the city stores beyond it.
    coordinator = wait_for(lambda: (c := health()["coordinator"])["available"] and c, 30)
    assert coordinator["host"].startswith("city-host-") and coordinator["excess_bytes"] == 0, coordinator
    _, other_manager, _ = new_city(system, admin)
    assert system.client.get(f"/tenants/{tenant}/health", headers=other_manager).status_code == 404
    for camera_id in cameras.values():
        system.client.delete(f"/cameras/{camera_id}", headers=manager)
