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
