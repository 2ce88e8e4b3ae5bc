"""What the API benchmarks share: latency summaries, the same app on plain uvicorn as the peer, the proxy in use."""

from __future__ import annotations

import os
import threading
import time
from typing import Any


def summary(values: list[float]) -> dict[str, float]:
    """p50/p95/p99/max (ms, 0.1 ms) and the count; NaN when nothing was measured."""
    def pct(q: float) -> float:
        if not values:
            return float("nan")
        ordered = sorted(values)
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1)

    return {"p50": pct(0.5), "p95": pct(0.95), "p99": pct(0.99),
            "max": round(max(values), 1) if values else float("nan"), "n": len(values)}


def serve_direct(app: Any, port: int, **config: Any) -> Any:
    """The same FastAPI app on plain uvicorn in a thread of this process (Ray calls work from here too)."""
    import uvicorn

    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           access_log=False, **config))
    threading.Thread(target=server.run, daemon=True, name="direct-uvicorn").start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.1)
    return server


def serve_proxy() -> str:
    return "HAProxy" if os.environ.get("RAY_SERVE_ENABLE_HA_PROXY") == "1" else "default Python proxy"
