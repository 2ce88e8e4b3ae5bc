"""Start/stop the GStreamer RTSP test camera as a subprocess on a fixed port."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

from tests.support.processes import stop_process

SYSTEM_PYTHON = "/usr/bin/python3"
SERVER_SCRIPT = Path(__file__).with_name("rtsp_camera_server.py")


class RtspTestCamera:
    """A real RTSP server on 127.0.0.1:``port``; ``stop()`` and ``start()`` again keep the URLs."""

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

    def start(self, timeout_s: float = 20.0) -> None:
        cmd = [SYSTEM_PYTHON, str(SERVER_SCRIPT), "--port", str(self.port),
               "--fps", str(self.fps), "--gop", str(self.gop)]
        for mount in self.mounts:
            cmd += ["--mount", mount]
        if self.auth:
            cmd += ["--auth", ":".join(self.auth)]
        self._proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
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
        for stream in (self._proc.stdout, self._proc.stderr):
            if stream:
                stream.close()
        self._proc = None
