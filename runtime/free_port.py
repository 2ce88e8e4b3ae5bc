"""A free TCP port on 127.0.0.1 for a listener started a moment later, outside the kernel's ephemeral range.

Asking the kernel (bind to port 0) hands out a port from the ephemeral range, the same range every bind(0) and
outgoing connection draws from. Between the pick and the listener's own bind, seconds later, a Ray worker or a
client connection can take it: an embedded Ray alone binds dozens of ephemeral ports on 127.0.0.1 while it
starts. Ports below that range are only ever taken by name, so a pick there stays free.
"""

from __future__ import annotations

import random
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

_LOWEST = 20000  # above the registered ports services use (PostgreSQL 5432, Redis 6379, …)
_ATTEMPTS = 200
_RANGE_FILE = Path("/proc/sys/net/ipv4/ip_local_port_range")


def free_port() -> int:
    """A port nothing listens on now, below the ephemeral range (kernel's pick where that range leaves no room)."""
    try:
        with held_port(_LOWEST, _ephemeral_start() - 1) as port:
            return port
    except LookupError:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            return int(probe.getsockname()[1])


@contextmanager
def held_port(lowest: int, highest: int) -> Iterator[int]:
    """A port in [lowest, highest] bound (not listening) on 127.0.0.1 while the block runs; LookupError if
    none of a few hundred tries is free."""
    for _ in range(_ATTEMPTS if highest >= lowest else 0):
        port = random.randint(lowest, highest)
        with socket.socket() as held:
            try:
                held.bind(("127.0.0.1", port))
            except OSError:
                continue
            yield port
            return
    raise LookupError(f"no free port in {lowest}–{highest}")


def _ephemeral_start() -> int:
    try:
        return int(_RANGE_FILE.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768  # Linux's default
