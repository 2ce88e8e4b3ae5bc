"""The API routes the console added: a read's evidence image (audited, refused to masked viewers, not found in
another city) and the cameras as GeoJSON."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import asyncpg
import pytest

from domain.rbac import Role
from storage import tenants
from tests.integration.test_lgpd_plates import JPEG, City, _city

pytestmark = pytest.mark.integration


@pytest.fixture
async def city(database_url: str, pool: asyncpg.Pool, tmp_path: Path) -> AsyncIterator[City]:
    async with _city(database_url, pool, (tmp_path / "objects").as_uri(), tmp_path) as made:
        yield made


async def test_a_reads_image_is_served_to_those_who_see_its_plate_and_audited(city: City) -> None:
    (read,) = await city.reads("ABC1D23", [timedelta(minutes=5)])
    path = f"/api/v1/lpr/events/{read.id}/images/0"
    shown = await city.client.get(path, headers=city.viewer)
    assert shown.status_code == 200 and shown.content == JPEG and shown.headers["content-type"] == "image/jpeg"
    assert [(a["event_id"], a["index"]) for a in await city.audit("lpr.image")] == [(str(read.id), 0)]

    missing = await city.client.get(f"/api/v1/lpr/events/{read.id}/images/1", headers=city.viewer)
    assert missing.status_code == 404 and "1 image" in missing.json()["error"]["message"]
    assert (await city.client.get(f"/api/v1/lpr/events/{read.id}/images/-1", headers=city.viewer)).status_code == 422

    _, admin = await city.user(Role.ADMIN)
    masked = await city.client.patch(f"/api/v1/tenants/{city.tenant}", json={"plate_masking": True}, headers=admin)
    assert masked.status_code == 200, masked.text
    refused = await city.client.get(path, headers=city.viewer)
    assert refused.status_code == 403 and "masks plates" in refused.json()["error"]["message"]
    assert (await city.client.get(path, headers=city.manager)).status_code == 200, "managers see plates in full"

    other = await tenants.create(city.pool, "another city for images")
    (elsewhere,) = await city.reads("ABC1D23", [timedelta(minutes=7)], tenant=other.id)
    foreign = await city.client.get(f"/api/v1/lpr/events/{elsewhere.id}/images/0", headers=city.manager)
    assert foreign.status_code == 404, "another city's read is not found"


async def test_cameras_geojson_lists_the_citys_cameras_as_features(city: City) -> None:
    await city.pool.execute("UPDATE cameras SET latitude = -23.5, longitude = -46.6 WHERE id = $1", city.cameras[0])
    answer = await city.client.get("/api/v1/cameras.geojson", headers=city.viewer)
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("application/geo+json")
    features = {f["id"]: f for f in answer.json()["features"]}
    assert set(features) == {str(c) for c in city.cameras}
    placed = features[str(city.cameras[0])]
    assert placed["geometry"]["coordinates"] == [-46.6, -23.5]
    assert placed["properties"]["marker"] == "disabled" and features[str(city.cameras[1])]["geometry"] is None
