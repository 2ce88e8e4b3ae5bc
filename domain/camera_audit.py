"""What a camera's audit rows say about it: its settings, and what an edit changed — never its credentials.

The stream URL is stored without credentials (domain/stream_url.py), and is redacted once more here
(domain/redaction.py) so that no form of it can carry a user or password into the trail; a change of user or
password is recorded as such, without either value.
"""

from __future__ import annotations

from typing import Any

from domain.camera import Camera
from domain.redaction import redact


def camera_settings(camera: Camera) -> dict[str, Any]:
    """The camera as the trail records it at creation or deletion."""
    return {"name": camera.name, "vendor": camera.vendor, "rtsp_url": redact(camera.stream.public_url),
            "substream_url": None if camera.substream is None else redact(camera.substream.public_url),
            "enabled": camera.enabled, "latitude": camera.latitude, "longitude": camera.longitude,
            "has_credentials": camera.stream.username is not None or camera.sealed_password is not None}


def camera_changes(before: Camera, after: Camera, credentials_changed: bool) -> dict[str, Any]:
    """Each setting that differs, from → to; ``credentials: "changed"`` if the edit changed the user or password."""
    old, new = camera_settings(before), camera_settings(after)
    changes: dict[str, Any] = {name: {"from": old[name], "to": new[name]}
                               for name in old if name != "has_credentials" and old[name] != new[name]}
    if credentials_changed:
        changes["credentials"] = "changed"
    return changes
