"""Viewer admission on real PostgreSQL and the API under uvicorn (no Ray: a refused socket never reaches a camera):
a city may watch as many live streams at once as its plan allows, counted over every replica through leases; past
it the live socket closes with 4429 and says why, while another city is unaffected; a lease its replica stopped
renewing lapses; the city's health shows its viewers per camera and its limit."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import asyncpg
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from domain.rbac import Role
from domain.settings import Settings
from domain.viewer_admission import LEASE_S, live_viewer_limit
from services import viewer_admission
from services.refusals import TooMany
from storage import plans, tenants
from tests.support.asgi_api import running_api, served_api
from tests.support.sessions import access_headers, new_bearer
from tests.support.system import REDIS_URL, drop_redis_keys


async def _city(pool: asyncpg.Pool, live_viewers_max: int | None) -> tuple[uuid.UUID, uuid.UUID, str]:
    plan = await plans.create(pool, name=f"live {uuid.uuid4().hex[:8]}", retention_days=7, camera_quota=10,
                              manager_quota=1, viewer_quota=5, storage_quota_bytes=None,
                              live_viewers_max=live_viewers_max)
    tenant = await tenants.create(pool, f"live city {uuid.uuid4().hex[:8]}")
    await plans.assign(pool, tenant.id, plan.id)
    camera = uuid.uuid4()
    await pool.execute("INSERT INTO cameras (id, tenant_id, name, rtsp_url, enabled) VALUES ($1, $2, 'cam',"
                       " 'rtsp://127.0.0.1:9/x', false)", camera, tenant.id)
    return tenant.id, camera, plan.name


def test_the_default_limit_is_generous() -> None:
    assert live_viewer_limit(None, 0) == 16 and live_viewer_limit(None, 10) == 160 and live_viewer_limit(3, 10) == 3


async def test_a_city_watches_at_most_its_plans_live_streams_and_another_city_is_unaffected(
    pool: asyncpg.Pool, database_url: str, tmp_path: Path
) -> None:
    city, camera, plan_name = await _city(pool, live_viewers_max=3)
    other, other_camera, _ = await _city(pool, live_viewers_max=None)
    held = [await viewer_admission.admit(pool, city, camera, None) for _ in range(3)]  # other replicas' viewers
    with pytest.raises(TooMany, match=f"already watches 3 live streams.*{plan_name}.*\\(3\\)"):
        await viewer_admission.admit(pool, city, camera, None)
    # Another city admits its own (the default for a city without users: 16), even 20 asking at once.
    others = await asyncio.gather(*(viewer_admission.admit(pool, other, other_camera, None) for _ in range(20)),
                                  return_exceptions=True)
    assert sum(isinstance(o, uuid.UUID) for o in others) == 16 and sum(isinstance(o, TooMany) for o in others) == 4

    prefix = f"gtv-live-{uuid.uuid4().hex[:8]}:"
    settings = Settings(database_url=database_url, object_store_url=(tmp_path / "objects").as_uri(),
                        public_url="http://127.0.0.1:1", secret=uuid.uuid4().hex, bus_url=f"{REDIS_URL}?prefix={prefix}",
                        spool_dir=str(tmp_path / "spool"))
    viewer = access_headers(settings, await new_bearer(pool, Role.VIEWER, city))
    try:
        async with served_api(settings) as (base, _):
            with pytest.raises(ConnectionClosed) as refused:
                async with connect(f"{base}/cameras/{camera}/live", additional_headers=viewer, open_timeout=10) as ws:
                    await asyncio.wait_for(ws.recv(), 10)
            assert refused.value.rcvd is not None and refused.value.rcvd.code == 4429
            assert "already watches 3 live streams" in refused.value.rcvd.reason
        async with running_api(settings) as api:
            health = (await api.get(f"/api/v1/tenants/{city}/health", headers=viewer)).json()
            assert health["live"] == {"viewers": 3, "by_camera": {str(camera): 3}, "limit": 3}, health["live"]
    finally:
        await drop_redis_keys(prefix)

    # A replica that died stops renewing its leases: once they lapse, the city's places are free again.
    await pool.execute("UPDATE live_viewers SET seen_at = now() - make_interval(secs => $2) WHERE id = ANY($1)",
                       held[:2], LEASE_S + 1)
    assert await viewer_admission.watching(pool, city) == {camera: 1}
    await viewer_admission.admit(pool, city, camera, None)
    await viewer_admission.admit(pool, city, camera, None)
    with pytest.raises(TooMany):
        await viewer_admission.admit(pool, city, camera, None)
