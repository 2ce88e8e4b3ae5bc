"""Cameras as GeoJSON: one Point feature per camera with a position, its health state as the marker colour.

GeoJSON (RFC 7946) so any map library or GIS tool can use the same endpoint as the console; positions are
[longitude, latitude]. A camera without a position is a feature with a null geometry (RFC 7946 §3.2), so
the one answer also gives the console its camera list with states.
"""

from __future__ import annotations

from typing import Any

from domain.camera import Camera
from domain.tenant_health import ONLINE, TROUBLED, CameraHealth

COLOURS = {"online": "#1a9850", "troubled": "#d73027", "disabled": "#878787", "unknown": "#fdae61"}


def marker_state(camera: Camera, health: CameraHealth | None) -> str:
    """``online``, ``troubled``, ``disabled`` or ``unknown`` (never ran, or starting)."""
    if not camera.enabled:
        return "disabled"
    state = health.state if health else None
    if state in ONLINE:
        return "online"
    if state in TROUBLED:
        return "troubled"
    return "unknown"


def camera_features(cameras: list[Camera], health: list[CameraHealth]) -> dict[str, Any]:
    by_id = {h.camera_id: h for h in health}
    features = []
    for camera in cameras:
        seen = by_id.get(camera.id)
        marker = marker_state(camera, seen)
        features.append({
            "type": "Feature", "id": str(camera.id),
            "geometry": None if camera.latitude is None or camera.longitude is None
            else {"type": "Point", "coordinates": [camera.longitude, camera.latitude]},
            "properties": {"name": camera.name, "enabled": camera.enabled, "state": seen.state if seen and seen.state else None,
                           "marker": marker, "color": COLOURS[marker]},
        })
    return {"type": "FeatureCollection", "features": features}
