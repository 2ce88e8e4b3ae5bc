"""Checks before anything starts: a problem found later costs a hundred lines of Ray tracebacks.

Each problem is one line that says what is wrong and what to do about it; the
command exits non-zero with nothing started and nothing left running.
"""

from __future__ import annotations

import errno
import shutil
import socket
import tempfile
from pathlib import Path

MIN_FREE_BYTES = 1024**3  # below this a camera's spool fills within minutes


def port_problem(host: str, port: int, what: str, fix: str) -> str | None:
    """Why ``host:port`` cannot be bound for ``what`` (None if it can)."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the servers bind: TIME_WAIT is no conflict
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return f"{what} port {port} on {host} is already in use by another program: free it, or {fix}"
            return f"cannot bind {what} port {port} on {host} ({exc.strerror}): {fix}"
    return None


def var_dir_problem(var_dir: Path, min_free_bytes: int = MIN_FREE_BYTES) -> str | None:
    """Why ``var_dir`` cannot hold GT-Vision's state (None if it can)."""
    try:
        var_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=var_dir, prefix=".write-check-"):
            pass
    except OSError as exc:
        return f"cannot write to the data directory {var_dir} ({exc.strerror}): fix its permissions, or choose" \
               " another with --var-dir"
    free = shutil.disk_usage(var_dir).free
    if free < min_free_bytes:
        return f"only {free // 1024**2} MiB free under {var_dir} (at least {min_free_bytes // 1024**2} MiB needed):" \
               " free some space, or choose another disk with --var-dir"
    return None


def port_problems(host: str, api_port: int, dashboard_port: int | None) -> list[str]:
    """The API's port and (unless there is no dashboard) the Ray dashboard's."""
    found = [port_problem(host, api_port, "the API", "choose another with --port")]
    if dashboard_port is not None:
        found.append(port_problem("127.0.0.1", dashboard_port, "the Ray dashboard",
                                  "choose another with --dashboard-port, or pass --no-dashboard"))
    return [p for p in found if p is not None]


def cluster_problem(address: str | None, database_url: str | None, object_store_url: str | None,
                    bus_url: str | None) -> str | None:
    """Why the platform cannot run on the Ray cluster at ``address`` with these parts (None if it can, or if
    there is no address: the embedded local default takes any part).

    On a cluster, actors land on other machines: every part they share must be reachable from all of them. A
    directory object store, the in-Ray bus (one actor, lost with its node) and the embedded PostgreSQL (a
    Unix socket under this machine's var dir) are not."""
    if not address:
        return None
    missing = []
    if not database_url:
        missing.append("a PostgreSQL server (--database-url postgresql://…; the embedded one is on this machine only)")
    if not (object_store_url or "").startswith("s3://"):
        missing.append("an S3 object store (--object-store s3://KEY:SECRET@host:port/bucket; a directory is on one"
                       " machine only)")
    if not (bus_url or "").startswith(("redis://", "rediss://")):
        missing.append("a Redis bus (--bus-url redis://host:6379/0; the in-Ray bus is one actor on one node)")
    if not missing:
        return None
    return f"--address {address} runs on a Ray cluster, which needs " + "; and ".join(missing)
