"""The embedded, one-machine Ray: on the loopback interface, its workers at ordinary priority.

Ray turns a node address of 127.0.0.1 into the machine's outward one (``resolve_ip_for_localhost`` in
``ray._private.services``), so a "local" Ray still listens on, and talks over, the LAN address: its GCS and
workers are reachable from the network, and its own traffic leaves 127.0.0.0/8. Ray keeps to loopback only where
it thinks clusters are unsupported, a switch it reads from ``RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER`` (despite the
name, on every platform); turning it off is what keeps a one-machine Ray on 127.0.0.1. Measured: with it, every
listener and connection of Ray's processes is on loopback; without it, they are on the machine's eth0 address.

Ray also starts its workers at niceness 15 (``RAY_worker_niceness``), so that the driver stays responsive. Here
the workers are the product, camera hosts and the API replicas, and the driver only waits: at 15 they would yield
the CPU to any process of ordinary priority on the machine, PostgreSQL's included, and recording would be what
starves under load. So they run at 0, like every other part of GT-Vision.

A real cluster (``gtvision up --address``) never goes through here.
"""

from __future__ import annotations

import os
import sys
from typing import Any

LOOPBACK_SWITCH = "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"
LOOPBACK = "127.0.0.1"
WORKER_NICENESS = "RAY_worker_niceness"


def keep_ray_on_loopback() -> None:
    """For Ray processes started from now on (they read the switch from the environment at import) and for this
    one, if it has imported Ray already."""
    os.environ[LOOPBACK_SWITCH] = "0"
    constants: Any = sys.modules.get("ray._private.ray_constants")
    if constants is not None:
        constants.ENABLE_RAY_CLUSTER = False


def init_local_ray(**options: Any) -> Any:
    """``ray.init`` of a new Ray on this machine, on loopback only; ``options`` as ``ray.init`` takes them."""
    keep_ray_on_loopback()
    os.environ.setdefault(WORKER_NICENESS, "0")
    import ray

    return ray.init(address="local", _node_ip_address=LOOPBACK, **options)
