"""Creating a host actor (camera host, city host) the one way: named, found again if it exists, restarted
empty by Ray whenever it dies (the Fleet refills it), many calls at once, no CPU reserved."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from typing import Any

import ray

from domain.settings import Settings

# The control plane (Fleet, bus, services, API replicas, city hosts) runs on the head: asking for no resources, it
# would land on any node, and losing a camera node would take it along (docs/cluster.md). On one machine the one node
# is the head.
HEAD_NODE_RESOURCE = "node:__internal_head__"  # Ray gives the head node one of these
ON_HEAD = {HEAD_NODE_RESOURCE: 0.001}


def host_actor(cls: type, name: str, settings: Settings, *args: Any,
               ray_options: Mapping[str, Any] | None = None, **kwargs: Any) -> Any:
    """A handle on the named host actor ``name`` running ``cls(settings, *args, **kwargs)``; ``ray_options`` adds
    to where it is scheduled (a camera host's node affinity, a city host's head resource) and how long it lives
    (a camera host outlives the Fleet that created it: ``detached``)."""
    return (ray.remote(cls)
            .options(name=name, namespace=settings.namespace, get_if_exists=True, max_restarts=-1,
                     max_concurrency=1000, num_cpus=0, **(ray_options or {}))
            .remote(settings, *args, **kwargs))


def named_hosts(settings: Settings, is_host: Callable[[str], int | None]) -> dict[int, Any]:
    """Slot → handle of every live actor of this deployment's namespace whose name ``is_host`` maps to a slot."""
    found: dict[int, Any] = {}
    for entry in ray.util.list_named_actors(all_namespaces=True):
        slot = is_host(entry["name"]) if entry["namespace"] == settings.namespace else None
        if slot is not None:
            with contextlib.suppress(ValueError):  # gone since it was listed
                found[slot] = ray.get_actor(entry["name"], namespace=settings.namespace)
    return found
