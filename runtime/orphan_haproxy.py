"""HAProxy left holding the API port by an instance that crashed.

Under ``--serve-proxy haproxy`` Serve's HAProxy manager actor runs HAProxy as its child. An instance killed with
SIGKILL takes its Ray processes down with it; HAProxy normally follows its manager, but an earlier trial saw the next
start on that directory refused because the API port was still taken, and an HAProxy re-parented to init would keep
it for good. So the next start reaps such an orphan, and only it: a process named ``haproxy``, listening on that
port, whose parent is no Ray process (a live instance's HAProxy is the child of its ``ray::HAProxyManager``)."""

from __future__ import annotations

import contextlib

import psutil

_NAME = "haproxy"
_RAY_PROCESS_PREFIX = "ray::"


def orphaned_haproxies(port: int) -> list[psutil.Process]:
    """HAProxy processes without a Ray parent that listen on ``port``."""
    found = []
    for process in psutil.process_iter(["name"]):
        if process.info["name"] != _NAME:
            continue
        with contextlib.suppress(psutil.Error):
            if _listens_on(process, port) and not _has_ray_parent(process):
                found.append(process)
    return found


def reap(processes: list[psutil.Process], timeout_s: float = 5.0) -> list[int]:
    """Terminate, then kill what is left after ``timeout_s``; the pids that were running."""
    for process in processes:
        with contextlib.suppress(psutil.NoSuchProcess):
            process.terminate()
    _, alive = psutil.wait_procs(processes, timeout=timeout_s)
    for process in alive:
        with contextlib.suppress(psutil.NoSuchProcess):
            process.kill()
    psutil.wait_procs(alive, timeout=timeout_s)
    return [process.pid for process in processes]


def _listens_on(process: psutil.Process, port: int) -> bool:
    return any(c.status == psutil.CONN_LISTEN and c.laddr and c.laddr.port == port
               for c in process.net_connections(kind="tcp"))


def _has_ray_parent(process: psutil.Process) -> bool:
    parent = process.parent()
    if parent is None or parent.pid == 1:
        return False
    title = parent.cmdline()  # Ray workers retitle themselves (``ray::ProxyActor``); the kernel's name may not say
    return parent.name().startswith(_RAY_PROCESS_PREFIX) or bool(title and title[0].startswith(_RAY_PROCESS_PREFIX))
