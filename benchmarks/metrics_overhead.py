"""What the metrics cost: LPR webhook throughput and live-view delivery with the API's metrics on and off.

Starts the whole system on Ray (LPR writer, Redis intake and bus, a 25 fps
test-pattern camera, the actors' metrics) and serves the same FastAPI app twice
on plain uvicorn in this process: with the metrics middleware and without it.
Plain uvicorn, not Serve, because its overhead is smallest, so the metrics'
share is largest there. Rounds alternate on/off (and which goes first) so
that the machine's drift hits both alike; each figure is the median of its
rounds:

- LPR: ``wrk`` posts Intelbras TollgateInfo pushes (distinct plates, 16
  cameras, 64 connections) for ``--window`` seconds: accepted/s and p99;
- live: ``--viewers`` WebSocket viewers of the camera for ``--window``
  seconds (clients in a child process): fragments delivered per second and
  latency p95.

    .venv/bin/python -m benchmarks.metrics_overhead --out benchmarks/results/metrics_overhead.json
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any
from uuid import uuid4

from benchmarks.lpr import PASSWORD, body_template, run_wrk
from benchmarks.report import base_parser, publish
from benchmarks.serving import serve_direct
from benchmarks.watch import run_client
from runtime.local_ray import init_local_ray

CAMERAS = 16


def main() -> None:
    parser = base_parser(__doc__, warmup_s=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--viewers", type=int, default=20)
    parser.set_defaults(window=20.0)
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    run(parser.parse_args())


def run(args: argparse.Namespace) -> None:
    import ray

    from domain.settings import Settings
    from serve.app import create_app
    from tests.support.databases import create_database, drop_database
    from tests.support.ports import free_port
    from tests.support.system import REDIS_URL, drop_redis_keys, start_system

    work = Path(tempfile.mkdtemp(prefix="gtv-metrics-"))
    database_url = asyncio.run(create_database())
    prefix = f"gtv-bench-{uuid4().hex[:8]}:"
    serve_port = free_port()
    ports = {"on": free_port(), "off": free_port()}
    settings = Settings(database_url=database_url, object_store_url=(work / "objects").as_uri(),
                        public_url=f"http://127.0.0.1:{serve_port}", secret=uuid4().hex, api_port=serve_port,
                        bus_url=f"{REDIS_URL}?prefix={prefix}", spool_dir=str(work / "spool"),
                        clip_work_dir=str(work / "clips"),
                        camera_networks=("127.0.0.0/8",))  # its cameras are on loopback
    init_local_ray(include_dashboard=False, log_to_driver=False, namespace=settings.namespace)
    runtime, api = start_system(settings, PASSWORD)
    try:
        token = api.post("/auth/login", json={"username": "admin", "password": PASSWORD}).json()["access_token"]
        auth = {"authorization": f"Bearer {token}"}
        tenant = api.post("/tenants", json={"name": "Bench City"}, headers=auth).json()["id"]
        paths = []
        for i in range(CAMERAS):
            camera = api.post("/cameras", headers=auth, json={
                "name": f"lpr {i}", "tenant_id": tenant, "rtsp_url": f"rtsp://127.0.0.1:1/{i}",
                "enabled": False}).json()["id"]
            paths.append(api.post(f"/cameras/{camera}/lpr-credentials", headers=auth).json()["intelbras"])
        live = api.post("/cameras", headers=auth, json={
            "name": "live", "tenant_id": tenant, "rtsp_url": "test://pattern?w=640&h=360&fps=25"}).json()["id"]
        live_token = api.post(f"/cameras/{live}/media-token", headers=auth).json()["token"]
        servers = [serve_direct(create_app(replace(settings, public_url=f"http://127.0.0.1:{port}"),
                                           metrics_middleware=(name == "on")), port) for name, port in ports.items()]
        time.sleep(args.warmup)

        template = body_template(None)
        lpr: dict[str, list[dict[str, Any]]] = {"on": [], "off": []}
        viewing: dict[str, list[dict[str, Any]]] = {"on": [], "off": []}
        for round_ in range(args.rounds):
            order = ("on", "off") if round_ % 2 == 0 else ("off", "on")
            for name in order:
                base = f"http://127.0.0.1:{ports[name]}"
                lpr[name].append(run_wrk(base, paths, template, args.window, work, len(lpr["on"]) + len(lpr["off"])))
            for name in order:
                url = f"ws://127.0.0.1:{ports[name]}/api/v1/cameras/{live}/live?token={live_token}&meta=1"
                viewing[name].append(run_client("live", {"url": url, "viewers": args.viewers, "seconds": args.window}))
        for server in servers:
            server.should_exit = True
    finally:
        runtime.stop()
        ray.shutdown()
        asyncio.run(drop_database(database_url))
        asyncio.run(drop_redis_keys(prefix))
        subprocess.run(["rm", "-rf", str(work)], check=False)

    def median(rounds: list[dict[str, Any]], value: Any) -> float:
        return round(statistics.median(value(r) for r in rounds), 1)

    figures = {name: {
        "lpr_accepted_per_s": median(lpr[name], lambda r: r["accepted_per_s"]),
        "lpr_p99_ms": median(lpr[name], lambda r: r["p99_ms"]),
        "live_fragments_per_s": median(viewing[name], lambda r: r["latency_ms"]["n"] / args.window),
        "live_p95_ms": median(viewing[name], lambda r: r["latency_ms"]["p95"]),
    } for name in ("on", "off")}
    on, off = figures["on"], figures["off"]
    publish("metrics_overhead", {
        "lpr_throughput_ratio": round(on["lpr_accepted_per_s"] / max(1e-9, off["lpr_accepted_per_s"]), 3),
        "live_throughput_ratio": round(on["live_fragments_per_s"] / max(1e-9, off["live_fragments_per_s"]), 3),
        "goal": "each ratio (metrics on ÷ off, same run) ≥ 0.95",
        "on": on, "off": off,
        "setup": {"server": "plain uvicorn, the same app with and without the metrics middleware",
                  "rounds": args.rounds, "window_s": args.window, "viewers": args.viewers,
                  "lpr_load": "wrk -t2 -c64 closed loop, Intelbras TollgateInfo JSON, no image",
                  "camera": "test pattern 640x360 25 fps", "actors": "the actors' metrics run in both"},
        "rounds": {"lpr": lpr, "live": viewing},
    }, args.out)


if __name__ == "__main__":
    main()
