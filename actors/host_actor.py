"""Creating a host actor (camera host, city host) the one way: named, found again if it exists, restarted
empty by Ray whenever it dies (the Fleet refills it), many calls at once, no CPU reserved."""

from __future__ import annotations

from collections.abc import Mapping
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
    to where it is scheduled (a camera host's node affinity, a city host's head resource)."""
    return (ray.remote(cls)
            .options(name=name, namespace=settings.namespace, get_if_exists=True, max_restarts=-1,
                     max_concurrency=1000, num_cpus=0, **(ray_options or {}))
            .remote(settings, *args, **kwargs))
