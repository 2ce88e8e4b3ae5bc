"""The embedded Ray keeps to loopback: every socket of its processes is on 127.0.0.0/8 (runtime/local_ray.py);
and its workers run at ordinary priority, not Ray's niceness 15.

Ray by itself swaps a node address of 127.0.0.1 for the machine's LAN address, which would put its GCS and
workers on the network and its own traffic outside loopback."""

from __future__ import annotations

import contextlib
import os

import psutil
import ray

from tests.support.ports import beyond_loopback, tcp_sockets


@ray.remote(num_cpus=0)
def _node_address() -> str:
    return str(ray.util.get_node_ip_address())


@ray.remote(num_cpus=0)
def _niceness() -> int:
    return os.nice(0)


def test_every_socket_of_the_embedded_ray_is_on_loopback(ray_local: None) -> None:
    assert ray.get(_node_address.remote(), timeout=60) == "127.0.0.1"
    ray_processes = {}
    for process in psutil.Process().children(recursive=True):
        with contextlib.suppress(psutil.Error):  # one that exits meanwhile holds no socket
            ray_processes[process.pid] = process.name()
    assert len(ray_processes) >= 3, "GCS, raylet and workers run as this process's descendants"
    sockets = tcp_sockets(ray_processes)
    assert sockets, "Ray's processes hold TCP sockets"
    assert not beyond_loopback(sockets), f"sockets of Ray beyond loopback: {beyond_loopback(sockets)}"


def test_the_workers_run_at_ordinary_priority(ray_local: None) -> None:
    assert ray.get(_niceness.remote(), timeout=60) == 0, "camera hosts and replicas must not yield to everything else"
