"""A real S3-protocol server (moto's) as a subprocess on 127.0.0.1."""

from __future__ import annotations

import subprocess
import sys

from tests.support.ports import free_port, wait_for_port
from tests.support.processes import stop_process


class S3TestServer:
    def __init__(self) -> None:
        self.port = free_port()
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        try:
            wait_for_port(self.port, 30)
        except TimeoutError:
            self.stop()
            raise

    def url(self, bucket: str) -> str:
        return f"s3://test-key:test-secret@127.0.0.1:{self.port}/{bucket}?region=us-east-1"

    def stop(self) -> None:
        stop_process(self._proc)
