"""A real Prometheus (Debian's package) scraping the platform on 127.0.0.1, queried through its HTTP API."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from tests.support.ports import free_port, wait_for_port

PROMETHEUS = shutil.which("prometheus") or "/usr/bin/prometheus"


class PrometheusServer:
    """Scrapes ``target_url`` (the API's /api/v1/metrics) every second; ``value(query)`` reads an instant vector."""

    def __init__(self, target_url: str, directory: Path) -> None:
        parts = urlsplit(target_url)
        self.port = free_port()
        config = {"global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
                  "scrape_configs": [{"job_name": "gtvision", "metrics_path": parts.path,
                                      "static_configs": [{"targets": [parts.netloc]}]}]}
        (directory / "prometheus.yml").write_text(json.dumps(config))  # JSON is YAML
        self._log = (directory / "prometheus.log").open("wb")
        self._process = subprocess.Popen(
            [PROMETHEUS, f"--config.file={directory / 'prometheus.yml'}", f"--storage.tsdb.path={directory / 'data'}",
             f"--web.listen-address=127.0.0.1:{self.port}"],
            stdout=self._log, stderr=subprocess.STDOUT)
        wait_for_port(self.port, 30)

    def query(self, expression: str) -> list[dict[str, Any]]:
        response = httpx.get(f"http://127.0.0.1:{self.port}/api/v1/query", params={"query": expression}, timeout=5)
        response.raise_for_status()
        result: list[dict[str, Any]] = response.json()["data"]["result"]
        return result

    def value(self, expression: str) -> float | None:
        """The single value of an expression, or None while it has no sample."""
        result = self.query(expression)
        return float(result[0]["value"][1]) if result else None

    def wait_value(self, expression: str, accept: Any, timeout_s: float) -> float:
        """Wait until ``accept(value)`` holds for the expression's value; the last value seen is in the error."""
        deadline = time.monotonic() + timeout_s
        seen = None
        while time.monotonic() < deadline:
            seen = self.value(expression)
            if seen is not None and accept(seen):
                return seen
            time.sleep(0.5)
        raise TimeoutError(f"{expression}: last value {seen} within {timeout_s} s")

    def close(self) -> None:
        self._process.terminate()
        try:
            self._process.wait(10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait(5)
        self._log.close()

    def __enter__(self) -> PrometheusServer:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()
