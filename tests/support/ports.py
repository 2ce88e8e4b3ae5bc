"""Free TCP ports on 127.0.0.1 for the peers a test starts, and the sockets that are not on loopback."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterable
from ipaddress import ip_address

import psutil

from runtime.free_port import free_port

__all__ = ["beyond_loopback", "free_port", "is_loopback", "tcp_sockets", "wait_for_port"]

Socket = tuple[str, str, str | None]  # (process name, local address, remote address or None)


def wait_for_port(port: int, timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with socket.socket() as s:
            s.settimeout(0.5)
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port}")


def is_loopback(address: str) -> bool:
    """Whether ``address`` is on 127.0.0.0/8 (or ::1), IPv4-mapped IPv6 included: gRPC's sockets are IPv6."""
    ip = ip_address(address)
    return (getattr(ip, "ipv4_mapped", None) or ip).is_loopback


def tcp_sockets(processes: dict[int, str]) -> list[Socket]:
    """Every TCP socket, listening or connected, of ``processes`` (pid → name)."""
    return [(processes[c.pid], str(c.laddr.ip), str(c.raddr.ip) if c.raddr else None)
            for c in psutil.net_connections(kind="tcp") if c.pid in processes]


_SERVE_REPLICA = "ray::ServeRepl"  # a Serve replica's process name, as the kernel keeps it (15 characters)


def beyond_loopback(sockets: Iterable[Socket]) -> list[Socket]:
    """The (process name, local address, remote address or None) sockets not on loopback. Except one: the
    listener a Serve replica opens on every interface for inter-deployment gRPC ("[::]:0", hard-coded in Ray
    2.60, docs/running.md)."""
    return [(name, local, remote) for name, local, remote in sockets
            if not (is_loopback(local) and (remote is None or is_loopback(remote)))
            and not (name.startswith(_SERVE_REPLICA) and remote is None)]
