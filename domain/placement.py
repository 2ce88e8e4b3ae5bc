"""Placement and reconciliation of cameras onto camera hosts and nodes (pure).

The Fleet actor feeds this the desired cameras (from PostgreSQL), what the
hosts report running and which nodes are alive, and carries out the plan it
returns. On a cluster, nodes offer ``camera_slots`` (a capacity the Fleet
reads, docs/cluster.md); each camera host is pinned to one node, so a node's
load is the cameras its hosts report running. Without any node offering
slots (one machine) every host is on ``LOCAL``, which never runs out of room.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Hashable, Mapping
from dataclasses import dataclass
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)

LOCAL = ""  # the one node of a deployment whose nodes offer no camera slots: hosts go wherever Ray puts them


@dataclass(frozen=True)
class HostLoad:
    """A camera host: the node it is pinned to and how many cameras it runs."""

    node: str
    cameras: int


@dataclass(frozen=True)
class ReconcilePlan(Generic[K]):
    start: list[K]
    stop: list[K]


def reconcile(desired: Mapping[K, str], running: Mapping[K, str]) -> ReconcilePlan[K]:
    """Plan to make ``running`` match ``desired``.

    Both map camera id → configuration revision. A camera whose revision changed
    is stopped and started again.
    """
    stop = [cid for cid, rev in running.items() if desired.get(cid) != rev]
    start = [cid for cid, rev in desired.items() if running.get(cid) != rev]
    return ReconcilePlan(start=sorted(start, key=str), stop=sorted(stop, key=str))


def choose_node(capacity: Mapping[str, float], load: Mapping[str, int]) -> str:
    """The node for one more camera: the lowest share of its slots in use, among nodes with a free slot; when
    every node is full, the lowest share anyway (a camera recorded over a soft limit beats one not recorded).
    A node that just joined has the lowest share, so new cameras go to it. Ties go to the first node by id,
    so a pass is reproducible. ``capacity`` must not be empty."""
    if not capacity:
        raise ValueError("no node to place a camera on")

    def share(node: str) -> tuple[bool, float, str]:
        slots, used = capacity[node], load.get(node, 0)
        return used >= slots, (used / slots if slots > 0 else math.inf), node

    return min(capacity, key=share)


def choose_slot(hosts: Mapping[int, HostLoad], node: str, per_host: int, *, first_free: int = 0,
                spread_over: int | None = None, reserved: Collection[int] = ()) -> int:
    """The host slot on ``node`` for one more camera.

    While fewer than ``spread_over`` shared hosts are open on the node and each has a camera, a new one (so
    cameras spread over about one host per core); then the node's least loaded shared host with room; else a new
    slot. ``reserved`` slots (a quarantined camera's, a crash loop's suspects) are never chosen. A new slot is never
    one in ``hosts`` or ``reserved``, nor below ``first_free`` (a forgotten slot is not reused while its name may
    still be held by the host being killed).
    """
    shared = {slot: h.cameras for slot, h in hosts.items() if h.node == node and slot not in reserved}
    fresh = max([*hosts, *reserved, first_free - 1]) + 1
    if spread_over is not None and len(shared) < spread_over and all(shared.values()):
        return fresh
    with_room = [(count, slot) for slot, count in shared.items() if count < per_host]
    if with_room:
        return min(with_room)[1]
    return fresh


def lost_hosts(host_nodes: Mapping[int, str], alive: Collection[str]) -> list[int]:
    """Hosts pinned to a node that is no longer alive: their cameras must be placed again elsewhere. A host on
    ``LOCAL`` is never lost this way (Ray restarts it where it likes)."""
    return sorted(slot for slot, node in host_nodes.items() if node != LOCAL and node not in alive)


def camera_nodes(nodes: Collection[Mapping[str, object]], resource: str = "camera_slots") -> dict[str, float]:
    """Alive nodes offering ``resource`` → their slots, from ``ray.nodes()`` entries; ``{LOCAL: inf}`` when none
    offers any (one machine, or a cluster not set up for cameras: hosts go wherever Ray puts them)."""
    offered: dict[str, float] = {}
    for node in nodes:
        resources = node.get("Resources")
        slots = resources.get(resource, 0.0) if isinstance(resources, Mapping) else 0.0
        if node.get("Alive") and isinstance(slots, int | float) and slots > 0:
            offered[str(node["NodeID"])] = float(slots)
    return offered or {LOCAL: math.inf}
