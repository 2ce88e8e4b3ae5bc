"""A Ray cluster of several nodes on this machine (ray.cluster_utils) whose workers offer camera slots.

Each worker node is a raylet of its own with its own spool directory (``GTVISION_SPOOL_DIR`` in the raylet's
environment, which its worker processes inherit), as each machine of a real cluster has its own disk. Removing
a node kills its raylet and every process on it (SIGKILL, as a machine that loses power); adding one back with
the same spool directory is a machine that came back with its disk.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ray._private.node import Node
from ray.cluster_utils import Cluster

from runtime.local_ray import keep_ray_on_loopback
from storage.spool import SPOOL_DIR_ENV

# Run the program that makes the cluster with this in its environment (Ray's nodes inherit it):
CLUSTER_ENV = {
    # every address Ray derives on this machine is the loopback one; without it, connecting to "127.0.0.1:port"
    # is rewritten to the machine's network address, where the head (bound to 127.0.0.1) does not listen
    "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0",
    # a node's agents start slowly on a busy 2-core machine; a raylet gives up on them after 30 s by default
    "RAY_agent_register_timeout_ms": "120000", "RAY_raylet_start_wait_time_s": "120",
    "RAY_USAGE_STATS_ENABLED": "0",
}

# Ray declares a node dead after this many failed health checks, this far apart (defaults: 5 × 3 s): a node
# lost in a test is noticed in ≈ 3 s instead of ≈ 15 s.
FAST_NODE_DEATH = {"health_check_initial_delay_ms": 1000, "health_check_period_ms": 1000,
                   "health_check_failure_threshold": 3}


@dataclass
class CameraCluster:
    """A head (no camera slots: the control plane and the API) and named worker nodes offering camera slots."""

    work: Path
    slots_per_worker: int = 4
    cluster: Cluster = field(init=False)
    workers: dict[str, Node] = field(default_factory=dict)

    def __post_init__(self) -> None:
        keep_ray_on_loopback()  # the nodes' "127.0.0.1" stays loopback (runtime/local_ray.py)
        self.cluster = Cluster(initialize_head=True, head_node_args={
            "num_cpus": 2, "node_ip_address": "127.0.0.1", "include_dashboard": False,
            "env_vars": {SPOOL_DIR_ENV: str(self.spool_of("head"))}, "_system_config": FAST_NODE_DEATH})

    @property
    def address(self) -> str:
        return str(self.cluster.address)

    def spool_of(self, name: str) -> Path:
        return self.work / f"spool-{name}"

    def add_worker(self, name: str) -> str:
        """Start worker ``name`` (again: same spool directory); its Ray node id."""
        node = self.cluster.add_node(
            num_cpus=1, node_ip_address="127.0.0.1", resources={"camera_slots": self.slots_per_worker},
            env_vars={SPOOL_DIR_ENV: str(self.spool_of(name))})
        self.workers[name] = node
        return str(node.node_id)

    def remove_worker(self, name: str) -> None:
        """Kill worker ``name`` and everything on it, without warning."""
        self.cluster.remove_node(self.workers.pop(name), allow_graceful=False)

    def node_id(self, name: str) -> str:
        return str(self.workers[name].node_id)

    def shutdown(self) -> None:
        self.cluster.shutdown()


def spooled_files(spool: Path) -> list[Path]:
    """Chunk files (open or closed) left in a node's spool."""
    return sorted(p for suffix in ("*.part", "*.chunk") for p in spool.glob(f"*/{suffix}"))


def describe(report: dict[str, Any], names: dict[str, str]) -> dict[str, str]:
    """The Fleet's camera → node id report with node ids replaced by worker names (for messages)."""
    return {camera: names.get(node, node) for camera, node in report["cameras"].items()}
