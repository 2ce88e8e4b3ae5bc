"""Cameras as GeoJSON: positions as [longitude, latitude], markers by health, cameras without a place kept."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from uuid import uuid4

from domain.camera import Camera
from domain.camera_map import COLOURS, camera_features
from domain.stream_url import StreamUrl
from domain.tenant_health import CameraHealth

NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)


def _camera(name: str, *, enabled: bool = True, at: tuple[float, float] | None = (-23.55, -46.63)) -> Camera:
    latitude, longitude = at if at else (None, None)
    return Camera(uuid4(), uuid4(), name, "generic", StreamUrl("rtsp://127.0.0.1/x", None), enabled, latitude,
                  longitude, NOW, NOW)


def _health(camera: Camera, state: str | None) -> CameraHealth:
    return CameraHealth(camera.id, camera.name, camera.enabled, state, None, NOW if state else None, None)


def test_each_camera_is_a_feature_coloured_by_its_state() -> None:
    streaming, failing, never, off, nowhere = (
        _camera("a"), _camera("b"), _camera("c"), _camera("d", enabled=False), _camera("e", at=None))
    collection = camera_features([streaming, failing, never, off, nowhere], [
        _health(streaming, "streaming"), _health(failing, "reconnecting"), _health(off, "streaming")])
    features = {f["properties"]["name"]: f for f in collection["features"]}
    assert collection["type"] == "FeatureCollection" and len(features) == 5
    assert features["a"]["geometry"] == {"type": "Point", "coordinates": [-46.63, -23.55]}
    assert {n: f["properties"]["marker"] for n, f in features.items()} == {
        "a": "online", "b": "troubled", "c": "unknown", "d": "disabled", "e": "unknown"}
    assert features["b"]["properties"]["color"] == COLOURS["troubled"]
    assert features["b"]["properties"]["state"] == "reconnecting" and features["c"]["properties"]["state"] is None
    assert features["e"]["geometry"] is None, "a camera with no position is listed, not placed"
    assert features["a"]["id"] == str(streaming.id)


def test_the_console_page_carries_the_map_tile_url_only_when_configured() -> None:
    from domain.settings import Settings
    from serve.console_files import console_html

    plain = Settings(database_url="postgresql://x", object_store_url="file:///x", public_url="http://x", secret="s")
    assert 'name="gtv-tiles"' not in console_html(plain)
    tiled = console_html(replace(plain, map_tile_url="https://tiles.example/{z}/{x}/{y}.png?a=1&b=2"))
    assert '<meta name="gtv-tiles" content="https://tiles.example/{z}/{x}/{y}.png?a=1&amp;b=2">' in tiled
