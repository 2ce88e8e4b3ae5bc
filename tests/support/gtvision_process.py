"""``gtvision up`` as a person runs it: a subprocess on a var dir and a port, reached over its API."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psutil

from runtime.local_ray import LOOPBACK_SWITCH
from tests.support.ports import Socket, tcp_sockets

REPO = Path(__file__).resolve().parents[2]
ADMIN_PASSWORD = "admin-password-for-run-tests"


def gtvision(*args: str, timeout_s: float = 60.0) -> subprocess.CompletedProcess[str]:
    """Run a ``gtvision`` command to completion."""
    return subprocess.run([sys.executable, "-m", "runtime.cli", *args], cwd=REPO, capture_output=True, text=True,
                          timeout=timeout_s, env=_env())


def _env() -> dict[str, str]:
    """This environment, but the loopback switch the tests' own Ray uses: ``gtvision up`` must set it itself."""
    inherited = {name: value for name, value in os.environ.items() if name != LOOPBACK_SWITCH}
    return {**inherited, "GTVISION_ADMIN_PASSWORD": ADMIN_PASSWORD, "RAY_USAGE_STATS_ENABLED": "0"}


class Instance:
    """One ``gtvision up`` (1 demo camera, short chunks, no dashboard), stopped and cleaned up by ``close``."""

    def __init__(self, var_dir: Path, port: int, *, chunk_seconds: float = 4.0, extra_args: tuple[str, ...] = (),
                 tls_cert: Path | None = None) -> None:
        """``extra_args`` go after the defaults (a repeated option wins); ``tls_cert``: it runs HTTPS with this
        certificate (give ``--tls-cert``/``--tls-key`` in ``extra_args``), which the client trusts."""
        self.var_dir, self.port = var_dir, port
        self.log = (var_dir.parent / f"gtvision-{port}-{time.monotonic_ns()}.log").open("w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "runtime.cli", "up", "--var-dir", str(var_dir), "--port", str(port),
             "--no-dashboard", "--demo-cameras", "1", "--chunk-seconds", str(chunk_seconds), *extra_args],
            cwd=REPO, env=_env(), stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        self.url = f"{'https' if tls_cert else 'http'}://127.0.0.1:{port}"
        self.api = httpx.Client(base_url=f"{self.url}/api/v1", timeout=10, verify=str(tls_cert) if tls_cert else True)

    def wait_healthy(self, timeout_s: float = 180.0) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gtvision up exited with {self.process.returncode}: {self.output()}")
            # Its own "up" line first: after a crash the dead instance's proxy may answer on the port for a while.
            with contextlib.suppress(httpx.HTTPError):
                if self.says("GT-Vision is up.") and self.api.get("/health").status_code == 200:
                    token = self.api.post("/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD})
                    self.api.headers["authorization"] = f"Bearer {token.json()['access_token']}"
                    return
            time.sleep(0.5)
        raise TimeoutError(f"gtvision up not healthy within {timeout_s} s: {self.output()}")

    def says(self, line: str) -> bool:
        self.log.flush()
        return line in Path(self.log.name).read_text()

    def output(self, *, everything: bool = False) -> str:
        """What it printed (stdout and stderr): the last 3000 characters unless ``everything``."""
        self.log.flush()
        text = Path(self.log.name).read_text()
        return text if everything else text[-3000:]

    def camera(self) -> str:
        tenant = next(t for t in self.api.get("/tenants").json() if t["name"] == "Demo City")
        return str(self.api.get("/cameras", params={"tenant_id": tenant["id"]}).json()[0]["id"])

    def chunks(self, camera_id: str) -> list[dict[str, Any]]:
        now = datetime.now(UTC)
        answer = self.api.get(f"/cameras/{camera_id}/recordings", params={
            "start": (now - timedelta(hours=1)).isoformat(), "end": (now + timedelta(minutes=1)).isoformat()})
        assert answer.status_code == 200, answer.text
        chunks: list[dict[str, Any]] = answer.json()["chunks"]
        return chunks

    def stop(self, timeout_s: float = 120.0) -> int:
        """Ctrl-C's orderly stop (SIGTERM); its exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=timeout_s)

    def sockets(self) -> list[Socket]:
        """(process name, local address, remote address or None) of every TCP socket, listening or connected, in
        this instance's session (Ray, HAProxy, PostgreSQL)."""
        ours = {}
        for process in psutil.process_iter(["name"]):
            with contextlib.suppress(psutil.Error, OSError):
                if os.getsid(process.pid) == self.process.pid:
                    ours[process.pid] = process.info["name"]
        return tcp_sockets(ours)

    def kill(self) -> None:
        """``kill -9`` of the ``gtvision up`` process alone, as a crash would."""
        self.process.kill()
        self.process.wait(timeout=30)

    def close(self) -> None:
        """Whatever happened: nothing of this instance keeps running."""
        with contextlib.suppress(Exception):
            self.stop(timeout_s=120)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)  # Ray's processes started in the instance's session
        stop_embedded_postgres(self.var_dir)
        self.api.close()
        self.log.close()


def stop_embedded_postgres(var_dir: Path) -> None:
    """The embedded PostgreSQL outlives a killed instance by design (the next start reuses it): stop it."""
    pid_file = var_dir / "postgres" / "postmaster.pid"
    with contextlib.suppress(FileNotFoundError, ValueError, ProcessLookupError):
        os.kill(int(pid_file.read_text().split()[0]), signal.SIGTERM)


@contextlib.contextmanager
def running_instance(var_dir: Path, port: int, **options: Any) -> Iterator[Instance]:
    instance = Instance(var_dir, port, **options)
    try:
        instance.wait_healthy()
        yield instance
    finally:
        instance.close()
