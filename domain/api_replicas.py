"""How many API replicas Serve runs and where: the deployment options built from the settings (pure).

One replica stays on the head with the control plane (docs/cluster.md). More than one — a fixed count, or
autoscaling between ``api_replicas`` and ``api_max_replicas`` — are not pinned: Serve spreads them over the nodes
(its default strategy for replicas that ask for no CPU), and a proxy on every node (``proxy_location="EveryNode"``)
routes to them, so a node's API capacity grows with the node. Autoscaling counts ongoing requests, and an open live
WebSocket is one for as long as it is open: the target is set for a replica's share of viewers, not for
sub-second requests.
"""

from __future__ import annotations

from typing import Any

TARGET_ONGOING_REQUESTS = 100  # per replica before Serve adds one (WebSockets count: see above)
PROXY_LOCATION = "EveryNode"


class BadReplicaCount(ValueError):
    """The replica settings cannot be deployed."""


def api_replica_options(replicas: int, max_replicas: int | None, on_head: dict[str, float]) -> dict[str, Any]:
    """Serve ``.options()`` for the API: ``num_replicas`` or ``autoscaling_config``, and the replicas' placement
    (``resources`` of ``ray_actor_options``, to be merged with the rest of them)."""
    if replicas < 1:
        raise BadReplicaCount(f"the API needs at least 1 replica (got {replicas})")
    if max_replicas is not None and max_replicas < replicas:
        raise BadReplicaCount(f"the API's maximum replicas ({max_replicas}) is below its minimum ({replicas})")
    scaled = max_replicas is not None and max_replicas > replicas
    options: dict[str, Any] = (
        {"autoscaling_config": {"min_replicas": replicas, "max_replicas": max_replicas,
                                "target_ongoing_requests": TARGET_ONGOING_REQUESTS}}
        if scaled else {"num_replicas": replicas})
    pinned = replicas == 1 and not scaled
    options["ray_actor_options"] = {"num_cpus": 0, **({"resources": dict(on_head)} if pinned else {})}
    return options
