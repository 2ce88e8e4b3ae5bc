"""Ports picked for listeners started a moment later come from below the ephemeral range, where no bind(0) or
outgoing connection can take them in between (runtime/free_port.py)."""

from __future__ import annotations

import socket

import pytest

from runtime.free_port import _ephemeral_start, free_port, held_port


def test_a_picked_port_is_free_and_below_the_ephemeral_range() -> None:
    start = _ephemeral_start()
    for _ in range(20):
        port = free_port()
        assert 20000 <= port < start
        with socket.socket() as listener:
            listener.bind(("127.0.0.1", port))  # free indeed


def test_a_held_port_stays_taken_until_released() -> None:
    with held_port(10_000, 19_999) as port:
        assert 10_000 <= port <= 19_999
        with socket.socket() as other, pytest.raises(OSError):
            other.bind(("127.0.0.1", port))
    with socket.socket() as after:
        after.bind(("127.0.0.1", port))


def test_a_range_with_nothing_free_is_an_error() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        port = taken.getsockname()[1]
        with pytest.raises(LookupError), held_port(port, port):
            pass
