"""A free TCP port on 127.0.0.1 for a listener started a moment later, outside the kernel's ephemeral range.

Asking the kernel (bind to port 0) hands out a port from the ephemeral range, the same range every bind(0) and
outgoing connection draws from. Between the pick and the listener's own bind, seconds later, a Ray worker or a
client connection can take it: an embedded Ray alone binds dozens of ephemeral ports on 127.0.0.1 while it
starts. Ports below that range are only ever taken by name, so a pick there stays free.
"""

from __future__ import annotations

import random
import socket
from pathlib import Path

_LOWEST = 20000  # above the registered ports services use (PostgreSQL 5432, Redis 6379, …)
_ATTEMPTS = 200
_RANGE_FILE = Path("/proc/sys/net/ipv4/ip_local_port_range")


def free_port() -> int:
    """A port nothing listens on now, below the ephemeral range (kernel's pick where that range leaves no room)."""
    highest = _ephemeral_start() - 1
    for _ in range(_ATTEMPTS if highest > _LOWEST else 0):
        port = random.randint(_LOWEST, highest)
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _ephemeral_start() -> int:
    try:
        return int(_RANGE_FILE.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768  # Linux's default
