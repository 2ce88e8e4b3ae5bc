"""Start/stop the RTSP test cameras as subprocesses on a fixed port.

Two servers with one interface: ``RtspTestCamera`` (GStreamer, encoding live)
and ``RtspFarm`` (tests/support/rtsp_farm.py, replaying pre-packetized H.264
to many sessions from one process). The camera-supervision tests run against
both, so the farm is known to behave like a camera.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from tests.support.processes import stop_process

SYSTEM_PYTHON = "/usr/bin/python3"
SERVER_SCRIPT = Path(__file__).with_name("rtsp_camera_server.py")


class _ServerProcess:
    """A server subprocess that prints READY; ``stop()`` and ``start()`` again keep the URLs."""

    def __init__(self, port: int, mounts: list[str], *, fps: int = 25, gop: int = 25,
                 auth: tuple[str, str] | None = None) -> None:
        self.port = port
        self.mounts = mounts
        self.fps = fps
        self.gop = gop
        self.auth = auth
        self._proc: subprocess.Popen[str] | None = None

    def url(self, name: str) -> str:
        return f"rtsp://127.0.0.1:{self.port}/{name}"

    @property
    def pid(self) -> int | None:
        return None if self._proc is None else self._proc.pid

    def _command(self) -> list[str]:
        raise NotImplementedError

    def start(self, timeout_s: float = 60.0) -> None:
        self._proc = subprocess.Popen(self._command(), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + timeout_s
        assert self._proc.stdout is not None
        while time.monotonic() < deadline:
            line = self._proc.stdout.readline()
            if line.strip() == "READY":
                return
            if self._proc.poll() is not None:
                raise RuntimeError(f"RTSP test camera exited: {self._proc.stderr.read() if self._proc.stderr else ''}")
        self.stop()
        raise TimeoutError("RTSP test camera did not become ready")

    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def restarted_if_dead(self) -> str | None:
        """Start it again on the same port (same URLs) if it has exited; then what it said on its way out."""
        if self._proc is None or self.running():
            return None
        said = f"exit {self._proc.returncode}: {(self._proc.stderr.read() if self._proc.stderr else '')[-2000:]}"
        self.stop()
        self.start()
        return said

    def pause(self) -> None:
        """Freeze the server (SIGSTOP): sockets stay open and nothing is sent — a true stall."""
        assert self._proc is not None
        self._proc.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        assert self._proc is not None
        self._proc.send_signal(signal.SIGCONT)

    def stop(self) -> None:
        if self._proc is None:
            return
        self._proc.send_signal(signal.SIGCONT)  # a paused server cannot handle SIGTERM
        stop_process(self._proc, 5)
        for stream in (self._proc.stdin, self._proc.stdout, self._proc.stderr):
            if stream:
                stream.close()
        self._proc = None


class RtspTestCamera(_ServerProcess):
    """GStreamer's RTSP server encoding a live test pattern; mounts may be ``NAME:KIND`` (audio, bframes, mjpeg)."""

    def _command(self) -> list[str]:
        cmd = [SYSTEM_PYTHON, str(SERVER_SCRIPT), "--port", str(self.port), "--fps", str(self.fps),
               "--gop", str(self.gop)]
        for mount in self.mounts:
            cmd += ["--mount", mount]
        if self.auth:
            cmd += ["--auth", ":".join(self.auth)]
        return cmd


class RtspFarm(_ServerProcess):
    """The lean farm (H.264 only): ``count`` more mounts s0 … s{count-1}; a path can be paused on its own."""

    def __init__(self, port: int, mounts: list[str], *, count: int = 0, width: int = 640, height: int = 360,
                 kbps: int = 600, log: Path | None = None, **options: object) -> None:
        super().__init__(port, mounts, **options)  # type: ignore[arg-type]
        self.count, self.width, self.height, self.kbps = count, width, height, kbps
        self.log = log  # where the farm logs its timeline skips (``--log``)

    def _command(self) -> list[str]:
        cmd = [sys.executable, "-m", "tests.support.rtsp_farm", "--port", str(self.port), "--fps", str(self.fps),
               "--gop", str(self.gop), "--mounts", str(self.count), "--width", str(self.width),
               "--height", str(self.height), "--kbps", str(self.kbps)]
        for mount in self.mounts:
            cmd += ["--mount", mount]
        if self.auth:
            cmd += ["--auth", ":".join(self.auth)]
        if self.log is not None:
            cmd += ["--log", str(self.log)]
        return cmd

    def stats(self) -> dict[str, Any]:
        """The farm's timeline skips so far (count, per mount, each with its UTC time) and largest lateness."""
        assert self._proc is not None and self._proc.stdin is not None and self._proc.stdout is not None
        self._proc.stdin.write("stats\n")
        self._proc.stdin.flush()
        answer: dict[str, Any] = json.loads(self._proc.stdout.readline())
        if self._proc.stdout.readline().strip() != "OK":
            raise RuntimeError("the farm did not answer stats")
        return answer

    def command(self, line: str) -> None:
        """``pause NAME``, ``resume NAME`` or ``drop NAME``; returns once the farm has done it."""
        assert self._proc is not None and self._proc.stdin is not None and self._proc.stdout is not None
        self._proc.stdin.write(line + "\n")
        self._proc.stdin.flush()
        if self._proc.stdout.readline().strip() != "OK":
            raise RuntimeError(f"the farm did not do {line!r}")


CAMERA_SERVERS = {"gstreamer": RtspTestCamera, "farm": RtspFarm}
