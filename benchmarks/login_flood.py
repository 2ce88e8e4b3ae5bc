"""Login flood: does a flood of bad logins slow live video and LPR webhooks? The same run, without and with it.

Starts the whole system on Ray (Serve API, Fleet, a camera host, LPR writer, Redis bus and intake, the machine's
PostgreSQL, a directory object store) with one test-pattern camera (640×360, 25 fps). Each phase runs, for
``--window`` seconds, clients in child processes so they do not share the servers' event loops:

- live: WebSocket viewers of the camera; latency from the frame's ``received_at`` (camera actor) to its bytes
  at the client, over every frame (benchmarks/watch.py's client);
- webhooks: Intelbras TollgateInfo pushes at a fixed rate (open loop: latency from each push's scheduled time,
  so a stalled server is not hidden by a client that waits for it);
- flood (second phase only): ``--flood-rate`` login attempts per second from 127.0.0.1, random usernames and
  passwords, on keep-alive connections from a minimal HTTP client, so the load generator's own CPU stays small.
  No X-Forwarded-For: uvicorn (Serve's proxy too) takes it as the client address from a 127.0.0.1 peer.

Reports ``login_flood_live_p99_ratio`` and ``login_flood_webhook_p99_ratio`` (p99 with ÷ without; goal ≤ 1.2)
and how the flood was answered (mostly 429 once 5 failures are counted). The peer, in a third phase, is a flood
of the API's cheapest refusal at the same rate (``GET /auth/me`` without a token: 401, no database, no Redis):
what any 200 requests/s cost through Serve, login or not. A last phase without a flood shows how much the
machine drifts on its own (it is shared: the ratios are only as steady as it is).

    .venv/bin/python -m benchmarks.login_flood --out benchmarks/results/login_flood.json
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any
from uuid import uuid4

from benchmarks.lpr import body_template
from benchmarks.report import base_parser, publish
from benchmarks.serving import serve_proxy, summary
from benchmarks.watch import live_clients
from runtime.local_ray import init_local_ray

PASSWORD = "benchmark password"
CAMERA = "test://pattern?w=640&h=360&fps=25"


# --- clients (run in child processes) -----------------------------------------------------


async def fixed_rate(host: str, port: int, rate: float, seconds: float, connections: int,
                     make: Callable[[int], bytes]) -> dict[str, Any]:
    """Requests ``make(n)`` at a fixed rate over keep-alive connections (raw HTTP/1.1, a few µs of CPU each, so
    the load generator does not take the CPU the servers need); latency from each request's scheduled time (a
    stalled server is not hidden by a client that waits for it). A tick with no idle connection is skipped."""
    codes: Counter[int] = Counter()
    samples: dict[int, str] = {}  # the first answer of each status, to tell whose refusal it was
    latencies: list[float] = []
    idle: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = asyncio.Queue()
    for _ in range(connections):
        idle.put_nowait(await asyncio.open_connection(host, port))
    skipped = 0
    in_flight: set[asyncio.Task[None]] = set()

    async def send(n: int, scheduled: float) -> None:
        reader, writer = idle.get_nowait()
        writer.write(make(n))
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            length = next(int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                          if line.lower().startswith(b"content-length:"))
            body = await reader.readexactly(length)
            status = int(head.split(b" ", 2)[1])
            codes[status] += 1
            samples.setdefault(status, body[:200].decode(errors="replace"))
            idle.put_nowait((reader, writer))
        except (OSError, asyncio.IncompleteReadError, StopIteration):
            codes[0] += 1
            writer.close()
            idle.put_nowait(await asyncio.open_connection(host, port))
        latencies.append((time.monotonic() - scheduled) * 1000)

    started = time.monotonic()
    n = 0
    while (scheduled := started + n / rate) < started + seconds:
        await asyncio.sleep(max(0.0, scheduled - time.monotonic()))
        if idle.empty():
            skipped += 1
        else:
            task = asyncio.create_task(send(n, scheduled))
            in_flight.add(task)
            task.add_done_callback(in_flight.discard)
        n += 1
    await asyncio.gather(*in_flight)
    return {"rate_per_s": rate, "sent": sum(codes.values()), "codes": dict(codes), "skipped": skipped,
            "latency_ms": summary(latencies), "samples": samples}


def _post(host: str, path: str, body: bytes) -> bytes:
    return (b"POST %s HTTP/1.1\r\nhost: %s\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n%s"
            % (path.encode(), host.encode(), len(body), body))


async def webhook_client(host: str, port: int, paths: list[str], template: str, rate: float, seconds: float,
                         phase: int) -> dict[str, Any]:
    """Intelbras pushes, each a distinct plate and event id, round-robin over the LPR cameras."""
    def push(n: int) -> bytes:
        at = datetime.now().strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]
        body = (template.replace("@PLATE@", f"ABC{n % 10000:04d}").replace("@TIME@", at)
                .replace("@EVENT@", f"{phase}{n:09d}"))
        return _post(host, paths[n % len(paths)], body.encode())

    return await fixed_rate(host, port, rate, seconds, 64, push)


async def flood_client(host: str, port: int, rate: float, seconds: float, request: str) -> dict[str, Any]:
    """Login attempts with random usernames and passwords, or the peer: the cheapest refusal the API has
    (``GET /auth/me`` without a token: 401, no database, no Redis)."""
    rng = random.Random(3)

    def attempt(_: int) -> bytes:
        if request == "me":
            return b"GET /api/v1/auth/me HTTP/1.1\r\nhost: %s\r\n\r\n" % host.encode()
        body = json.dumps({"username": f"u{rng.getrandbits(40):x}", "password": f"p{rng.getrandbits(64):x}"})
        return _post(host, "/api/v1/auth/login", body.encode())

    return await fixed_rate(host, port, rate, seconds, 256, attempt)


def start_client(kind: str, args: dict[str, Any]) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "benchmarks.login_flood", "--client", kind, json.dumps(args)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def result_of(child: subprocess.Popen[str], timeout_s: float) -> dict[str, Any]:
    out, err = child.communicate(timeout=timeout_s)
    if child.returncode != 0:
        raise RuntimeError(f"client failed: {err[-2000:]}")
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return result


# --- the run ---------------------------------------------------------------------------------


def phase(port: int, live_url: str, paths: list[str], template: str, args: argparse.Namespace, number: int,
          flood: str | None) -> dict[str, Any]:
    flooding = None
    if flood:  # running before the measured clients start, and until after they end
        flooding = start_client("flood", {"host": "127.0.0.1", "port": port, "rate": args.flood_rate,
                                          "seconds": args.window + 6, "request": flood})
        time.sleep(3)
    live = start_client("live", {"url": live_url, "viewers": args.viewers, "seconds": args.window})
    hooks = start_client("webhooks", {"host": "127.0.0.1", "port": port, "paths": paths, "template": template,
                                      "rate": args.webhook_rate, "seconds": args.window, "phase": number})
    result = {"live": result_of(live, args.window + 120), "webhooks": result_of(hooks, args.window + 120)}
    if flooding is not None:
        result["flood"] = result_of(flooding, args.window + 120)
    return result


def main() -> None:
    parser = base_parser(__doc__, warmup_s=10)
    parser.set_defaults(window=45.0)
    parser.add_argument("--viewers", type=int, default=5)
    parser.add_argument("--webhook-rate", type=float, default=20.0, help="LPR pushes per second")
    parser.add_argument("--flood-rate", type=float, default=200.0, help="login attempts per second")
    parser.add_argument("--client", help=argparse.SUPPRESS)
    parser.add_argument("client_args", nargs="?", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.client:
        params = json.loads(args.client_args)
        clients = {"live": live_clients, "webhooks": webhook_client, "flood": flood_client}
        print(json.dumps(asyncio.run(clients[args.client](**params))))
        return
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    run(args)


def run(args: argparse.Namespace) -> None:
    import ray

    from domain.settings import Settings
    from tests.support.databases import create_database, drop_database
    from tests.support.ports import free_port
    from tests.support.system import REDIS_URL, drop_redis_keys, start_system

    work = Path(tempfile.mkdtemp(prefix="gtv-login-flood-"))
    database_url = asyncio.run(create_database())
    prefix = f"gtv-bench-{uuid4().hex[:8]}:"
    port = free_port()
    settings = Settings(database_url=database_url, object_store_url=(work / "objects").as_uri(),
                        public_url=f"http://127.0.0.1:{port}", secret=uuid4().hex, api_port=port,
                        bus_url=f"{REDIS_URL}?prefix={prefix}", spool_dir=str(work / "spool"),
                        clip_work_dir=str(work / "clips"))
    init_local_ray(include_dashboard=False, log_to_driver=False, namespace=settings.namespace)
    runtime, api = start_system(settings, PASSWORD)
    try:
        token = api.post("/auth/login", json={"username": "admin", "password": PASSWORD}).json()["access_token"]
        auth = {"authorization": f"Bearer {token}"}
        tenant = api.post("/tenants", json={"name": "Bench City"}, headers=auth).json()["id"]
        camera = api.post("/cameras", headers=auth, json={"name": "pattern", "tenant_id": tenant,
                                                          "rtsp_url": CAMERA}).json()["id"]
        paths = []
        for i in range(4):
            lpr = api.post("/cameras", headers=auth, json={"name": f"lpr {i}", "tenant_id": tenant,
                                                           "rtsp_url": f"rtsp://127.0.0.1:1/{i}", "enabled": False})
            paths.append(api.post(f"/cameras/{lpr.json()['id']}/lpr-credentials", headers=auth).json()["intelbras"])
        media = api.post(f"/cameras/{camera}/media-token", headers=auth, params={}).json()["token"]
        live_url = f"ws://127.0.0.1:{port}/api/v1/cameras/{camera}/live?token={media}&meta=1"
        time.sleep(args.warmup)
        template = body_template(None)
        without = phase(port, live_url, paths, template, args, 1, flood=None)
        with_flood = phase(port, live_url, paths, template, args, 2, flood="login")
        time.sleep(5)
        # The peer: as many of the cheapest requests the API refuses; what any flood of requests costs here.
        with_peer = phase(port, live_url, paths, template, args, 3, flood="me")
        time.sleep(5)
        after = phase(port, live_url, paths, template, args, 4, flood=None)  # how much the machine alone drifts
        admin_after = api.post("/auth/login", json={"username": "admin", "password": PASSWORD}).status_code
    finally:
        runtime.stop()
        ray.shutdown()
        asyncio.run(drop_database(database_url))
        asyncio.run(drop_redis_keys(prefix))
        subprocess.run(["rm", "-rf", str(work)], check=False)

    def ratio(key: str) -> float:
        return round(with_flood[key]["latency_ms"]["p99"] / max(1e-9, without[key]["latency_ms"]["p99"]), 2)

    publish("login_flood", {
        "login_flood_live_p99_ratio": ratio("live"),
        "login_flood_webhook_p99_ratio": ratio("webhooks"),
        "live_p99_ms": {"without": without["live"]["latency_ms"]["p99"], "with": with_flood["live"]["latency_ms"]["p99"]},
        "webhook_p99_ms": {"without": without["webhooks"]["latency_ms"]["p99"],
                           "with": with_flood["webhooks"]["latency_ms"]["p99"]},
        "peer_flood_p99_ms": {"live": with_peer["live"]["latency_ms"]["p99"],
                              "webhook": with_peer["webhooks"]["latency_ms"]["p99"]},
        "peer_flood_answers": with_peer["flood"]["codes"],
        "peer_flood_sent_per_s": round(with_peer["flood"]["sent"] / (args.window + 6), 1),
        "after_flood_p99_ms": {"live": after["live"]["latency_ms"]["p99"],
                               "webhook": after["webhooks"]["latency_ms"]["p99"]},
        "flood_answers": with_flood["flood"]["codes"],
        "flood_sent_per_s": round(with_flood["flood"]["sent"] / (args.window + 6), 1),
        "admin_login_from_the_flooding_address_after": admin_after,
        "goals": {"login_flood_live_p99_ratio": 1.2, "login_flood_webhook_p99_ratio": 1.2},
        "setup": {"camera": CAMERA, "viewers": args.viewers, "webhook_rate_per_s": args.webhook_rate,
                  "flood_rate_per_s": args.flood_rate, "window_s": args.window,
                  "limits": f"{settings.login_failures_per_minute} failures/min per address and per username",
                  "password_checks_at_once": settings.password_checks_at_once or "half the node's cores",
                  "bus": "Redis",
                  "serve_proxy": serve_proxy()},
        "without_flood": without,
        "with_flood": with_flood,
        "with_peer_flood": with_peer,
        "after_flood": after,
    }, args.out)


if __name__ == "__main__":
    main()
