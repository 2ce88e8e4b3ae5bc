"""Ports picked for listeners started a moment later come from below the ephemeral range, where no bind(0) or
outgoing connection can take them in between (runtime/free_port.py)."""

from __future__ import annotations

import socket

from runtime.free_port import _ephemeral_start, free_port


def test_a_picked_port_is_free_and_below_the_ephemeral_range() -> None:
    start = _ephemeral_start()
    for _ in range(20):
        port = free_port()
        assert 20000 <= port < start
        with socket.socket() as listener:
            listener.bind(("127.0.0.1", port))  # free indeed
