"""The MediaMTX edge's paths: one per camera, named ``cam/{camera_id}``, and the changes that make MediaMTX's
path configuration match the cameras (docs/edge.md).

The Fleet lists MediaMTX's configured paths and applies the plan; only paths named ``cam/<uuid>`` are GT-Vision's,
so paths an operator configured by hand are never touched.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID

PATH_PREFIX = "cam/"
PULLABLE_SCHEMES = ("rtsp", "rtsps")  # what MediaMTX can pull of GT-Vision's stream schemes (not test://)

PathConf = dict[str, Any]  # a MediaMTX path configuration, as its Control API reads and writes it (JSON)


def path_name(camera_id: UUID) -> str:
    return f"{PATH_PREFIX}{camera_id}"


def camera_of_path(name: str) -> UUID | None:
    """The camera a path name stands for, or None when it is not a GT-Vision camera path."""
    if not name.startswith(PATH_PREFIX):
        return None
    try:
        camera_id = UUID(name[len(PATH_PREFIX):])
    except ValueError:
        return None
    return camera_id if path_name(camera_id) == name else None  # one spelling per camera: no upper case, no braces


def edge_carries(url: str) -> bool:
    """Whether MediaMTX can pull this camera URL (the built-in test pattern stays in GT-Vision)."""
    return urlsplit(url).scheme.lower() in PULLABLE_SCHEMES


def desired_path(source_url: str) -> PathConf:
    """A camera's path: pulled from the camera (``source``, with credentials) only while someone reads it, over TCP
    (RTP over UDP loses packets across city networks and NAT)."""
    return {"source": source_url, "sourceOnDemand": True, "rtspTransport": "tcp"}


def desired_paths(cameras: Iterable[tuple[UUID, str]]) -> dict[str, PathConf]:
    """Path name → configuration for the (camera id, URL with credentials) pairs the edge can carry."""
    return {path_name(cid): desired_path(url) for cid, url in cameras if edge_carries(url)}


@dataclass(frozen=True)
class EdgePathPlan:
    add: dict[str, PathConf] = field(default_factory=dict)
    patch: dict[str, PathConf] = field(default_factory=dict)  # only the keys that differ
    delete: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        return not (self.add or self.patch or self.delete)


def plan_paths(desired: Mapping[str, PathConf], current: Mapping[str, Mapping[str, Any]]) -> EdgePathPlan:
    """What to add, patch and delete so that MediaMTX's camera paths are ``desired``.

    ``current`` is what MediaMTX lists (every key of every path, defaults included): only the keys GT-Vision sets
    are compared, and a patch carries just the ones that differ (patching ``source`` restarts the pull; patching an
    unchanged path would cut its viewers off for nothing)."""
    add = {name: dict(conf) for name, conf in desired.items() if name not in current}
    patch: dict[str, PathConf] = {}
    for name, conf in desired.items():
        if name in current:
            changed = {key: value for key, value in conf.items() if current[name].get(key) != value}
            if changed:
                patch[name] = changed
    delete = tuple(sorted(name for name in current if name not in desired and camera_of_path(name) is not None))
    return EdgePathPlan(add, patch, delete)
